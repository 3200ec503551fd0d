"""Synthetic faces and voices whose properties are driven by planted latents.

Faces are warps of the astronaut portrait in scikit-image (a real photograph,
so MTCNN finds it); voices are harmonic tones with syllable-like envelopes.
Shared by every demo generator.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data as skdata

# Crop of skimage.data.astronaut() around the face (MTCNN box ~ x 181-268, y 62-172).
_FACE_BOX = (20, 220, 125, 325)  # y0, y1, x0, x1


def face_patch(size: int) -> np.ndarray:
    y0, y1, x0, x1 = _FACE_BOX
    patch = skdata.astronaut()[y0:y1, x0:x1]
    return cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)


def smooth_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A low-frequency colour texture: real enough to give MTCNN something to reject."""
    coarse = rng.uniform(40, 200, size=(6, 8, 3)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def expression_warp(patch: np.ndarray, smile: float, brow: float) -> np.ndarray:
    """Lift the mouth corners by `smile` and raise the brows by `brow` (both in patch fractions)."""
    size = patch.shape[0]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    # Mouth region centred at (0.5, 0.62) in the crop; corners move up more than the centre.
    mouth = np.exp(-(((ys - 0.62) / 0.08) ** 2)) * np.exp(-(((xs - 0.5) / 0.22) ** 2))
    corner = ((xs - 0.5) / 0.15) ** 2
    dy_mouth = smile * mouth * corner
    brows = np.exp(-(((ys - 0.36) / 0.06) ** 2)) * np.exp(-(((xs - 0.5) / 0.25) ** 2))
    dy_brow = brow * brows
    map_y = ((ys + dy_mouth + dy_brow) * size).astype(np.float32)  # cv2.remap needs float32 maps
    map_x = (xs * size).astype(np.float32)
    return cv2.remap(patch, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def tint(patch: np.ndarray, amount: float) -> np.ndarray:
    """Warm (amount > 0) or cool (amount < 0) the skin tone."""
    out = patch.astype(np.float32)
    out[..., 0] *= 1.0 + amount
    out[..., 2] *= 1.0 - amount
    return out.clip(0, 255).astype(np.uint8)


def paste(frame: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    """Paste `patch` with a soft elliptical mask so no hard square edge remains."""
    size = patch.shape[0]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    mask = np.clip(1.6 - 4.0 * (xs**2 / 0.28 + ys**2 / 0.36), 0, 1)[..., None]
    region = frame[top : top + size, left : left + size].astype(np.float32)
    frame[top : top + size, left : left + size] = (mask * patch + (1 - mask) * region).astype(np.uint8)


def voice(
    rng: np.random.Generator,
    duration_s: float,
    sample_rate: int,
    pitch: float | np.ndarray,
    breathiness: float | np.ndarray,
) -> np.ndarray:
    """A voiced, syllable-modulated tone.

    `pitch` in [-2, 2] sets f0 (≈ 110-290 Hz); `breathiness` in [-2, 2] sets how much
    aspiration noise is mixed in and the spectral tilt of the harmonics. Loudness
    carries no signal (the preprocessing peak-normalises). Either may be a
    contour (an array over the duration, linearly interpolated) instead of a constant.
    """
    n = int(round(duration_s * sample_rate))
    t = np.arange(n) / sample_rate
    pitch, breathiness = _contour(pitch, n), _contour(breathiness, n)
    f0 = 200.0 + 45.0 * pitch
    vibrato = 1.0 + 0.02 * np.sin(2 * np.pi * 5.0 * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(f0 * vibrato) / sample_rate
    tilt = 2.0 - 0.4 * breathiness
    harmonics = np.zeros(n)
    for harmonic in range(1, 16):
        if harmonic * np.max(f0) > 0.45 * sample_rate:
            break
        harmonics += harmonic ** (-tilt) * np.sin(harmonic * phase)
    harmonics /= np.abs(harmonics).max()
    noise = rng.standard_normal(n)
    noise /= np.abs(noise).max()
    mix = 0.4 * (breathiness + 2.0) / 4.0  # 0 (clean) .. 0.4 (breathy)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 2 * np.pi))
    signal = envelope * ((1.0 - mix) * harmonics + mix * noise)
    return (0.3 * signal / np.abs(signal).max()).astype(np.float32)


def _contour(value: float | np.ndarray, n: int) -> float | np.ndarray:
    if np.ndim(value) == 0:
        return value
    value = np.asarray(value, dtype=np.float64)
    return np.interp(np.linspace(0.0, 1.0, n), np.linspace(0.0, 1.0, len(value)), value)
