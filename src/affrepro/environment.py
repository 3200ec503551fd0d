"""The software and machine a job ran on: Python, torch, CUDA/cuDNN, the device, the CPU.

Training jobs put `record(device, precision)` into their metrics file (`environment`);
`affrepro.tables` puts the table job's own record, and the distinct training records
of the run files a table reads, into the table's provenance sidecar
(results/<key>/<table>.provenance.json). Nothing here reaches a table CSV, which
stay byte-identical across machines.

Kept apart from affrepro.provenance so that editing the tables' provenance does not
change the code version (and so rerun) every training job.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

PACKAGES = ("torch", "numpy", "torchvision", "transformers", "snakemake", "dvc")


def cpu_model() -> str:
    """/proc/cpuinfo's `model name` (Linux), else what the platform module says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Instruction-set extensions that decide which floating-point kernels oneDNN, ATen and MKL run (bf16 above all):
# two CPUs with one model name but other extensions do not compute the same bits.
KERNEL_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_features() -> list[str]:
    """The KERNEL_FEATURES this CPU has (from /proc/cpuinfo's flags; [] where it cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in KERNEL_FEATURES if f in flags]
    except OSError:
        pass
    return []


def versions() -> dict[str, str | None]:
    """Installed versions of the packages that matter for the numbers (None when not installed)."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def record(device=None, precision: str | None = None) -> dict:
    """The environment of this process; `device` (a torch.device or text) is the one the job computed on.

    CUDA, cuDNN and the GPU's name are recorded when the device is a CUDA device; torch is
    imported only then (the table jobs and the planner stay torch-free).
    """
    device = None if device is None else str(device)
    found = {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
        "packages": versions(),
        "device": device,
        "precision": precision,
    }
    if device is not None and device.startswith("cuda"):
        import torch

        index = torch.device(device).index
        index = torch.cuda.current_device() if index is None else index
        found |= {
            "device": f"cuda:{index}",
            "gpu": torch.cuda.get_device_name(index),
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
        }
    return found


def distinct(records) -> list[dict]:
    """The different records among `records` (None skipped), in first-seen order: the machines a set of runs trained on."""
    found = []
    for item in records:
        if item is not None and item not in found:
            found.append(item)
    return found


def of_run_file(data: dict) -> list[dict]:
    """The training environments a run file records: a training job's `environment`, an aggregate's `environments`."""
    return distinct([data.get("environment"), *data.get("environments", [])])
