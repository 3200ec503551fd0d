"""Which Aff-Wild2 trials the VA workflow processes, and how they are sharded.

Jobs are planned at parse time, before the demo data exist, so the demo's
trial names come from the generator's parameters, a real root's from its
annotation folders. Only annotated trials (train + validation) enter the
six-fold cross-validation of Table 2; test trials are listed by the loader
but not processed. The dataset root is the rules' to give (the configured
root, or where the demo rule writes the demo); nothing here names a workflow path.
"""

from __future__ import annotations

from pathlib import Path

from affrepro.config.resolve import uses_demo
from affrepro.data import DatasetError, affwild2
from affrepro.demo.affwild2 import trial_names

EXTRACTORS = ("iresnet50", "vggish", "mfcc")
AUDIO_EXTRACTORS = ("vggish", "mfcc")


def trial_keys(config: dict) -> list[str]:
    """The config keys `annotated` (and so `trials`, `shard`) reads."""
    return ["datasets.affwild2"] + (["demo.affwild2"] if uses_demo(config, "va") else [])


def annotated(config: dict, root: str | Path) -> dict[str, list[str]]:
    """Annotated trial names per split (train, valid), each in the loader's order."""
    if uses_demo(config, "va"):
        names = trial_names(config["demo"]["affwild2"])
        return {split: names[split] for split in affwild2.SPLITS}
    listed = affwild2.list_trials(root)
    return {split: [t.name for t in listed if t.split == split] for split in affwild2.SPLITS}


def check_pool(config: dict, root: str | Path) -> None:
    """Start-up check of a real root: its annotated videos can fill every fold (affrepro.va.folds deals videos, pairs together)."""
    videos, folds = {affwild2.video_group(name) for name in trials(config, root)}, config["va"]["cv"]["folds"]
    if len(videos) < folds:
        raise DatasetError(
            f"{Path(root) / affwild2.ANNOTATIONS}: {len(videos)} annotated video(s) cannot fill va.cv.folds = "
            f"{folds} folds; lower va.cv.folds or add trials"
        )


def trials(config: dict, root: str | Path) -> list[str]:
    """Annotated trial names (train then validation), the cross-validation pool."""
    return [name for names in annotated(config, root).values() for name in names]


# Folders from an annotation file up to the dataset root (VA_Estimation_Challenge/<split>/<trial>.txt).
ANNOTATION_DEPTH = len(affwild2.annotation_path("", "train", "trial").parts)


def annotation_files(config: dict, root: str | Path) -> list[str]:
    """The annotation file of every trial in the pool (the demo rule's outputs, the prepare jobs' inputs)."""
    return [
        str(affwild2.annotation_path(root, split, name))
        for split, names in annotated(config, root).items()
        for name in names
    ]


def shard(config: dict, root: str | Path, k: int, n_shards: int) -> list[str]:
    return trials(config, root)[k::n_shards]


def shard_files(config: dict, root: str | Path, k: int, n_shards: int) -> list[str]:
    """The raw files a prepare shard of a real root reads: each trial's annotation file and video ([] for the
    demo, whose files the workflow writes). The face crops are not listed: two million files to stat at
    every start of the workflow (docs/running.md, "What reruns")."""
    if uses_demo(config, "va"):
        return []
    names = set(shard(config, root, k, n_shards))
    listed = [t for t in affwild2.list_trials(root) if t.name in names]
    return [str(path) for t in listed for path in (t.annotation, affwild2.video_path(root, t))]


def n_shards(config: dict, root: str | Path) -> int:
    return min(config["va"]["preprocess"]["shards"], len(trials(config, root)))
