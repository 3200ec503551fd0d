"""Which samples the EMI workflow processes, how they are sharded, and what its jobs cost.

The workflow plans its jobs at parse time, before the demo data exist, so the
demo's sample ids come from the generator's parameters (a pure function), and
a real root's from its split CSVs and raw/ folder. Paths are the rules'
business: every function here takes the dataset root it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affrepro.data import hume
from affrepro.demo.hume import sample_ids
from affrepro.features import au, dino, resnet, wav2vec2

# The shard a per-sample stage writes lists each sample's file; downstream jobs read paths from there.
SAMPLE_FILE = "file"


@dataclass(frozen=True)
class PlannedSample:
    key: str  # file id as text: names every per-sample file
    partition: str


def is_demo(config: dict) -> bool:
    return config["datasets"]["hume_vidmimic2"]["root"] is None


def samples(config: dict, root: str | Path) -> list[PlannedSample]:
    if is_demo(config):
        ids = sample_ids(config["demo"]["hume_vidmimic2"])
        return [PlannedSample(str(i), part) for part in hume.PARTITIONS for i in ids[part]]
    return [PlannedSample(str(s.file_id), s.partition) for s in hume.load_samples(Path(root))]


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
    return {str(s.file_id): s.video for s in hume.load_samples(Path(root))}


def labelled_splits(config: dict, root: str | Path) -> dict[str, tuple[list[str], np.ndarray | None]]:
    """partition -> (sample keys, labels (N, 6) or None for test), in the plan's order."""
    by_key = {str(s.file_id): s for s in hume.load_samples(Path(root))}
    planned = samples(config, root)
    out = {}
    for partition in hume.PARTITIONS:
        keys = [s.key for s in planned if s.partition == partition]
        if keys:
            out[partition] = (keys, None if partition == "test" else np.stack([by_key[k].labels for k in keys]))
    return out


def feature_dim(config: dict, extractor: str) -> int:
    """Width of an extractor's features, from its module; wav2vec2's from the checkpoint's config (read, not loaded)."""
    if extractor == "wav2vec2":
        return wav2vec2.feature_dim(config["extractors"]["wav2vec2"])
    return {"resnet18": resnet.DIM, "au": au.DIM, "dino": dino.VIT_S16["hidden_size"]}[extractor]


def used_extractors(config: dict) -> list[str]:
    return sorted({e for spec in config["emi"]["feature_sets"].values() for e in spec["extractors"]})


def train_mem_mb(config: dict, feature_set: str, n_samples: int) -> int:
    """All sequences of a feature set are held as float32 (N, T, D), with room for a copy and the model."""
    dim = sum(feature_dim(config, e) for e in config["emi"]["feature_sets"][feature_set]["extractors"])
    return 2000 + 3 * n_samples * config["emi"]["train"]["seq_len"] * dim * 4 // 2**20
