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

How it was measured (2026-11, this repository's 2-core shared machine, torch 2.11 CPU):
- `benchmarks/job_costs.py WORKDIR` on a finished demo run: each per-sample job
  on shard 0 under /usr/bin/time, at the demo's settings and at the papers' model
  sizes (fp32, DINO at 224 px, a 12-layer 1024-wide wav2vec2 as the paper's
  checkpoint, IResNet-50 at 112 px, MTCNN min_face_size 20; random weights).
  EMI shard 0 holds 18 clips / 889 frames at 30 fps, VA shard 0 9 trials /
  2,574 annotated frames. Figures in PER_FRAME.
- `snakemake --cores 2 all` in a scratch clone with a `python` shim on PATH that
  runs every job under `/usr/bin/time` (117 jobs): the peaks of the small jobs
  (SMALL_JOBS_MB) and the demo training jobs. EMI training: 12.2-34.0 CPU s for
  6 seeds x 30 epochs x 64 labelled clips x T = 64 (the most per frame-epoch:
  resnet18_aus, 34.0 s).
- One-epoch runs of a training job with the demo data and a changed config:
  VA fold over the 5,179-frame demo pool: 3.95 CPU s for 1 epoch and 11.0 s
  for 10 at the demo's widths (so 3.2 s of start-up), 7.67 s for 1 epoch at
  the paper's widths (tcn 128, ff 768, head 128). ECAN (ensc+mva, two views)
  on the demo RAF-DB (450 training images) in fp32: 1,126 MB / 8.2 CPU s at
  48 px and batch 32, 1,877 MB / 19.6 s at 112 px and batch 64, so 1.03 KB per
  pixel of each image of a batch, and 5.7 ms per image-epoch at 48 px (time
  grows with the pixels).
- Pack jobs (affrepro.pack) on the demo features under /usr/bin/time: 0.5-0.8
  s each, mostly start-up (PACK_CPU_S_PER_FRAME).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from affrepro.config import dataset_location, uses_demo

MEM_MARGIN = 1.2
RUNTIME_MARGIN = 3
MIN_RUNTIME = 10  # minutes
# Two Snakemake processes wrap every SLURM job (2 x 165 MB measured, rounded up).
SLURM_WRAPPERS_MB = 400

# Real dataset sizes the runtime models need before any file is read.
HUME_FRAMES_PER_CLIP = 210  # Hume-Vidmimic2: clips of 150-270 frames at 30 fps, mean 210
AFFWILD2_FRAMES_PER_TRIAL = (
    2_000_000 // 432
)  # Aff-Wild2 VA: about 2 M annotated frames over 432 train + validation trials
ECAN_IMAGES = {"rafdb": (12_271, 3_068), "fer2013": (28_709, 2 * 3_589)}  # real (training, other) images
DEMO_OTHER_SPLITS = {"rafdb": ("n_test",), "fer2013": ("n_public_test", "n_private_test")}


class Cost(NamedTuple):
    peak_mb: int  # peak RSS of one job
    cpu_s: float  # CPU seconds per frame (start-up included)


# job -> {"demo" | "paper": Cost}: benchmarks/job_costs.py (EMI: 30 fps frames, VA: annotated frames)
PER_FRAME = {
    "emi.prepare:faces": {"demo": Cost(865, 0.0137), "paper": Cost(874, 0.0270)},
    "emi.prepare:audio": {"demo": Cost(693, 0.0028), "paper": Cost(693, 0.0030)},
    "emi.features:resnet18": {"demo": Cost(1005, 0.0075), "paper": Cost(1055, 0.0094)},
    "emi.features:au": {"demo": Cost(810, 0.0040), "paper": Cost(809, 0.0041)},
    "emi.features:dino": {"demo": Cost(998, 0.0094), "paper": Cost(1128, 0.1118)},
    "emi.features:wav2vec2": {"demo": Cost(995, 0.0065), "paper": Cost(1611, 0.0168)},
    "va.prepare": {"demo": Cost(74, 0.0006), "paper": Cost(73, 0.0005)},
    "va.features:iresnet50": {"demo": Cost(1079, 0.0077), "paper": Cost(1963, 0.0776)},
    "va.features:vggish": {"demo": Cost(1154, 0.0108), "paper": Cost(1325, 0.0162)},
    "va.features:mfcc": {"demo": Cost(823, 0.0012), "paper": Cost(804, 0.0013)},
}

# Jobs of seconds (measured peaks, MB): aggregates, tables, stats, figures, demo generators.
SMALL_JOBS_MB = {
    "emi_demo_data": 130,
    "va_demo_data": 187,
    "ecan_demo": 111,
    "emi_aggregate": 97,
    "emi_submission": 97,
    "emi_headline_table": 10,
    "paper_table": 637,
    "paper_curves": 81,  # affrepro.curves (CSV + matplotlib plot) over the demo's 30 EMI / 22 ECAN runs: 81 / 80 MB
    "paper_claims": 42,  # affrepro.claims over the ECAN demo's tables and 22 run files
    "va_folds": 41,
    "va_aggregate": 37,
    "ecan_aggregate": 39,
    "ecan_stats": 825,
    "ecan_figure": 697,
    "emi_dataset_stats": 75,
}
EMI_STATS_CPU_S_PER_CLIP = 0.057  # emi_dataset_stats probes every video: 4.1 s for the 72 demo clips

# pack (affrepro.pack): 0.64 CPU s for the 3,475 demo EMI frames (wav2vec2; resnet18 0.54 s), 0.50 s for VA's 5,179
PACK_CPU_S_PER_FRAME = {"emi": 0.64 / 3_475, "va": 0.50 / 5_179}
EMI_TRAIN_CPU_S = 34.0 / (6 * 30 * 64 * 64)  # per clip-frame-epoch (frames = T)
# per pool frame-epoch: demo (10-epoch fold - 1-epoch fold) / 9 epochs; paper widths: one epoch of a fold job at
# the real size (benchmarks/scale.py va --fraction 1: 5,200 CPU s over 2.0 M frames, on a busy machine, so generous)
VA_FOLD_CPU_S = {"demo": (11.0 - 3.95) / (9 * 5_179), "paper": 5_199.8 / 2_001_359}
ECAN_MB_PER_BATCH_PIXEL = (1_877 - 1_126) / (64 * 112**2 - 32 * 48**2)
ECAN_BASE_MB = 1_126 - ECAN_MB_PER_BATCH_PIXEL * 32 * 48**2  # torch, the two ResNet-18 encoders, the bank: ~1,050 MB
ECAN_CPU_S_PER_IMAGE_EPOCH_48PX = 0.0057


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
# Measured (2026-11, 2 threads, compute.setup's fixed malloc threshold, peak RSS in-process):
# - an EMI branch, batch 128 x T 300, 4 steps: before the first batch 610-612 MB; peak 1,240 MB
#   for a 1024-dim branch without the Transformer (wav2vec2), 2,660 / 2,812 / 2,957 MB for
#   17 / 529 / 1024-dim visual branches (with it): 8 B per batch token and feature, plus
#   8.2 KB (TCN) or 53 KB (TCN + Transformer) per batch token;
# - benchmarks/scale.py (an EMI 1024-dim audio branch, one epoch): 1.34 / 1.31 GB at
#   0.05x / 0.25x real size (862 / 4,311 clips) -- flat;
# - a prediction row (a dict of seed, partition, id and six labels): 548 B (100,000 rows);
#   the predictions table built from them at the end holds them once more;
# - a VA fold at the paper's widths (tcn 128, ff 768, 4 layers), batch 16 x window 300, 4 steps:
#   648 MB before the first batch, peak 1,674 MB;
# - a pack job over the demo wav2vec2 features (3,475 frames): 96 MB.
# The job's own base: the 0.05x scale run's 1,340 MB less its batch (600 MB) and tables (2 MB); the bare
# model script's 612 MB lacks the job's imports (pandas, the config and store modules).
EMI_TRAIN_BASE_MB = 1_340 - 600 - 2
EMI_BYTES_PER_TOKEN_FEATURE = 8
EMI_BYTES_PER_TOKEN = {False: 8_200, True: 53_000}  # {uses the Transformer: bytes}
PREDICTION_ROW_BYTES = 2 * 548
STORE_INDEX_BYTES_PER_FRAME = 8  # the frame index (int64) of every packed row
VA_FOLD_PEAK_MB = 1_674  # at batch 16 x window 300 (the config's va.train)
VA_FOLD_BEFORE_BATCH_MB = 648  # the same job before its first batch
VA_FOLD_BATCH, VA_FOLD_WINDOW = 16, 300
VA_LABEL_BYTES_PER_FRAME = 2 * 8 + 2 * 4  # labels (float64) and targets (float32)
PACK_BASE_MB = 96


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
