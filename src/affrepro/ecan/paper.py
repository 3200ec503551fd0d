"""The ECAN paper (RAF-DB, FER2013, facial expression classes) as the shared code sees it (affrepro.registry)."""

from __future__ import annotations

from pathlib import Path

from affrepro.declarations import Dataset, Encoder, Paper, Plot


def history_runs(metrics: dict) -> dict[str, list[dict]]:
    """A training job's metrics file (one run): its history, labelled by the run id."""
    return {metrics["run_id"]: metrics["history"]}


def describe_rafdb(location: str) -> str:
    from affrepro.data import rafdb

    labels = rafdb.read_labels(Path(location))
    train = sum(n.startswith("train") for n, _ in labels)
    return f"{len(labels)} images ({train} train, {len(labels) - train} test)"


def describe_fer2013(location: str) -> str:
    from affrepro.data import fer2013

    return ", ".join(f"{n} {usage}" for usage, n in fer2013.usage_counts(location).items())


def checks(config: dict) -> list:
    """The encoder checkpoints: the paper pretrains RAF-DB's on MS-Celeb-1M; FER2013's may be `random` (start-up
    refuses null)."""
    from affrepro.check import weight_item
    from affrepro.features import resnet

    return [
        weight_item("ecan", f"ecan.{dataset}.weights", config["ecan"][dataset]["weights"], resnet.build)
        for dataset in ("rafdb", "fer2013")
        if dataset == "rafdb" or config["ecan"][dataset]["weights"] is None
    ]


def group_runs(config: dict, group: str) -> list[str]:
    from affrepro.ecan import plan

    return plan.group_run_ids(config, group)


def run_scores() -> dict[str, tuple[str, float]]:
    from affrepro.ecan.aggregate import SUMMARY_METRICS

    return {name: (metric, scale) for metric, scale, name in SUMMARY_METRICS}


# A training job's checkpoint (affrepro.training): the ResNet-18's float32 weights (11.2 M with a 7-class head),
# the SGD momentum and ECAN's key encoder, i.e. three copies; the bank is small. The FER2013 pilot's were
# 134 MB (CE) and 138 MB (ECAN).
CHECKPOINT_BYTES = 3 * 4 * 11.2e6


def work_bytes(config: dict) -> float:
    """The runs' metrics files are small; a run's checkpoint stays while it trains and after it was stopped,
    so at most one per planned run."""
    from affrepro.ecan import plan

    return len(plan.runs(config)) * CHECKPOINT_BYTES


PAPER = Paper(
    key="ecan",
    name="ECAN",
    title="The ECAN paper: RAF-DB / FER2013 -> ResNet-18 runs -> Tables 1-5, Figures 3, 4, 6, 7",
    datasets={
        "rafdb": Dataset("RAF-DB", "work/data/rafdb", "root", describe_rafdb),
        "fer2013": Dataset("FER2013", "work/data/fer2013/fer2013.csv.gz", "path", describe_fer2013),
    },
    history_runs=history_runs,
    work_bytes=work_bytes,
    checks=checks,
    encoder=Encoder("ResNet-18", "torchvision", ("rafdb", "fer2013"), {"rafdb": "MS-Celeb-1M"}),
    group_runs=group_runs,
    run_scores=run_scores,
    figure_plots={
        "figure3": Plot(
            "lines_by_parameter",
            "ECAN Figure 3: test accuracy (%) against lambda1 / lambda2",
            "figure3.csv",
            "value",
            "accuracy_pct",
        ),
        "figure4": Plot(
            "simple",
            "ECAN Figure 4: test accuracy (%) against the number of feature groups V",
            "figure4.csv",
            "V",
            "accuracy_pct",
        ),
        "figure6": Plot(
            "bars_by_dataset", "ECAN Figure 6: training images per class", "figure6.csv", "train_images", "class"
        ),
        "figure7": Plot(
            "confusion_heatmap", "ECAN Figure 7: test confusion matrices (row %)", "figure7.csv", "predicted", "true"
        ),
    },
)
