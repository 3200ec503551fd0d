"""The config keys each EMI job reads (affrepro.jobconfig): a job reruns when, and only when, one of them changes.

Here rather than in the job modules, which import torch: the workflow reads these while it plans.
"""

from __future__ import annotations

from affrepro import substitutes
from affrepro.emi import plan

COMPUTE = ["compute.device", "compute.precision"]
EXTRACTOR_KEYS = {"au": ["extractors.openface"], "wav2vec2": ["extractors.wav2vec2", "preprocess.fps"]}
STAGE_KEYS = {
    "faces": COMPUTE + ["preprocess.mtcnn", "preprocess.fps", "preprocess.face_size"],
    "audio": ["preprocess.audio"],
}


def train(config: dict, feature_set: str, **_) -> list[str]:
    """A branch's training job: its feature set's settings, not the other sets'."""
    extractors = config["emi"]["feature_sets"][feature_set]["extractors"]
    keys = COMPUTE + ["emi.seeds", "emi.train", "emi.model", f"emi.feature_sets.{feature_set}"]
    return keys + plan.sample_keys(config) + substitutes.keys(config, "emi", extractors)


def fusion(config: dict, fusion: str | None = None, **_) -> list[str]:
    """A fusion job (the submission job, without a fusion, reads none)."""
    if fusion is None:
        return []
    members = config["emi"]["fusions"][fusion]
    extractors = [e for m in members for e in config["emi"]["feature_sets"][m]["extractors"]]
    keys = [f"emi.fusions.{fusion}", *(f"emi.feature_sets.{m}" for m in members)]
    return keys + plan.sample_keys(config) + substitutes.keys(config, "emi", extractors)


KEYS = {
    "demo.hume": lambda config, **_: ["demo.hume_vidmimic2"],
    "emi.prepare": lambda config, stage, **_: plan.sample_keys(config) + STAGE_KEYS[stage],
    "emi.features": lambda config, extractor, **_: COMPUTE + EXTRACTOR_KEYS.get(extractor, [f"extractors.{extractor}"]),
    "emi.pack": lambda config, **_: plan.sample_keys(config),
    "emi.train": train,
    "emi.aggregate": fusion,
    "emi.stats": lambda config, **_: ["profile"],
}
