"""Audio: 16 kHz, mono, 16-bit PCM; EMI (paper §3.2.2) also peak-normalises to -3 dBFS, VA (§3.2) does not.

"Normalised to -3 dB" is read as peak normalisation (the usual meaning in
audio tools such as sox/ffmpeg-normalize's peak mode). A silent track cannot
be scaled to a peak; it is written as silence and reported, not amplified noise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from affrepro.files import atomic_path
from affrepro.media import coverage, read_audio

log = logging.getLogger(__name__)
SILENCE_PEAK = 1e-6  # below this peak a track is treated as silent


@dataclass
class AudioResult:
    samples: int
    sample_rate: int
    peak_in: float
    silent: bool
    coverage: dict  # decoded vs stated duration (affrepro.media.coverage)
    audio_offset_s: float  # where the audio stream started against the first video frame (aligned: padded or trimmed)


def peak_normalise(signal: np.ndarray, peak_dbfs: float | None) -> tuple[np.ndarray, bool]:
    """Scale to `peak_dbfs` (None: leave the level as it is); also says whether the track is silent."""
    peak = float(np.abs(signal).max()) if signal.size else 0.0
    if peak < SILENCE_PEAK:
        return np.zeros_like(signal), True
    if peak_dbfs is None:
        return signal.astype(np.float32), False
    target = 10.0 ** (peak_dbfs / 20.0)
    return (signal * (target / peak)).astype(np.float32), False


def prepare_audio(
    media: str | Path, out: str | Path, sample_rate: int = 16000, peak_dbfs: float | None = -3.0
) -> AudioResult:
    signal, offset = read_audio(media, sample_rate)
    if abs(offset) * sample_rate >= 1:
        log.warning(
            "%s: the audio starts %.3f s %s the first video frame; aligned to the frames (%s)",
            media,
            abs(offset),
            "after" if offset > 0 else "before",
            "silence before it" if offset > 0 else "its start trimmed",
        )
    peak_in = float(np.abs(signal).max()) if signal.size else 0.0
    normalised, silent = peak_normalise(signal, peak_dbfs)
    if silent:
        log.warning("%s: silent audio track; written as silence without normalisation", media)
    with atomic_path(out, suffix=".wav") as tmp:
        sf.write(tmp, normalised, sample_rate, subtype="PCM_16", format="WAV")
    return AudioResult(
        samples=len(normalised),
        sample_rate=sample_rate,
        peak_in=peak_in,
        silent=silent,
        # the audio's span in the file: the aligned track, plus what was trimmed before the first video frame
        coverage=coverage(media, len(signal) / sample_rate + max(-offset, 0.0), "audio"),
        audio_offset_s=round(offset, 6),
    )
