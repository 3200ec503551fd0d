"""Action-unit features (paper §3.2.1): 17 AUs x (presence, intensity) = 34-d.

Two sources:

* OpenFace 2.0 `FeatureExtraction` when `extractors.openface.bin` is set: run on
  the aligned crops, its CSV parsed by `read_openface_csv`. Presence is the
  `AUxx_c` column (0/1); intensity is `AUxx_r` divided by 5, OpenFace's 0-5
  scale mapped to the paper's "0 to 1".
* Otherwise an APPROXIMATION computed from the crops (`crop_au_proxy`): for
  each AU, the gradient energy of the face region that AU moves, on the fixed
  112x112 five-point template, squashed to [0, 1]; presence = proxy >= 0.5.
  It responds to the same regions deforming, but it is not FACS coding and is
  labelled `crop-proxy` in every provenance record.

The 17 AUs are those OpenFace gives both presence and intensity for (its
AU28 has presence only, so it is left out), in OpenFace's order.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

AUS = ["01", "02", "04", "05", "06", "07", "09", "10", "12", "14", "15", "17", "20", "23", "25", "26", "45"]
DIM = 2 * len(AUS)
FEATURE_NAMES = [f"AU{a}_c" for a in AUS] + [f"AU{a}_r" for a in AUS]
OPENFACE_MAX_INTENSITY = 5.0

# Regions (y0, y1, x0, x1) on the 112x112 template that each AU deforms.
_L, _R = (22, 42), (70, 90)
AU_REGIONS = {
    "01": [(28, 42, 42, 70)],
    "02": [(26, 40, 22, 42), (26, 40, 70, 90)],
    "04": [(36, 50, 46, 66)],
    "05": [(42, 50, 28, 84)],
    "06": [(62, 78, *_L), (62, 78, *_R)],
    "07": [(46, 58, 28, 84)],
    "09": [(50, 66, 46, 66)],
    "10": [(76, 86, 40, 72)],
    "12": [(82, 100, 30, 46), (82, 100, 66, 82)],
    "14": [(84, 100, 24, 36), (84, 100, 76, 88)],
    "15": [(92, 106, 30, 46), (92, 106, 66, 82)],
    "17": [(100, 112, 44, 68)],
    "20": [(84, 98, 26, 86)],
    "23": [(86, 98, 42, 70)],
    "25": [(88, 96, 44, 68)],
    "26": [(96, 112, 36, 76)],
    "45": [(46, 56, 28, 84)],
}
PROXY_SCALE = 24.0  # gradient magnitude (grey levels per pixel) at which the proxy reaches 1 - 1/e


class OpenFaceError(RuntimeError):
    """OpenFace output that cannot be used, with the file named."""


def read_openface_csv(path: str | Path, n_faces: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse OpenFace 2.0 FeatureExtraction CSV -> (frame_index, features).

    frame_index: OpenFace's 1-based `frame` column minus 1, for the rows where
    tracking succeeded (`success` == 1). features: float32 (T, 34), 17 presences
    then 17 intensities / 5, in the order of `AUS`. Every row must be numeric
    (a header repeated mid-file, a text or empty cell is named by its line),
    presences 0/1, intensities 0-5, frames unique and, given `n_faces`, within
    the crops OpenFace was given.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, skipinitialspace=True, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:  # missing, empty or truncated
        raise OpenFaceError(
            f"{path}: cannot be read as an OpenFace CSV ({exc}); rerun FeatureExtraction with -aus"
        ) from exc
    frame.columns = [c.strip() for c in frame.columns]
    needed = ["frame", "success", *FEATURE_NAMES]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise OpenFaceError(
            f"{path}: not an OpenFace 2.0 AU CSV, missing columns {missing[:6]}; run FeatureExtraction with -aus"
        )
    values = frame[needed].apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
    _check_openface_values(path, frame, values, n_faces)
    values = values[values["success"] == 1]
    presence = values[[f"AU{a}_c" for a in AUS]].to_numpy(np.float32)
    intensity = values[[f"AU{a}_r" for a in AUS]].to_numpy(np.float32) / OPENFACE_MAX_INTENSITY
    return values["frame"].to_numpy(np.int64) - 1, np.concatenate([presence, intensity], axis=1)


def _check_openface_values(path: Path, text: pd.DataFrame, values: pd.DataFrame, n_faces: int | None) -> None:
    """OpenFaceError naming the CSV's line (header = line 1) of the first value that is not what OpenFace writes."""

    def refuse(row: int, why: str):
        raise OpenFaceError(f"{path}:{row + 2}: {why}; rerun FeatureExtraction with -aus on this clip's crops")

    blank = values.isna().to_numpy()
    if blank.any():
        row, column = (int(i[0]) for i in np.nonzero(blank))
        name = values.columns[column]
        refuse(row, f"{name} is {text[name].iloc[row].strip()!r}, not a number (a repeated header or a damaged line?)")
    checks = [
        (~values["success"].isin([0, 1]), "success must be 0 or 1"),
        (~values[[f"AU{a}_c" for a in AUS]].isin([0, 1]).all(axis=1), "an AU presence (AUxx_c) is not 0 or 1"),
        (
            ~values[[f"AU{a}_r" for a in AUS]].apply(lambda c: c.between(0, OPENFACE_MAX_INTENSITY)).all(axis=1),
            f"an AU intensity (AUxx_r) is outside OpenFace's 0-{OPENFACE_MAX_INTENSITY:g}",
        ),
        (values["frame"] % 1 != 0, "frame is not a whole number"),
        (values["frame"].duplicated(), "frame repeats an earlier line's"),
        (values["frame"] < 1, "frame is below 1 (OpenFace counts from 1)"),
    ]
    if n_faces is not None:
        checks.append((values["frame"] > n_faces, f"frame is beyond the {n_faces} face crops OpenFace was given"))
    for bad, why in checks:
        if bad.any():
            refuse(int(np.flatnonzero(bad.to_numpy())[0]), why)


def run_openface(binary: str | Path, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run FeatureExtraction on aligned crops; returns (row into `faces`, features) for tracked rows."""
    binary = Path(binary)
    if not binary.is_file():
        raise OpenFaceError(
            f"extractors.openface.bin: {binary} does not exist; set it to OpenFace's FeatureExtraction or null"
        )
    with tempfile.TemporaryDirectory() as tmp:
        frames_dir, out_dir = Path(tmp) / "frames", Path(tmp) / "out"
        frames_dir.mkdir()
        for i, face in enumerate(faces):
            cv2.imwrite(str(frames_dir / f"{i:06d}.png"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
        cmd = [str(binary), "-fdir", str(frames_dir), "-aus", "-out_dir", str(out_dir), "-of", "aus", "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        csv_path = out_dir / "aus.csv"
        if proc.returncode != 0 or not csv_path.is_file():
            raise OpenFaceError(f"{binary} failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
        return read_openface_csv(csv_path, n_faces=len(faces))


def crop_au_proxy(faces: np.ndarray) -> np.ndarray:
    """Approximate AU presence and intensity from aligned 112x112 crops (see module docstring)."""
    # Integer Sobel, element-wise float64 magnitude and exactly rounded sums (math.fsum): float32
    # SIMD reductions can depend on memory alignment, which would break byte-identical reruns.
    out = np.zeros((len(faces), DIM), np.float32)
    for i, face in enumerate(faces):
        grey = cv2.cvtColor(cv2.resize(face, (112, 112), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3).astype(np.float64)
        gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3).astype(np.float64)
        magnitude = np.sqrt(gx * gx + gy * gy) / 8.0
        for j, au in enumerate(AUS):
            boxes = AU_REGIONS[au]
            energy = math.fsum(
                math.fsum(magnitude[y0:y1, x0:x1].ravel()) / ((y1 - y0) * (x1 - x0)) for y0, y1, x0, x1 in boxes
            ) / len(boxes)
            intensity = 1.0 - np.exp(-energy / PROXY_SCALE)
            out[i, len(AUS) + j] = intensity
            out[i, j] = float(intensity >= 0.5)
    return out
