"""What the VA fold jobs ask the scheduler for: the measured figures of job_costs.json turned into requests
(the policy and the shared jobs: affrepro.resources)."""

from __future__ import annotations

from affrepro.config.resolve import uses_demo
from affrepro.resources import COSTS, STORE_INDEX_BYTES_PER_FRAME, mem_mb, runtime, sizes

_sizes = COSTS["dataset_sizes"]
AFFWILD2_FRAMES_PER_TRIAL = _sizes["affwild2_va_annotated_frames"] // _sizes["affwild2_va_trials"]
# per pool frame-epoch: demo (10-epoch fold - 1-epoch fold) / 9 epochs; paper widths: one epoch at the real size
_fold = COSTS["va_fold"]
FOLD_CPU_S = {
    "demo": (_fold["demo"]["cpu_s_10_epochs"] - _fold["demo"]["cpu_s_1_epoch"]) / (9 * _fold["demo"]["frames"]),
    "paper": _fold["paper"]["cpu_s_1_epoch"] / _fold["paper"]["frames"],
}
FOLD_PEAK_MB, FOLD_BEFORE_BATCH_MB = _fold["peak_mb"], _fold["before_batch_mb"]
FOLD_BATCH, FOLD_WINDOW = _fold["batch"], _fold["window"]
LABEL_BYTES_PER_FRAME = _fold["label_bytes_per_frame"]  # labels (float64) and targets (float32)


def frames_per_trial(config: dict) -> float:
    """Annotated frames of one trial: the demo generator's mean, or the real dataset's."""
    if not uses_demo(config, "va"):
        return AFFWILD2_FRAMES_PER_TRIAL
    demo = config["demo"]["affwild2"]
    return sum(demo["duration_s"]) / 2 * sum(demo["source_fps"]) / 2


def fold_runtime(config: dict, trials: int) -> int:
    """The fold job's epochs over the cross-validation pool (it trains on the other folds and scores its own)."""
    frames = trials * frames_per_trial(config)
    return runtime(FOLD_CPU_S[sizes(config, "va")] * config["va"]["train"]["epochs"] * frames)


def fold_mem_mb(config: dict, trials: int) -> int:
    """The measured peak, its batch part scaled to the configured batch (attention grows with window^2), + labels and indexes."""
    train = config["va"]["train"]
    batch_scale = train["batch_size"] * train["window"] ** 2 / (FOLD_BATCH * FOLD_WINDOW**2)
    base = FOLD_BEFORE_BATCH_MB + (FOLD_PEAK_MB - FOLD_BEFORE_BATCH_MB) * batch_scale
    frames = trials * frames_per_trial(config)
    per_frame = LABEL_BYTES_PER_FRAME + STORE_INDEX_BYTES_PER_FRAME * len(config["va"]["extractors"])
    return mem_mb(base + frames * per_frame / 2**20)
