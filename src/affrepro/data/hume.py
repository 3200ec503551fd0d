"""Hume-Vidmimic2 (ABAW6 EMI): `train_split.csv`, `valid_split.csv`, `raw/<id>.mp4`.

The split CSVs hold the integer file id and the six intensities in [0, 1].
Test ids are the files of `raw/` that are in no split. Raw files are matched
by the integer value of their stem, so `raw/00042.mp4` is id 42.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from affrepro.data import DatasetError

LABELS = ["Admiration", "Amusement", "Determination", "Empathic Pain", "Excitement", "Joy"]
PARTITIONS = ["train", "valid", "test"]
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")


@dataclass(frozen=True)
class Sample:
    file_id: int
    partition: str
    video: Path
    labels: np.ndarray | None  # (6,) float, None for test


def _read_split(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(
            f"{path}: missing. A Hume-Vidmimic2 root needs train_split.csv and valid_split.csv next to raw/; point "
            "datasets.hume_vidmimic2.root at that folder"
        )
    frame = pd.read_csv(path)
    if frame.empty:
        raise DatasetError(
            f"{path}: no sample rows (only a header); every split needs samples. Add its rows, or point "
            "datasets.hume_vidmimic2.root at the complete dataset"
        )
    if frame.shape[1] != 1 + len(LABELS):
        raise DatasetError(f"{path}: expected 7 columns (file id, {', '.join(LABELS)}), found {frame.shape[1]}")
    label_columns = list(frame.columns[1:])
    if [c.strip() for c in label_columns] != LABELS:
        raise DatasetError(f"{path}: label columns are {label_columns}, expected {LABELS}")
    raw_ids = pd.to_numeric(frame.iloc[:, 0], errors="coerce")
    bad_id = raw_ids.isna() | (raw_ids != raw_ids.round())
    if bad_id.any():
        row = int(np.flatnonzero(bad_id.to_numpy())[0])
        raise DatasetError(
            f"{path}: row {row + 2} has file id {frame.iloc[row, 0]!r}; the first column must be the integer file id"
        )
    ids = raw_ids.astype("int64")
    values = frame.iloc[:, 1:].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DatasetError(
            f"{path}: row {row + 2} (id {ids.iloc[row]}) has a label outside [0, 1]; fix or remove that row"
        )
    if ids.duplicated().any():
        raise DatasetError(f"{path}: file id {ids[ids.duplicated()].iloc[0]} appears twice")
    return pd.DataFrame(values, index=ids.to_numpy(), columns=LABELS)


def _raw_files(root: Path) -> dict[int, Path]:
    raw = root / "raw"
    if not raw.is_dir():
        raise DatasetError(f"{raw}: missing; the videos must be in <root>/raw/<id>.mp4")
    files = {}
    for path in sorted(raw.iterdir()):
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        try:
            file_id = int(path.stem)
        except ValueError:
            continue
        if file_id in files:
            raise DatasetError(f"{path}: id {file_id} has two files ({files[file_id].name} and {path.name}); keep one")
        files[file_id] = path
    return files


def load_samples(root: str | Path) -> list[Sample]:
    """All samples, sorted by partition then id; every split id must have a video."""
    root = Path(root)
    files = _raw_files(root)
    samples = []
    seen: set[int] = set()
    for partition in ("train", "valid"):
        split = _read_split(root / f"{partition}_split.csv")
        for file_id, row in split.iterrows():
            if file_id in seen:
                raise DatasetError(f"{root / f'{partition}_split.csv'}: id {file_id} is in more than one split")
            if file_id not in files:
                raise DatasetError(f"{root / 'raw'}: no video for id {file_id} listed in {partition}_split.csv")
            seen.add(int(file_id))
            samples.append(Sample(int(file_id), partition, files[file_id], row.to_numpy(dtype=np.float64)))
    for file_id in sorted(set(files) - seen):
        samples.append(Sample(file_id, "test", files[file_id], None))
    return samples


def fingerprint(root: str | Path) -> str:
    """Content hash of the dataset: split CSVs in full, each raw file's name, size and SHA-256 of its first and last MiB."""
    root = Path(root)
    digest = hashlib.sha256()
    for name in ("train_split.csv", "valid_split.csv"):
        digest.update(name.encode() + (root / name).read_bytes())
    for _file_id, path in sorted(_raw_files(root).items()):
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(-(1 << 20), 2)
                digest.update(handle.read())
    return digest.hexdigest()
