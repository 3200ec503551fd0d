"""Per-sample feature sequences -> fixed-length, standardised model inputs.

Shared choices (the EMI paper gives only T = 300):
* Extractors of one feature set are concatenated on the frames they share
  (paper Eq. 1); frames where one of them is missing are dropped.
* A sequence longer than T is sampled at T evenly spaced frames, so the whole
  clip is seen; a shorter one is zero-padded at the end and masked.
* A sample with no usable frame (no face found at all) gets one all-mean row,
  and is counted in the training log rather than dropped, so every sample of a
  split is still predicted and scored.
* Features are standardised with the training split's per-dimension mean and std,
  computed in two streaming passes over the training samples (float64 sum, then
  float64 sum of squared deviations), so memory does not grow with the split.
  Each pass adds the rows one after another, as numpy's axis-0 reduction of the
  concatenated frames does, so the statistics are bitwise those of
  `np.concatenate(frames).astype(float64).mean(0) / .std(0)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


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


def running_sum(chunks: Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """Row-by-row float64 sum over every chunk's rows (numpy's axis-0 order), and the row count."""
    total, count = None, 0
    for chunk in chunks:
        if not len(chunk):
            continue
        rows = chunk if total is None else np.concatenate([total[None], chunk])
        total = np.add.reduce(rows, axis=0)
        count += len(chunk)
    if total is None:
        raise ValueError("no training frames to standardise with: every training sample is empty")
    return total, count


def fit_standardiser(chunks: Callable[[], Iterable[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension (mean, std) over the rows of `chunks()` (called twice: one streaming pass each), as float32.

    A dimension with std <= 1e-6 keeps std 1, so constant features standardise to 0.
    """
    total, count = running_sum(c.astype(np.float64) for c in chunks())
    mean = total / count

    def squared_deviations():
        for chunk in chunks():
            deviation = chunk.astype(np.float64) - mean
            yield np.multiply(deviation, deviation, out=deviation)

    squares, _ = running_sum(squared_deviations())
    std = np.sqrt(squares / count)
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


def batch_inputs(
    sequences: Iterable[np.ndarray], mean: np.ndarray, std: np.ndarray, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised, fixed-length (N, seq_len, D) float32 inputs and their (N, seq_len) masks."""
    xs, masks = zip(*(to_fixed_length((s - mean) / std if len(s) else s, seq_len) for s in sequences))
    return np.stack(xs), np.stack(masks)
