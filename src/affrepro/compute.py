"""Device, threads and precision from config.compute, in one place."""

from __future__ import annotations

import contextlib
import ctypes
import os

import torch


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 1 << 20


def fix_malloc_threshold() -> None:
    """Serve every block of >= 1 MiB by its own mmap, returned to the system when freed.

    glibc raises its mmap threshold each time such a block is freed; large batch
    temporaries then come from the heap and fragment it, and a training job's peak
    memory creeps up with the number of steps (an EMI branch, 1024-dim batches of
    128: 1.30 -> 1.84 GB over 16 steps, growing with the dataset). A fixed
    threshold keeps it flat (1.24 GB). Not glibc: nothing to do.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def setup(compute: dict) -> torch.device:
    fix_malloc_threshold()
    # Deterministic cuBLAS needs this before CUDA starts; CPU runs are deterministic without it.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(compute["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    if compute["device"] == "cuda" or (compute["device"] == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("compute.device is cuda but no CUDA device is visible; set it to auto or cpu")
        return torch.device("cuda")
    return torch.device("cpu")


def autocast(device: torch.device, precision: str):
    """bf16 autocast for forward passes when precision is bf16, else a no-op."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
