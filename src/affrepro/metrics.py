"""Evaluation metrics shared by the papers.

EMI: Pearson's correlation per emotion, averaged over the six (paper Eqs. 8-9).
"""

from __future__ import annotations

import numpy as np


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson's r = cov(y, ŷ) / sqrt(var(y) var(ŷ)) (paper Eq. 9).

    When either side is constant r is undefined; it is reported as 0.0 (no
    linear association can be measured) rather than NaN, so a collapsed model
    scores 0 instead of poisoning a mean.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"pearson needs two 1-D arrays of one length, got {y_true.shape} and {y_pred.shape}")
    dt, dp = y_true - y_true.mean(), y_pred - y_pred.mean()
    denominator = np.sqrt((dt * dt).sum() * (dp * dp).sum())
    if denominator == 0.0:
        return 0.0
    return float((dt * dp).sum() / denominator)


def mean_pearson(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, list[float]]:
    """(mean over dimensions, per-dimension r) for (N, K) arrays (paper Eq. 8 with K = 6)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 2:
        raise ValueError(f"mean_pearson needs two (N, K) arrays of one shape, got {y_true.shape} and {y_pred.shape}")
    per_dim = [pearson(y_true[:, k], y_pred[:, k]) for k in range(y_true.shape[1])]
    return float(np.mean(per_dim)), per_dim


def mean_std(values: list[float]) -> dict:
    """Mean and sample standard deviation (ddof=1; None for a single value, where it is undefined) over seeds or folds."""
    values = np.asarray(values, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else None
    return {"mean": float(values.mean()), "std": std, "n": int(len(values))}
