"""Device, threads and precision from config.compute, in one place."""

from __future__ import annotations

import contextlib
import ctypes
import os

import numpy as np
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


def setup(compute: dict, fixed_malloc_threshold: bool = True) -> torch.device:
    """Threads, determinism and the device of config.compute.

    fixed_malloc_threshold=False leaves glibc's adaptive mmap threshold alone: for
    a job whose batches all have the same shapes (ECAN training) memory stays
    flat without it, and with it every >= 1 MiB temporary is a fresh mmap whose
    pages fault in again (ECAN at 48 px: 10x the minor page faults, a third more
    CPU time, the same peak memory).
    """
    if fixed_malloc_threshold:
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


def dtype(precision: str) -> torch.dtype:
    """The dtype a forward pass's input is prepared in: bfloat16 under `precision: bf16`, else float32."""
    return torch.bfloat16 if precision == "bf16" else torch.float32


def normalised_nchw(images, mean, std, out_dtype: torch.dtype = torch.float32, scale: float = 255.0) -> torch.Tensor:
    """uint8 (N, H, W, C) array or tensor -> (x / scale - mean) / std as a channels_last (N, C, H, W) `out_dtype` tensor.

    The NHWC input is read through a permuted view, so the result is
    channels_last without a copy. Move uint8 input to the device first: the
    transfer is then a quarter of float32's.
    """
    x = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    return normalise(x.permute(0, 3, 1, 2), mean, std, out_dtype, scale)


def normalise(x: torch.Tensor, mean, std, out_dtype: torch.dtype = torch.float32, scale: float = 255.0) -> torch.Tensor:
    """(N, C, H, W) uint8 or float -> (x / scale - mean) / std, channels_last `out_dtype`, in one pass.

    x * a + b computed in float32 and rounded once to `out_dtype`, instead of
    float conversion, division, subtraction and division as four passes plus
    the bf16 cast autocast adds before the first convolution.
    """
    std_t, mean_t = torch.tensor(std, dtype=torch.float32), torch.tensor(mean, dtype=torch.float32)
    a = (1.0 / (scale * std_t)).view(1, -1, 1, 1).to(x.device)
    b = (-mean_t / std_t).view(1, -1, 1, 1).to(x.device)
    out = torch.empty(x.shape, dtype=out_dtype, device=x.device, memory_format=torch.channels_last)
    return torch.addcmul(b, x, a, out=out)
