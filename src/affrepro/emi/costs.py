"""What the EMI jobs ask the scheduler for, beyond the per-sample and pack jobs: the measured figures of
job_costs.json turned into requests (the policy and the shared jobs: affrepro.resources)."""

from __future__ import annotations

from affrepro.config.resolve import uses_demo
from affrepro.resources import COSTS, STORE_INDEX_BYTES_PER_FRAME, mem_mb, runtime

HUME_FRAMES_PER_CLIP = COSTS["dataset_sizes"]["hume_vidmimic2_frames_per_clip"]
STATS_CPU_S_PER_CLIP = COSTS["emi_stats"]["cpu_s_per_clip"]
_train = COSTS["emi_train"]
TRAIN_CPU_S = _train["cpu_s"] / (
    _train["seeds"] * _train["epochs"] * _train["clips"] * _train["seq_len"]
)  # per clip-frame-epoch
# Training jobs read their features from the packed stores (affrepro.store) one batch at a time, so
# their memory is a constant of the model and the batch, plus a few bytes per frame of index.
TRAIN_BASE_MB = _train["scale_run_mb"] - _train["scale_run_batch_mb"] - _train["scale_run_tables_mb"]
BYTES_PER_TOKEN_FEATURE = _train["bytes_per_token_feature"]
BYTES_PER_TOKEN = {False: _train["bytes_per_token"]["tcn"], True: _train["bytes_per_token"]["tcn_transformer"]}
PREDICTION_ROW_BYTES = 2 * _train["prediction_row_bytes"]  # the rows, then the predictions table built from them


def frames_per_clip(config: dict) -> float:
    """Frames of one clip (30 fps): the demo generator's mean, or the real dataset's."""
    if not uses_demo(config, "emi"):
        return HUME_FRAMES_PER_CLIP
    return sum(config["demo"]["hume_vidmimic2"]["duration_s"]) / 2 * config["preprocess"]["fps"]


def stats_runtime(clips: int) -> int:
    return runtime(STATS_CPU_S_PER_CLIP * clips)


def train_runtime(config: dict, labelled_clips: int) -> int:
    """Every seed's epochs over the labelled clips (train + valid), T frames each."""
    emi = config["emi"]
    return runtime(TRAIN_CPU_S * len(emi["seeds"]) * emi["train"]["epochs"] * labelled_clips * emi["train"]["seq_len"])


def train_mem_mb(config: dict, feature_set: str, clips: int, dim: int) -> int:
    """A branch job over `clips` clips of a `dim`-wide feature set: base + one batch + the stores' indexes + the predictions."""
    emi, spec = config["emi"], config["emi"]["feature_sets"][feature_set]
    tokens = emi["train"]["batch_size"] * emi["train"]["seq_len"]
    batch = tokens * (BYTES_PER_TOKEN_FEATURE * dim + BYTES_PER_TOKEN[spec["modality"] == "V"])
    frames = clips * frames_per_clip(config)
    tables = (
        frames * STORE_INDEX_BYTES_PER_FRAME * len(spec["extractors"])
        + clips * len(emi["seeds"]) * PREDICTION_ROW_BYTES
    )
    return mem_mb(TRAIN_BASE_MB + (batch + tables) / 2**20)
