"""Audio that starts late or early against the video (issue 21.2): the prepared wav is aligned to the first
video frame (silence before late audio, early audio trimmed) and the offset is recorded."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from affrepro.media import audio_offset, ffmpeg_exe
from affrepro.preprocess.audio import prepare_audio

RATE = 16000


def clip(path, video_delay: float, audio_delay: float) -> None:
    """3 s of test pattern and a 440 Hz tone that ends with it, each stream starting after its delay (a .mov, like web clips)."""
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-itsoffset",
            str(video_delay),
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=3:rate=30:size=64x64",
            "-itsoffset",
            str(audio_delay),
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={3 + video_delay - audio_delay}:sample_rate={RATE}",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "pcm_s16le",
            str(path),
        ],
        check=True,
    )


def onset(signal: np.ndarray) -> float:
    """Seconds to the first sample of the tone."""
    return float(np.flatnonzero(np.abs(signal) > 0.01)[0]) / RATE


@pytest.mark.parametrize("video_delay, audio_delay, expected", [(0.0, 1.5, 1.5), (0.5, 0.0, -0.5), (0.0, 0.0, 0.0)])
def test_audio_is_aligned_to_the_first_video_frame(video_delay, audio_delay, expected, tmp_path):
    path = tmp_path / "clip.mov"
    clip(path, video_delay, audio_delay)
    assert audio_offset(path) == pytest.approx(expected, abs=0.002)
    result = prepare_audio(path, tmp_path / "clip.wav", RATE, peak_dbfs=None)
    signal, rate = sf.read(tmp_path / "clip.wav", dtype="float32")
    assert rate == RATE and result.audio_offset_s == pytest.approx(expected, abs=0.002)
    # the tone starts where it plays against the video (1.5 s in; or at once, the 0.5 s before frame 0 cut)
    # and the wav spans the video's 3 s, so it is not mistaken for a truncated file
    assert onset(signal) == pytest.approx(max(expected, 0.0), abs=0.002)
    assert len(signal) / RATE == pytest.approx(3.0, abs=0.002)
    assert not result.coverage["partial"]
