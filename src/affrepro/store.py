"""Packed feature store: one array per extractor and split, with an offset index per sample.

The features stages write one small .npz per sample (a shard job's natural
output). Training reads a packed copy instead, so that its memory does not grow
with the dataset and a cluster file system sees a few large files rather than
tens of thousands of small ones. A store is one folder per extractor, and a
manifest beside it (the pack job's output, written last):

    <store>/<split>.npy          float32 (rows, D): every sample's rows, one after another (plain .npy)
    <store>/<split>.index.npz    keys (N,), offsets (N + 1,) int64, frame_index (rows,) int64
    <store>.json                 the folder, the extractor's provenance, dim, and per split the samples and rows

Rows are read with positioned reads (`os.preadv`) into fresh arrays rather
than through a memory map: mapped pages would count in the job's resident
memory and grow to the whole file over an epoch, while read pages stay in the
kernel's page cache, which the kernel shares and reclaims. Only the indexes
(about 8 bytes per frame) are held in memory. The pack jobs are affrepro.pack.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from affrepro.features import load_features
from affrepro.files import atomic_path, read_json, write_json, write_npz


def read_npy_header(handle) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of the .npy whose start `handle` is at; leaves it at the first data byte."""
    version = np.lib.format.read_magic(handle)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(handle)
    return shape, dtype


def npz_shape(path: Path, array: str = "features") -> tuple[int, ...]:
    """Shape of one array of an (uncompressed) .npz, from its header alone."""
    with zipfile.ZipFile(path) as archive, archive.open(f"{array}.npy") as member:
        return read_npy_header(member)[0]


def write_rows(
    out_dir: Path, split: str, samples: Iterable[tuple[str, np.ndarray, np.ndarray]], lengths: list[int], dim: int
) -> dict:
    """Write <split>.npy and <split>.index.npz from (key, features (T, dim), frame index (T,)) in order, one sample at a time.

    `lengths` (each sample's T, in order) sizes the file up front, so no sample is held longer than it is written.
    """
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    frame_index = np.empty(offsets[-1], np.int64)
    keys = []
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
        "fortran_order": False,
        "shape": (int(offsets[-1]), dim),
    }
    with atomic_path(out_dir / f"{split}.npy") as tmp, open(tmp, "wb") as out:
        np.lib.format.write_array_header_1_0(out, header)
        for i, (key, features, frames) in enumerate(samples):
            if features.shape != (lengths[i], dim) or len(frames) != lengths[i]:
                raise ValueError(
                    f"split {split}, sample {key}: {features.shape} features and {len(frames)} frame indices, expected ({lengths[i]}, {dim})"
                )
            out.write(np.ascontiguousarray(features, np.float32).tobytes())
            frame_index[offsets[i] : offsets[i + 1]] = frames
            keys.append(key)
        if len(keys) != len(lengths):
            raise ValueError(f"split {split}: {len(keys)} samples written, {len(lengths)} expected")
    write_npz(out_dir / f"{split}.index.npz", keys=np.array(keys, dtype=str), offsets=offsets, frame_index=frame_index)
    return {"samples": len(keys), "rows": int(offsets[-1]), "dim": dim}


def write_split(out_dir: Path, split: str, samples: list[tuple[str, Path]]) -> dict:
    """Pack [(key, feature file)] into <split>.npy and <split>.index.npz."""
    shapes = [npz_shape(path) for _, path in samples]
    dims = {shape[1] for shape in shapes}
    if len(dims) > 1:
        raise ValueError(
            f"split {split}: feature files of different widths {sorted(dims)} (e.g. {samples[0][1]}); rerun the features jobs"
        )

    def read():
        for key, path in samples:
            features, frames, _ = load_features(path)
            yield key, features, frames

    return write_rows(out_dir, split, read(), [shape[0] for shape in shapes], dims.pop() if dims else 0)


def pack(
    extractor: str,
    splits: dict[str, list[str]],
    files: dict[str, Path],
    out_dir: Path,
    manifest: Path,
    info: dict | None = None,
) -> dict:
    """Pack every split's samples (in the given order) into `out_dir`; `manifest`, written last, describes the store."""
    missing = [key for keys in splits.values() for key in keys if key not in files]
    if missing:
        raise ValueError(
            f"{extractor}: no feature file for samples {missing[:5]} in the features manifests given; rerun their features jobs"
        )
    written = {
        split: write_split(out_dir, split, [(key, files[key]) for key in keys]) for split, keys in splits.items()
    }
    dims = {entry["dim"] for entry in written.values()}
    if len(dims) > 1:
        raise ValueError(f"{extractor}: splits have different feature widths {sorted(dims)}; rerun the features jobs")
    store = {
        "directory": str(out_dir),
        "extractor": extractor,
        "dim": dims.pop(),
        "splits": written,
        "features": info or {},
    }
    write_json(manifest, store)
    return store


class PackedSplit:
    """Read access to one split of a store: every sample's rows and frame indices, by key."""

    def __init__(self, directory: Path, split: str):
        self.path = Path(directory) / f"{split}.npy"
        with np.load(Path(directory) / f"{split}.index.npz") as index:
            self.keys = [str(k) for k in index["keys"]]
            self.offsets = index["offsets"]
            self.frame_index = index["frame_index"]
        self.position = {key: i for i, key in enumerate(self.keys)}
        with open(self.path, "rb") as handle:
            shape, dtype = read_npy_header(handle)
            self.data_start = handle.tell()
        self.dim = int(shape[1]) if len(shape) == 2 else 0
        expected_size = self.data_start + int(self.offsets[-1]) * self.dim * 4
        if (
            dtype != np.float32
            or len(shape) != 2
            or shape[0] != self.offsets[-1]
            or self.path.stat().st_size != expected_size
        ):
            raise ValueError(
                f"{self.path}: {shape} {dtype}, {self.path.stat().st_size} bytes, does not match its index "
                f"({int(self.offsets[-1])} float32 rows, {expected_size} bytes); rerun its pack job"
            )
        self._fd = os.open(self.path, os.O_RDONLY)

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def __contains__(self, key: str) -> bool:
        return key in self.position

    def __len__(self) -> int:
        return len(self.keys)

    def length(self, key: str) -> int:
        i = self.position[key]
        return int(self.offsets[i + 1] - self.offsets[i])

    def frames(self, key: str) -> np.ndarray:
        i = self.position[key]
        return self.frame_index[self.offsets[i] : self.offsets[i + 1]]

    def rows(self, key: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows [start, stop) of sample `key` as a new (n, D) float32 array."""
        length = self.length(key)
        stop = length if stop is None else min(stop, length)
        out = np.empty((max(stop - start, 0), self.dim), np.float32)
        if not out.size:
            return out
        view, position = (
            memoryview(out).cast("B"),
            self.data_start + (int(self.offsets[self.position[key]]) + start) * self.dim * 4,
        )
        while len(view):
            n = os.preadv(self._fd, [view], position)
            if n == 0:
                raise ValueError(f"{self.path}: ends before the rows its index lists; rerun its pack job")
            view, position = view[n:], position + n
        if not np.isfinite(out).all():
            raise ValueError(
                f"{self.path}: sample {key} holds non-finite values (NaN or inf) in rows {start}-{stop}; "
                "the store is damaged or its features are: rerun its pack job, and the sample's features job if it persists"
            )
        return out


def open_store(manifest: str | Path) -> dict[str, PackedSplit]:
    """split -> PackedSplit of the store that `manifest` (a pack job's output) describes."""
    store = read_json(manifest)
    return {split: PackedSplit(Path(store["directory"]), split) for split in store["splits"]}


def sample_files(manifests: Iterable[dict]) -> dict[str, Path]:
    """Sample key -> feature file, from features shard manifests (EMI's `samples`, VA's `trials`)."""
    files = {}
    for manifest in manifests:
        for key, entry in manifest.get("samples", manifest.get("trials", {})).items():
            files[key] = Path(entry["file"])
    return files


def iter_rows(split: PackedSplit, keys: Iterable[str]) -> Iterator[np.ndarray]:
    for key in keys:
        yield split.rows(key)
