"""MFCC audio features (VA paper §3.1, Table 1): 13 coefficients + delta + delta-delta = 39.

torchaudio's MFCC on 16 kHz mono: 25 ms windows every 10 ms (400-point FFT,
40 mel bands, log in dB, orthonormal DCT-II), deltas by torchaudio's
regression over 5 frames. Rows are taken at the video frames' times (nearest
10 ms frame), the same synchronisation as VGGish.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

N_MFCC = 13
DIM = 3 * N_MFCC
SAMPLE_RATE = 16000
HOP = 160  # 10 ms
N_FFT = 400  # 25 ms
N_MELS = 40


def transform() -> torchaudio.transforms.MFCC:
    return torchaudio.transforms.MFCC(
        SAMPLE_RATE, N_MFCC, melkwargs={"n_fft": N_FFT, "hop_length": HOP, "n_mels": N_MELS, "center": True}
    )


def mfcc_frames(signal: np.ndarray) -> np.ndarray:
    """(n_frames, 39) at 100 frames/s (frame k centred on k * 10 ms)."""
    x = torch.from_numpy(np.asarray(signal, dtype=np.float32)).clone()
    coefficients = transform()(x)  # (13, n_frames)
    delta = torchaudio.functional.compute_deltas(coefficients)
    delta2 = torchaudio.functional.compute_deltas(delta)
    return torch.cat([coefficients, delta, delta2]).T.numpy().astype(np.float32)


def extract(signal: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    frames = mfcc_frames(signal)
    index = np.clip(np.round(np.asarray(times_s) * SAMPLE_RATE / HOP).astype(np.int64), 0, len(frames) - 1)
    return frames[index]
