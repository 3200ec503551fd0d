"""Aff-Wild2 VA (ABAW): annotations, cropped-aligned frames and videos.

    <root>/VA_Estimation_Challenge/{Train_Set,Validation_Set}/<trial>.txt
        header `valence,arousal`, one line per video frame, values in [-1, 1],
        -5 for frames to be ignored
    <root>/cropped_aligned/<trial>/<frame:05d>.jpg   (frame 1 is 00001.jpg)
    <root>/videos/<video>.{mp4,avi}

A two-person video `<video>.mp4` has two trials, `<video>_left` and
`<video>_right`, each with its own annotation file and crop folder. Test
trials are videos with no annotation file; their length is the video's frame
count (VA paper §3.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affrepro.data import DatasetError

ANNOTATIONS = "VA_Estimation_Challenge"
SPLITS = {"train": "Train_Set", "valid": "Validation_Set"}
IGNORED = -5.0
VIDEO_SUFFIXES = (".mp4", ".avi")
_PERSON = re.compile(r"_(left|right)$")


@dataclass(frozen=True)
class Trial:
    name: str  # annotation file stem, e.g. "10-60-1280x720_right"
    split: str  # train | valid | test
    annotation: Path | None


def video_group(name: str) -> str:
    """The video a trial comes from, `_left`/`_right` stripped: the two people of a pair share it."""
    return _PERSON.sub("", name)


def annotation_path(root: str | Path, split: str, name: str) -> Path:
    """Where trial `name` of split `train` or `valid` is annotated."""
    return Path(root) / ANNOTATIONS / SPLITS[split] / f"{name}.txt"


def read_annotation(path: str | Path) -> np.ndarray:
    """(n_frames, 2) float64 valence, arousal; rows of -5 kept (see `valid_rows`)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: missing annotation file")
    lines = path.read_text().splitlines()
    if not lines or lines[0].replace(" ", "").lower() != "valence,arousal":
        raise DatasetError(
            f"{path}: the first line must be the header `valence,arousal` (found {lines[0] if lines else 'an empty file'!r})"
        )
    if len(lines) == 1:
        raise DatasetError(f"{path}: no annotation rows after the header; restore the file or remove the trial")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        try:
            if len(fields) != 2:
                raise ValueError(f"{len(fields)} field(s)")
            rows.append([float(fields[0]), float(fields[1])])
        except ValueError as exc:
            raise DatasetError(
                f"{path}: line {number} is {line!r}; every line after the header must be two numbers `valence,arousal` ({exc})"
            ) from exc
    values = np.array(rows, dtype=np.float64).reshape(-1, 2)
    ignored = (values == IGNORED).any(1)
    bad = ~ignored & ((np.abs(values) > 1.0).any(1) | ~np.isfinite(values).all(1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DatasetError(
            f"{path}: line {row + 2} has {values[row].tolist()}; values must lie in [-1, 1], or be -5 for an ignored frame"
        )
    return values


def valid_rows(values: np.ndarray) -> np.ndarray:
    """Indices (0-based video frames) of rows without -5: the trial's frames (paper §3.2)."""
    return np.flatnonzero(~(values == IGNORED).any(1))


def list_trials(root: str | Path) -> list[Trial]:
    """Annotated trials (train, valid) sorted by name within a split, then test trials (videos with no annotation)."""
    root = Path(root)
    base = root / ANNOTATIONS
    if not base.is_dir():
        raise DatasetError(
            f"{base}: missing. An Aff-Wild2 root needs {ANNOTATIONS}/Train_Set and Validation_Set; point datasets.affwild2.root at it"
        )
    trials = []
    for split, folder in SPLITS.items():
        directory = base / folder
        if not directory.is_dir():
            raise DatasetError(f"{directory}: missing annotation folder")
        found = [Trial(p.stem, split, p) for p in sorted(directory.glob("*.txt"))]
        if not found:
            raise DatasetError(
                f"{directory}: no annotation files (<trial>.txt); the {split} split is empty. Restore them, or "
                "point datasets.affwild2.root at the complete dataset"
            )
        trials += found
    annotated_videos = {video_group(t.name) for t in trials}
    videos_dir = root / "videos"
    if videos_dir.is_dir():
        for path in sorted(videos_dir.iterdir()):
            if path.suffix.lower() in VIDEO_SUFFIXES and path.stem not in annotated_videos:
                trials.append(Trial(path.stem, "test", None))
    names = [t.name for t in trials]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DatasetError(f"{base}: trial(s) {duplicates} are annotated in more than one split")
    return trials


def video_path(root: str | Path, trial: Trial) -> Path:
    video = video_group(trial.name)
    for suffix in VIDEO_SUFFIXES:
        path = Path(root) / "videos" / f"{video}{suffix}"
        if path.is_file():
            return path
    raise DatasetError(
        f"{Path(root) / 'videos'}: no {video}.mp4 or .avi for trial {trial.name}; the audio branch needs the video"
    )


def frame_path(root: str | Path, trial_name: str, frame: int) -> Path:
    """The crop of 0-based video frame `frame` (files are numbered from 1)."""
    return Path(root) / "cropped_aligned" / trial_name / f"{frame + 1:05d}.jpg"


def fill_missing(available: np.ndarray) -> np.ndarray:
    """For each position, the index of the frame to use: itself if available, else the last available one.

    Leading positions before the first available frame take the first available
    one (there is no earlier frame). Returns -1 everywhere when none is available.
    """
    available = np.asarray(available, dtype=bool)
    positions = np.where(available, np.arange(len(available)), -1)
    last = np.maximum.accumulate(positions) if len(positions) else positions
    if available.any():
        last[last < 0] = int(np.flatnonzero(available)[0])
    return last


def fit_length(features: np.ndarray, length: int) -> np.ndarray:
    """Pad by repeating the last row, or trim from the end, to `length` rows (paper §3.2)."""
    if len(features) >= length:
        return features[:length]
    if len(features) == 0:
        raise ValueError("cannot pad an empty feature matrix")
    return np.concatenate([features, np.repeat(features[-1:], length - len(features), axis=0)])
