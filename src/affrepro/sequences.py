"""Per-sample feature sequences -> fixed-length, standardised model inputs.

Shared choices (the EMI paper gives only T = 300):
* Extractors of one feature set are concatenated on the frames they share
  (paper Eq. 1); frames where one of them is missing are dropped.
* A sequence longer than T is sampled at T evenly spaced frames, so the whole
  clip is seen; a shorter one is zero-padded at the end and masked.
* A sample with no usable frame (no face found at all) gets one all-mean row,
  and is counted in the training log rather than dropped, so every sample of a
  split is still predicted and scored.
* Features are standardised with the training split's per-dimension mean and std.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.features import load_features


def concat_on_shared_frames(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """[(features (T_i, D_i), frame_index (T_i,)), ...] -> (features (T, ΣD), shared frame_index (T,))."""
    shared = parts[0][1]
    for _, index in parts[1:]:
        shared = np.intersect1d(shared, index)
    columns = []
    for features, index in parts:
        position = {int(f): i for i, f in enumerate(index)}
        columns.append(features[[position[int(f)] for f in shared]] if len(shared) else features[:0])
    return np.concatenate(columns, axis=1), shared


def load_feature_set(paths: list[Path]) -> np.ndarray:
    parts = [load_features(p)[:2] for p in paths]
    return concat_on_shared_frames(parts)[0]


def fit_standardiser(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    frames = np.concatenate([s for s in sequences if len(s)], axis=0).astype(np.float64)
    mean, std = frames.mean(0), frames.std(0)
    return mean.astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)


def to_fixed_length(sequence: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, D) -> ((seq_len, D) float32, (seq_len,) bool mask)."""
    dim = sequence.shape[1]
    out = np.zeros((seq_len, dim), np.float32)
    mask = np.zeros(seq_len, bool)
    if len(sequence) == 0:
        mask[0] = True  # one all-zero (= training mean after standardisation) step
        return out, mask
    if len(sequence) > seq_len:
        sequence = sequence[np.round(np.linspace(0, len(sequence) - 1, seq_len)).astype(int)]
    out[: len(sequence)] = sequence
    mask[: len(sequence)] = True
    return out, mask


def batch_inputs(sequences: list[np.ndarray], mean: np.ndarray, std: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    xs, masks = zip(*(to_fixed_length((s - mean) / std if len(s) else s, seq_len) for s in sequences))
    return np.stack(xs), np.stack(masks)
