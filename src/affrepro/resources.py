"""What each workflow job asks the scheduler for: threads, memory (`mem_mb`) and runtime (minutes).

Every figure below was measured; the rules call these functions (no figure is
written in a rule), and the module stays free of torch: the workflow calls it
while it plans.

Threads. Every rule declares `threads: 1`, and its job runs that many torch
threads (`--threads {threads}`, affrepro.jobs), so `--cores N` runs at most N
single-threaded jobs: N processes on N cores. Training jobs stay at one thread
because the tables are promised bitwise on one machine, and CPU torch results
depend on the thread count: three demo ECAN runs retrained with 2 threads all
differed from their 1-thread runs from the first epoch on (rafdb-none-ensc+mva:
train loss 3.5103 vs 3.5391, then every metric), so 2 threads would change the
committed tables and make them depend on `--cores`. A run that does not need bitwise tables can give training
more cores with Snakemake's own `--set-threads emi_train=4 va_train_fold=4
ecan_train=4` (each job then runs 4 torch threads, and Snakemake still keeps
the sum of threads within --cores).

Memory. `mem_mb` is the job's measured peak RSS x MEM_MARGIN, rounded up to
100 MB. Per-sample jobs (prepare, features) hold one clip or trial at a time,
so their peak is a constant of the stage and extractor, at the demo's model
sizes or at the papers' (real data). On a cluster `with_slurm_wrappers` adds
SLURM_WRAPPERS_MB (`cluster_mb` in common.smk, on every rule that is not a
local rule): a SLURM job's memory also holds two Snakemake processes (the
sbatch script's, then the one srun starts for the job), each of which parses
the workflow: 152 MB peak for `snakemake -n all` under /usr/bin/time, 164-165
MB MaxRSS (sacct) of the batch step of every one of the 45 sbatch jobs of
tests/common/test_common_slurm.py. Locally Snakemake starts jobs itself, so
nothing is added there.

Runtime. `runtime` (minutes, the plugin's sbatch --time) is RUNTIME_MARGIN x the
measured CPU seconds per unit x the job's units (frames, frame-epochs,
image-epochs), at least MIN_RUNTIME. The per-unit figures include each job's
start-up (imports, model build), so they overstate long jobs a little. They
are CPU figures: with compute.device: cuda they are an upper bound.

The measured figures are data: job_costs.json, each section with how, when
and where it was measured. `python benchmarks/job_costs.py WORKDIR --write`
measures the per-sample jobs again and rewrites its `per_frame` section, stamped
with the commit, date, CPU and load; this module turns the figures into requests.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import NamedTuple

from affrepro.config import dataset_location, uses_demo

# Policy: how much above a measurement a request goes.
MEM_MARGIN = 1.2
RUNTIME_MARGIN = 3
MIN_RUNTIME = 10  # minutes

# The measurements: job_costs.json, each section with how it was measured.
COSTS_FILE = Path(__file__).with_name("job_costs.json")
COSTS = json.loads(COSTS_FILE.read_text())

SLURM_WRAPPERS_MB = COSTS["slurm_wrappers"]["mb"]

_sizes_measured = COSTS["dataset_sizes"]
HUME_FRAMES_PER_CLIP = _sizes_measured["hume_vidmimic2_frames_per_clip"]
AFFWILD2_FRAMES_PER_TRIAL = _sizes_measured["affwild2_va_annotated_frames"] // _sizes_measured["affwild2_va_trials"]
ECAN_IMAGES = {name: (n["train"], n["other"]) for name, n in _sizes_measured["ecan_images"].items()}
DEMO_OTHER_SPLITS = {"rafdb": ("n_test",), "fer2013": ("n_public_test", "n_private_test")}


class Cost(NamedTuple):
    peak_mb: int  # peak RSS of one job
    cpu_s: float  # CPU seconds per frame (start-up included)


# job -> {"demo" | "paper": Cost} (EMI: 30 fps frames, VA: annotated frames)
PER_FRAME = {
    job: {sizes: Cost(c["peak_mb"], c["cpu_s_per_frame"]) for sizes, c in by_sizes.items()}
    for job, by_sizes in COSTS["per_frame"]["jobs"].items()
}
SMALL_JOBS_MB = COSTS["small_jobs_mb"]["jobs"]
EMI_STATS_CPU_S_PER_CLIP = COSTS["emi_stats"]["cpu_s_per_clip"]
PACK_CPU_S_PER_FRAME = {paper: m["cpu_s"] / m["frames"] for paper, m in COSTS["pack"]["cpu_s"].items()}

_emi = COSTS["emi_train"]
EMI_TRAIN_CPU_S = _emi["cpu_s"] / (
    _emi["seeds"] * _emi["epochs"] * _emi["clips"] * _emi["seq_len"]
)  # per clip-frame-epoch

# per pool frame-epoch: demo (10-epoch fold - 1-epoch fold) / 9 epochs; paper widths: one epoch at the real size
_va = COSTS["va_fold"]
VA_FOLD_CPU_S = {
    "demo": (_va["demo"]["cpu_s_10_epochs"] - _va["demo"]["cpu_s_1_epoch"]) / (9 * _va["demo"]["frames"]),
    "paper": _va["paper"]["cpu_s_1_epoch"] / _va["paper"]["frames"],
}

_ecan, _small, _large = COSTS["ecan_train"], COSTS["ecan_train"]["small"], COSTS["ecan_train"]["large"]
ECAN_MB_PER_BATCH_PIXEL = (_large["peak_mb"] - _small["peak_mb"]) / (
    _large["batch"] * _large["input_size"] ** 2 - _small["batch"] * _small["input_size"] ** 2
)
# torch, the two ResNet-18 encoders, the bank: ~1,050 MB
ECAN_BASE_MB = _small["peak_mb"] - ECAN_MB_PER_BATCH_PIXEL * _small["batch"] * _small["input_size"] ** 2
ECAN_CPU_S_PER_IMAGE_EPOCH_48PX = _ecan["cpu_s_per_image_epoch_48px"]


def mem_mb(peak_mb: float) -> int:
    return math.ceil(peak_mb * MEM_MARGIN / 100) * 100


def runtime(cpu_seconds: float) -> int:
    """Minutes to ask for a job that measured `cpu_seconds` of work on one core."""
    return max(MIN_RUNTIME, math.ceil(cpu_seconds * RUNTIME_MARGIN / 60))


def with_slurm_wrappers(job_mb: int, on_cluster: bool) -> int:
    """A rule's mem_mb: its job's, plus on a cluster the two Snakemake processes of a SLURM job."""
    return job_mb + (SLURM_WRAPPERS_MB if on_cluster else 0)


def _sizes(config: dict, paper: str) -> str:
    return "demo" if uses_demo(config, paper) else "paper"


def frames_per_item(config: dict, paper: str) -> float:
    """Frames of one EMI clip (30 fps) or VA trial (annotated): the demo generator's mean, or the real dataset's."""
    if paper == "emi":
        demo = config["demo"]["hume_vidmimic2"]
        return (
            sum(demo["duration_s"]) / 2 * config["preprocess"]["fps"]
            if uses_demo(config, "emi")
            else HUME_FRAMES_PER_CLIP
        )
    demo = config["demo"]["affwild2"]
    return (
        sum(demo["duration_s"]) / 2 * sum(demo["source_fps"]) / 2
        if uses_demo(config, "va")
        else AFFWILD2_FRAMES_PER_TRIAL
    )


def per_frame_mem_mb(job: str, config: dict) -> int:
    """mem_mb of a per-sample job (`emi.prepare:faces`, `emi.features:dino`, `va.prepare`, ...)."""
    return mem_mb(PER_FRAME[job][_sizes(config, job.split(".")[0])].peak_mb)


def per_frame_runtime(job: str, config: dict, items: int) -> int:
    """Minutes of a per-sample job over `items` clips or trials."""
    paper = job.split(".")[0]
    return runtime(PER_FRAME[job][_sizes(config, paper)].cpu_s * items * frames_per_item(config, paper))


def small_job_mem_mb(rule: str) -> int:
    return mem_mb(SMALL_JOBS_MB[rule])


def emi_stats_runtime(clips: int) -> int:
    return runtime(EMI_STATS_CPU_S_PER_CLIP * clips)


def pack_runtime(config: dict, paper: str, items: int) -> int:
    """Minutes of a pack job over every clip (EMI) or trial (VA) of the dataset."""
    return runtime(PACK_CPU_S_PER_FRAME[paper] * items * frames_per_item(config, paper))


def emi_train_runtime(config: dict, labelled_clips: int) -> int:
    """Every seed's epochs over the labelled clips (train + valid), T frames each."""
    emi = config["emi"]
    return runtime(
        EMI_TRAIN_CPU_S * len(emi["seeds"]) * emi["train"]["epochs"] * labelled_clips * emi["train"]["seq_len"]
    )


def va_fold_runtime(config: dict, trials: int) -> int:
    """The fold job's epochs over the cross-validation pool (it trains on the other folds and scores its own)."""
    frames = trials * frames_per_item(config, "va")
    return runtime(VA_FOLD_CPU_S[_sizes(config, "va")] * config["va"]["train"]["epochs"] * frames)


def _ecan_images(config: dict, dataset: str) -> tuple[int, int]:
    """(training, all) images of a dataset: the demo generator's counts or the real dataset's, max_train applied."""
    if dataset_location(config, dataset) is None:
        demo = config["demo"][dataset]
        train, other = demo["n_train"], sum(demo[key] for key in DEMO_OTHER_SPLITS[dataset])
    else:
        train, other = ECAN_IMAGES[dataset]
    cap = config["ecan"][dataset]["max_train"]
    train = train if cap is None else min(cap, train)
    return train, train + other


def ecan_train_mem_mb(config: dict, spec: dict) -> int:
    """Base + a training batch's activations (two views) + every image held twice (as read, and resized once)."""
    settings = config["ecan"][spec["dataset"]]
    pixels = settings["input_size"] ** 2
    _, images = _ecan_images(config, spec["dataset"])
    batch_mb = ECAN_MB_PER_BATCH_PIXEL * config["ecan"]["train"]["batch_size"] * pixels
    return mem_mb(ECAN_BASE_MB + batch_mb + 2 * 3 * pixels * images / 2**20)


def ecan_train_runtime(config: dict, spec: dict) -> int:
    """A training job (every seed of the spec's setting): each run's epochs over its training images, at its input size."""
    settings = config["ecan"][spec["dataset"]]
    train, _ = _ecan_images(config, spec["dataset"])
    per_run = ECAN_CPU_S_PER_IMAGE_EPOCH_48PX * (settings["input_size"] / 48) ** 2 * train * settings["epochs"]
    return runtime(per_run * len(config["ecan"]["seeds"]))


# Training jobs read their features from the packed stores (affrepro.store) one batch at a time, so
# their memory is a constant of the model and the batch, plus a few bytes per frame of index.
EMI_TRAIN_BASE_MB = _emi["scale_run_mb"] - _emi["scale_run_batch_mb"] - _emi["scale_run_tables_mb"]
EMI_BYTES_PER_TOKEN_FEATURE = _emi["bytes_per_token_feature"]
EMI_BYTES_PER_TOKEN = {False: _emi["bytes_per_token"]["tcn"], True: _emi["bytes_per_token"]["tcn_transformer"]}
PREDICTION_ROW_BYTES = 2 * _emi["prediction_row_bytes"]  # the rows, then the predictions table built from them
STORE_INDEX_BYTES_PER_FRAME = _emi["store_index_bytes_per_frame"]  # the frame index (int64) of every packed row
VA_FOLD_PEAK_MB, VA_FOLD_BEFORE_BATCH_MB = _va["peak_mb"], _va["before_batch_mb"]
VA_FOLD_BATCH, VA_FOLD_WINDOW = _va["batch"], _va["window"]
VA_LABEL_BYTES_PER_FRAME = _va["label_bytes_per_frame"]  # labels (float64) and targets (float32)
PACK_BASE_MB = COSTS["pack"]["base_mb"]


def emi_train_mem_mb(config: dict, feature_set: str, clips: int, dim: int) -> int:
    """An EMI branch job over `clips` clips of a `dim`-wide feature set: base + one batch + the stores' indexes + the predictions."""
    emi, spec = config["emi"], config["emi"]["feature_sets"][feature_set]
    tokens = emi["train"]["batch_size"] * emi["train"]["seq_len"]
    batch = tokens * (EMI_BYTES_PER_TOKEN_FEATURE * dim + EMI_BYTES_PER_TOKEN[spec["modality"] == "V"])
    frames = clips * frames_per_item(config, "emi")
    tables = (
        frames * STORE_INDEX_BYTES_PER_FRAME * len(spec["extractors"])
        + clips * len(emi["seeds"]) * PREDICTION_ROW_BYTES
    )
    return mem_mb(EMI_TRAIN_BASE_MB + (batch + tables) / 2**20)


def va_fold_mem_mb(config: dict, trials: int) -> int:
    """A VA fold job: the measured peak, its batch part scaled to the configured batch (attention grows with window^2), + labels and indexes."""
    train = config["va"]["train"]
    batch_scale = train["batch_size"] * train["window"] ** 2 / (VA_FOLD_BATCH * VA_FOLD_WINDOW**2)
    base = VA_FOLD_BEFORE_BATCH_MB + (VA_FOLD_PEAK_MB - VA_FOLD_BEFORE_BATCH_MB) * batch_scale
    frames = trials * frames_per_item(config, "va")
    per_frame = VA_LABEL_BYTES_PER_FRAME + STORE_INDEX_BYTES_PER_FRAME * len(config["va"]["extractors"])
    return mem_mb(base + frames * per_frame / 2**20)


def pack_mem_mb(config: dict, paper: str, items: int) -> int:
    """A pack job: one sample at a time, and the frame index of the whole store."""
    return mem_mb(PACK_BASE_MB + items * frames_per_item(config, paper) * STORE_INDEX_BYTES_PER_FRAME / 2**20)
