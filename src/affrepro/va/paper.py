"""The VA paper (Aff-Wild2, valence-arousal) as the shared code sees it (affrepro.registry)."""

from __future__ import annotations

from affrepro.registry import Dataset, Paper
from affrepro.va import costs


def history_runs(metrics: dict) -> dict[str, list[dict]]:
    """A fold job's metrics file: one history, labelled <protocol>/fold<k>."""
    return {f"{metrics['protocol']}/fold{metrics['fold']}": metrics["history"]}


def describe_affwild2(location: str) -> str:
    from affrepro.data import affwild2

    trials = affwild2.list_trials(location)
    by = {s: sum(t.split == s for t in trials) for s in ("train", "valid", "test")}
    return f"{len(trials)} trials ({by['train']} train, {by['valid']} validation annotated, {by['test']} test)"


def work_bytes(config: dict) -> float:
    """Per annotated frame: every extractor's float32 features twice (per-sample files, then the packed store)."""
    from affrepro import resources
    from affrepro.features import iresnet, mfcc, vggish

    widths = {"iresnet50": iresnet.DIM, "vggish": vggish.DIM, "mfcc": mfcc.DIM}
    frames = resources.COSTS["dataset_sizes"]["affwild2_va_annotated_frames"]
    return frames * 2 * 4 * sum(widths[e] for e in config["va"]["extractors"])


PAPER = Paper(
    key="va",
    name="VA",
    title="The VA paper: Aff-Wild2 -> 48x48 frames + audio -> IResNet-50 / VGGish / MFCC -> six-fold CV -> Tables 1-2",
    datasets={"affwild2": Dataset("Aff-Wild2", "work/data/affwild2", "root", describe_affwild2)},
    # Its frames and audio settings are va.preprocess; the top-level preprocess block is EMI's.
    config_keys=(
        "allow_substitutes",
        "compute.device",
        "compute.precision",
        "datasets.affwild2",
        "extractors.iresnet50",
        "extractors.vggish",
        "va",
        "demo.affwild2",
        "demo.overrides.compute",
        "demo.overrides.extractors.iresnet50",
        "demo.overrides.extractors.vggish",
        "demo.overrides.va",
    ),
    history_runs=history_runs,
    work_bytes=work_bytes,
    frames_per_item=costs.frames_per_trial,
)
