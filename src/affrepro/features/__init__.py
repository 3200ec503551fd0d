"""Feature extractors: one module per extractor, one float32 (T, D) array per sample.

Every feature file holds `features` (T, D) float32 and `frame_index` (T,)
int64 on the 30 fps grid of the preprocessed video, so visual and audio
features of a sample line up frame by frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.files import write_npz


def save_features(path: str | Path, features: np.ndarray, frame_index: np.ndarray, n_frames: int) -> None:
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) != len(frame_index):
        raise ValueError(f"{path}: features {features.shape} do not match frame_index {np.shape(frame_index)}")
    if not np.isfinite(features).all():
        raise ValueError(f"{path}: extractor produced non-finite values")
    write_npz(path, features=features, frame_index=np.asarray(frame_index, dtype=np.int64), n_frames=np.int64(n_frames))


def load_features(path: str | Path) -> tuple[np.ndarray, np.ndarray, int]:
    with np.load(path) as data:
        missing = {"features", "frame_index", "n_frames"} - set(data.files)
        if missing:
            raise ValueError(
                f"{path}: not a feature file (missing arrays {sorted(missing)}); delete it and rerun its features job"
            )
        features = data["features"]
        if not np.isfinite(features).all():
            raise ValueError(
                f"{path}: the features hold non-finite values (NaN or inf); delete it and rerun its features job"
            )
        return features, data["frame_index"], int(data["n_frames"])
