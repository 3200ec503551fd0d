"""Device, threads and precision from config.compute, in one place."""

from __future__ import annotations

import contextlib
import os

import torch


def setup(compute: dict) -> torch.device:
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
