"""The config keys each VA job reads (affrepro.jobconfig): a job reruns when, and only when, one of them changes.

Here rather than in the job modules, which import torch: the workflow reads these while it plans.
"""

from __future__ import annotations

from affrepro import substitutes
from affrepro.va import plan

COMPUTE = ["compute.device", "compute.precision"]


def train(config: dict, **_) -> list[str]:
    keys = COMPUTE + ["va.seed", "va.extractors", "va.model", "va.train", "va.cv.folds"]
    return keys + substitutes.keys(config, "va", list(config["va"]["extractors"]))


KEYS = {
    "demo.affwild2": lambda config, **_: ["demo.affwild2"],
    "va.prepare": lambda config, **_: (
        plan.trial_keys(config) + ["va.preprocess.frame_size", "va.preprocess.sample_rate"]
    ),
    # MFCC has no settings of its own
    "va.features": lambda config, va_extractor, **_: (
        COMPUTE + ([] if va_extractor == "mfcc" else [f"extractors.{va_extractor}"])
    ),
    "va.folds": lambda config, **_: ["va.cv"],
    "va.pack": lambda config, **_: plan.trial_keys(config),
    "va.train": train,
}
