"""Helpers of the bad-input tests (tests/common/test_common_bad_*.py): broken media, fake weights, small datasets."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import helpers
import yaml
from helpers import FIXTURES

from affrepro.media import ffmpeg_exe

VIDEO = FIXTURES / "video" / "single_face.mp4"  # 2.42 s, 30 fps, with audio
WAV = FIXTURES / "audio" / "librivox_0870.wav"
HUME_HEADER = "Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement,Joy\n"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "affrepro.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=helpers.snakemake_env(),
    )


def fake_weights(folder: Path) -> dict:
    """Local stand-ins for the paper's checkpoints (start-up checks only that they exist; wav2vec2's width is read from config.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resnet18.pth").write_bytes(b"x")
    (folder / "dino").mkdir(exist_ok=True)
    (folder / "wav2vec2").mkdir(exist_ok=True)
    (folder / "wav2vec2" / "config.json").write_text('{"hidden_size": 1024, "num_hidden_layers": 12}')
    (folder / "FeatureExtraction").write_bytes(b"")
    return {
        "resnet18": {"weights": str(folder / "resnet18.pth")},
        "dino": {"weights": str(folder / "dino")},
        "wav2vec2": {"weights": str(folder / "wav2vec2")},
        "openface": {"bin": str(folder / "FeatureExtraction")},
    }


def workdir_with(tmp_path: Path, config: dict) -> Path:
    workdir = tmp_path / "run"
    workdir.mkdir(exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def hume_root(
    root: Path,
    train: str = "1,0.1,0.2,0.3,0.4,0.5,0.6\n2,0,0,0,0,0,1\n",
    valid: str = "3,0.5,0.5,0.5,0.5,0.5,0.5\n",
    videos: dict | None = None,
) -> Path:
    (root / "raw").mkdir(parents=True)
    (root / "train_split.csv").write_text(HUME_HEADER + train)
    (root / "valid_split.csv").write_text(HUME_HEADER + valid)
    for key, source in (videos or {"1": VIDEO, "2": VIDEO, "3": VIDEO}).items():
        shutil.copy(source, root / "raw" / f"{key}.mp4")
    return root


def real_hume_config(tmp_path: Path, root: Path) -> dict:
    config = helpers.repo_config()
    config["datasets"]["hume_vidmimic2"]["root"] = str(root)
    for name, settings in fake_weights(tmp_path / "weights").items():
        config["extractors"][name] |= settings
    return config


def message(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr
