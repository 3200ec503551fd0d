"""Which samples the EMI workflow processes, how they are sharded, and what its jobs cost.

The workflow plans its jobs at parse time, before the demo data exist, so the
demo's sample ids come from the generator's parameters (a pure function), and
a real root's from its split CSVs and raw/ folder. Paths are the rules'
business: every function here takes the dataset root it reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from affrepro.data import hume
from affrepro.demo.hume import sample_ids
from affrepro.features import widths

# The shard a per-sample stage writes lists each sample's file; downstream jobs read paths from there.
SAMPLE_FILE = "file"


@dataclass(frozen=True)
class PlannedSample:
    key: str  # file id as text: names every per-sample file
    partition: str


def dataset_samples(root: str | Path) -> list[hume.Sample]:
    """hume.load_samples, read once per state of the root: the workflow asks for every shard's samples while
    it plans, and each read of a real root (17,246 entries) takes about 0.4 s."""
    root = Path(root)
    stamp = tuple(
        os.stat(path).st_mtime_ns if path.exists() else None
        for path in (root / "train_split.csv", root / "valid_split.csv", root / "raw")
    )
    return list(_read_samples(str(root), stamp))


@lru_cache(maxsize=4)
def _read_samples(root: str, stamp: tuple) -> tuple[hume.Sample, ...]:
    return tuple(hume.load_samples(Path(root)))


def sample_keys(config: dict) -> list[str]:
    """The config keys `samples` (and so `shard`, `partition_keys`, `labelled_splits`) reads."""
    return ["datasets.hume_vidmimic2"] + (["demo.hume_vidmimic2"] if is_demo(config) else [])


def is_demo(config: dict) -> bool:
    return config["datasets"]["hume_vidmimic2"]["root"] is None


def samples(config: dict, root: str | Path) -> list[PlannedSample]:
    if is_demo(config):
        ids = sample_ids(config["demo"]["hume_vidmimic2"])
        return [PlannedSample(str(i), part) for part in hume.PARTITIONS for i in ids[part]]
    return [PlannedSample(str(s.file_id), s.partition) for s in dataset_samples(root)]


def n_shards(config: dict, root: str | Path) -> int:
    return min(config["preprocess"]["shards"], len(samples(config, root)))


def shard(config: dict, root: str | Path, k: int, n: int) -> list[PlannedSample]:
    return samples(config, root)[k::n]


def shard_videos(config: dict, root: str | Path, k: int, n: int) -> list[str]:
    """The videos a shard's jobs read (the demo's before they exist, for the workflow's dependencies)."""
    keys = [s.key for s in shard(config, root, k, n)]
    if is_demo(config):
        return [str(Path(root) / "raw" / f"{key}.mp4") for key in keys]
    found = videos(root)
    return [str(found[key]) for key in keys]


def videos(root: str | Path) -> dict[str, Path]:
    """Sample key -> video path (reads the dataset, so only call once it exists)."""
    return {str(s.file_id): s.video for s in dataset_samples(root)}


def partition_keys(config: dict, root: str | Path) -> dict[str, list[str]]:
    """partition -> sample keys, in the plan's order (the order every EMI store and prediction file keeps)."""
    partitions: dict[str, list[str]] = {}
    for sample in samples(config, root):
        partitions.setdefault(sample.partition, []).append(sample.key)
    return partitions


def labelled_splits(config: dict, root: str | Path, left_out=()) -> dict[str, tuple[list[str], np.ndarray | None]]:
    """partition -> (sample keys, labels (N, 6) or None for test), in the plan's order, less the samples `left_out` (on_unreadable: skip)."""
    by_key = {str(s.file_id): s for s in dataset_samples(root)}
    left_out = set(left_out)
    planned = partition_keys(config, root)
    out = {}
    for partition in hume.PARTITIONS:
        keys = [key for key in planned.get(partition, []) if key not in left_out]
        if not keys and partition != "test":
            raise hume.DatasetError(
                f"{Path(root) / f'{partition}_split.csv'}: every sample of the {partition} split was left out as "
                "unreadable (see the prepare logs); fix the videos"
            )
        if keys:
            out[partition] = (keys, None if partition == "test" else np.stack([by_key[k].labels for k in keys]))
    return out


def feature_dim(config: dict, extractor: str) -> int:
    """Width of an extractor's features (affrepro.features.widths: no torch at planning time); wav2vec2's from the checkpoint's config.json."""
    return widths.extractor_width(extractor, config["extractors"])


def feature_set_dim(config: dict, feature_set: str) -> int:
    return sum(feature_dim(config, e) for e in config["emi"]["feature_sets"][feature_set]["extractors"])


def used_extractors(config: dict) -> list[str]:
    return sorted({e for spec in config["emi"]["feature_sets"].values() for e in spec["extractors"]})
