"""Which samples the EMI workflow processes, where their files live, and how they are sharded.

The workflow plans its jobs at parse time, before the demo data exist, so the
demo's sample ids come from the generator's parameters (a pure function), and
a real root's from its split CSVs and raw/ folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from affrepro.data import hume
from affrepro.demo.hume import sample_ids

DEMO_ROOT = Path("work/data/hume_vidmimic2")
WORK = Path("work/emi")


@dataclass(frozen=True)
class PlannedSample:
    key: str  # file id as text: names every per-sample file
    partition: str


def dataset_root(config: dict) -> Path:
    root = config["datasets"]["hume_vidmimic2"]["root"]
    return DEMO_ROOT if root is None else Path(root)


def samples(config: dict) -> list[PlannedSample]:
    if config["datasets"]["hume_vidmimic2"]["root"] is None:
        ids = sample_ids(config["demo"]["hume_vidmimic2"])
        return [PlannedSample(str(i), part) for part in hume.PARTITIONS for i in ids[part]]
    return [PlannedSample(str(s.file_id), s.partition) for s in hume.load_samples(dataset_root(config))]


def shard(config: dict, k: int, n_shards: int) -> list[PlannedSample]:
    return samples(config)[k::n_shards]


def videos(config: dict) -> dict[str, Path]:
    """Sample key -> video path (reads the dataset, so only call once it exists)."""
    return {str(s.file_id): s.video for s in hume.load_samples(dataset_root(config))}


def faces_path(key: str) -> Path:
    return WORK / "faces" / f"{key}.npz"


def audio_path(key: str) -> Path:
    return WORK / "audio" / f"{key}.wav"


def features_path(extractor: str, key: str) -> Path:
    return WORK / "features" / extractor / f"{key}.npz"
