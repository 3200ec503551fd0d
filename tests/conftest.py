"""Shared fixtures. Tests that need ../shared (real fixtures) skip with a message when it is absent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AFFREPRO_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "fixtures").is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED} (set AFFREPRO_SHARED to the shared/ folder)")
    return SHARED


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """Broken and short media made from the fixtures: truncated (index first, then cut), garbage, audio-only, no audio, a 0.5 s clip."""
    from bad_inputs import VIDEO, WAV, ffmpeg

    folder = tmp_path_factory.mktemp("media")
    ffmpeg("-i", str(VIDEO), "-c", "copy", "-movflags", "+faststart", str(folder / "faststart.mp4"))
    data = (folder / "faststart.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) * 3 // 10])  # decodes ~0.5 of 2.42 s, ffmpeg exits 0
    (folder / "garbage.mp4").write_bytes(bytes(range(256)) * 20)
    ffmpeg("-i", str(VIDEO), "-an", "-c", "copy", str(folder / "no_audio.mp4"))
    ffmpeg(
        "-i",
        str(VIDEO),
        "-t",
        "0.5",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        str(folder / "clip.mp4"),
    )
    shutil.copy(WAV, folder / "speech.wav")
    return {path.stem: path for path in folder.iterdir()}
