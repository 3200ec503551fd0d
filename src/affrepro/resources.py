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

Each paper's own cost model (its training jobs, the frames of one of its
samples) is in affrepro/<key>/costs.py, from the same figures.

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

from affrepro.config.resolve import uses_demo

# Policy: how much above a measurement a request goes.
MEM_MARGIN = 1.2
RUNTIME_MARGIN = 3
MIN_RUNTIME = 10  # minutes

# The measurements: job_costs.json, each section with how it was measured.
COSTS_FILE = Path(__file__).with_name("job_costs.json")
COSTS = json.loads(COSTS_FILE.read_text())

SLURM_WRAPPERS_MB = COSTS["slurm_wrappers"]["mb"]


class Cost(NamedTuple):
    peak_mb: int  # peak RSS of one job
    cpu_s: float  # CPU seconds per frame (start-up included)


# job -> {"demo" | "paper": Cost} (EMI: 30 fps frames, VA: annotated frames)
PER_FRAME = {
    job: {sizes: Cost(c["peak_mb"], c["cpu_s_per_frame"]) for sizes, c in by_sizes.items()}
    for job, by_sizes in COSTS["per_frame"]["jobs"].items()
}
SMALL_JOBS_MB = COSTS["small_jobs_mb"]["jobs"]
PACK_CPU_S_PER_FRAME = {paper: m["cpu_s"] / m["frames"] for paper, m in COSTS["pack"]["cpu_s"].items()}
PACK_BASE_MB = COSTS["pack"]["base_mb"]
STORE_INDEX_BYTES_PER_FRAME = COSTS["emi_train"]["store_index_bytes_per_frame"]  # the int64 frame index of a packed row


def mem_mb(peak_mb: float) -> int:
    return math.ceil(peak_mb * MEM_MARGIN / 100) * 100


def runtime(cpu_seconds: float) -> int:
    """Minutes to ask for a job that measured `cpu_seconds` of work on one core."""
    return max(MIN_RUNTIME, math.ceil(cpu_seconds * RUNTIME_MARGIN / 60))


def with_slurm_wrappers(job_mb: int, on_cluster: bool) -> int:
    """A rule's mem_mb: its job's, plus on a cluster the two Snakemake processes of a SLURM job."""
    return job_mb + (SLURM_WRAPPERS_MB if on_cluster else 0)


def sizes(config: dict, paper: str) -> str:
    """Which measurements apply: the demo's model sizes or the paper's (real data)."""
    return "demo" if uses_demo(config, paper) else "paper"


def frames_per_item(config: dict, paper: str) -> float:
    """Frames of one clip or trial of the paper's per-sample jobs (affrepro.registry: frames_per_item)."""
    from affrepro import registry  # here: the papers' cost models (affrepro.<key>.costs) import this module

    return registry.paper(paper).frames_per_item(config)


def per_frame_mem_mb(job: str, config: dict) -> int:
    """mem_mb of a per-sample job (`emi.prepare:faces`, `emi.features:dino`, `va.prepare`, ...)."""
    return mem_mb(PER_FRAME[job][sizes(config, job.split(".")[0])].peak_mb)


def per_frame_runtime(job: str, config: dict, items: int) -> int:
    """Minutes of a per-sample job over `items` clips or trials."""
    paper = job.split(".")[0]
    return runtime(PER_FRAME[job][sizes(config, paper)].cpu_s * items * frames_per_item(config, paper))


def small_job_mem_mb(rule: str) -> int:
    return mem_mb(SMALL_JOBS_MB[rule])


def pack_runtime(config: dict, paper: str, items: int) -> int:
    """Minutes of a pack job over every clip or trial of the dataset."""
    return runtime(PACK_CPU_S_PER_FRAME[paper] * items * frames_per_item(config, paper))


def pack_mem_mb(config: dict, paper: str, items: int) -> int:
    """A pack job: one sample at a time, and the frame index of the whole store."""
    return mem_mb(PACK_BASE_MB + items * frames_per_item(config, paper) * STORE_INDEX_BYTES_PER_FRAME / 2**20)
