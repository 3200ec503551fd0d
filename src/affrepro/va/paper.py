"""The VA paper (Aff-Wild2, valence-arousal) as the shared code sees it (affrepro.registry)."""

from __future__ import annotations

from affrepro.declarations import Dataset, Paper
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


def config_problems(config: dict) -> list[str]:
    """The attention heads divide the encoder's width, and the demo's trials fill the cross-validation folds."""
    from affrepro.config.resolve import deep_merge

    problems, va = [], config["va"]
    model = deep_merge(va["model"], config["demo"]["overrides"].get("va", {}).get("model", {}))
    if (model["tcn_channels"] * len(va["extractors"])) % model["transformer_heads"]:
        problems.append(
            "va.model.transformer_heads must divide va.model.tcn_channels x the number of va.extractors (the encoder width)"
        )
    demo = config["demo"]["affwild2"]
    labelled = demo["n_train"] + demo["n_valid"]
    if labelled - 1 < va["cv"]["folds"]:  # the `_left`/`_right` pair is one video; every fold needs at least one video
        problems.append(
            f"demo.affwild2: {labelled} annotated trials ({labelled - 1} videos) cannot fill va.cv.folds = {va['cv']['folds']} folds"
        )
    return problems


PAPER = Paper(
    key="va",
    name="VA",
    title="The VA paper: Aff-Wild2 -> 48x48 frames + audio -> IResNet-50 / VGGish / MFCC -> six-fold CV -> Tables 1-2",
    datasets={"affwild2": Dataset("Aff-Wild2", "work/data/affwild2", "root", describe_affwild2)},
    history_runs=history_runs,
    work_bytes=work_bytes,
    frames_per_item=costs.frames_per_trial,
    config_problems=config_problems,
    extractors=lambda config: list(config["va"]["extractors"]),
)
