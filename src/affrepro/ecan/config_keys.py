"""The config keys each ECAN job reads (affrepro.jobconfig): a job reruns when, and only when, one of them changes.

Here rather than in the job modules, which import torch: the workflow reads these while it plans.
"""

from __future__ import annotations

from affrepro import substitutes
from affrepro.ecan import plan


def train(config: dict, setting: str, **_) -> list[str]:
    """A training job: its dataset's settings, never the other dataset's."""
    dataset = plan.parse_setting(setting)["dataset"]
    keys = ["compute.device", "compute.precision", "ecan.loss", "ecan.model", "ecan.train", "ecan.seeds"]
    keys += [f"ecan.{dataset}", f"ecan.augment.{dataset}", f"datasets.{dataset}"]
    return keys + substitutes.keys(config, "ecan", [dataset])


KEYS = {
    "demo.expressions": lambda config, dataset, **_: [f"demo.{dataset}"],
    "ecan.train": train,
    "ecan.aggregate": lambda config, **_: ["ecan.experiments", "ecan.defaults", "ecan.seeds"],  # plan.group_runs
    "ecan.stats": lambda config, **_: ["ecan.augment", "datasets.rafdb", "datasets.fer2013"],
    # data_label: which data are demo, whose budget
    "ecan.figures": lambda config, **_: [
        "profile",
        "datasets.rafdb",
        "datasets.fer2013",
        "ecan.train",
        "ecan.rafdb",
        "ecan.fer2013",
    ],
}
