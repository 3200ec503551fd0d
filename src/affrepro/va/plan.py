"""Which Aff-Wild2 trials the VA workflow processes, where their files live, and how they are sharded.

Jobs are planned at parse time, before the demo data exist, so the demo's
trial names come from the generator's parameters, a real root's from its
annotation folders. Only annotated trials (train + validation) enter the
six-fold cross-validation of Table 2; test trials are listed by the loader
but not processed.
"""

from __future__ import annotations

from pathlib import Path

from affrepro.data import affwild2
from affrepro.demo.affwild2 import trial_names

DEMO_ROOT = Path("work/data/affwild2")
WORK = Path("work/va")
EXTRACTORS = ("iresnet50", "vggish", "mfcc")
AUDIO_EXTRACTORS = ("vggish", "mfcc")


def dataset_root(config: dict) -> Path:
    root = config["datasets"]["affwild2"]["root"]
    return DEMO_ROOT if root is None else Path(root)


def trials(config: dict) -> list[str]:
    """Annotated trial names (train then validation), the cross-validation pool."""
    if config["datasets"]["affwild2"]["root"] is None:
        names = trial_names(config["demo"]["affwild2"])
        return names["train"] + names["valid"]
    return [t.name for t in affwild2.list_trials(dataset_root(config)) if t.split != "test"]


def shard(config: dict, k: int, n_shards: int) -> list[str]:
    return trials(config)[k::n_shards]


def n_shards(config: dict) -> int:
    return min(config["va"]["preprocess"]["shards"], len(trials(config)))


def trial_path(name: str) -> Path:
    return WORK / "trials" / f"{name}.npz"


def audio_path(name: str) -> Path:
    return WORK / "audio" / f"{name}.wav"


def features_path(extractor: str, name: str) -> Path:
    return WORK / "features" / extractor / f"{name}.npz"
