"""Evaluation metrics shared by the papers.

EMI: Pearson's correlation per emotion, averaged over the six (paper Eqs. 8-9).
VA: CCC per dimension and their mean P (Eq. 3). ECAN: accuracy, mean class
accuracy and macro-F1 from the confusion matrix.
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


def ccc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Concordance correlation coefficient (VA paper Eqs. 2-3):

        CCC = 2 cov(y, ŷ) / (var(y) + var(ŷ) + (mean(y) - mean(ŷ))^2)

    Variance estimator: the population one (divide by n), in cov and both
    variances. The ABAW repositories disagree (some use n - 1 in the variances
    only); with n in all three terms a perfect prediction scores exactly 1.
    The denominator is zero only when both sides are the same constant, which
    is perfect agreement (1.0).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"ccc needs two non-empty 1-D arrays of one length, got {y_true.shape} and {y_pred.shape}")
    mean_t, mean_p = y_true.mean(), y_pred.mean()
    dt, dp = y_true - mean_t, y_pred - mean_p
    n = len(y_true)
    covariance = (dt * dp).sum() / n
    denominator = (dt * dt).sum() / n + (dp * dp).sum() / n + (mean_t - mean_p) ** 2
    if denominator == 0.0:
        return 1.0
    return float(2.0 * covariance / denominator)


def va_score(valence_true, valence_pred, arousal_true, arousal_pred) -> dict:
    """CCC per dimension and P = 0.5 (CCC_arousal + CCC_valence) (VA paper Eq. 3)."""
    valence = ccc(valence_true, valence_pred)
    arousal = ccc(arousal_true, arousal_pred)
    return {"valence": valence, "arousal": arousal, "p": 0.5 * (valence + arousal)}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"confusion_matrix needs two 1-D label arrays of one length, got {y_true.shape} and {y_pred.shape}"
        )
    if len(y_true) and (min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """ECAN paper §4.4.3 / Tables 3-5: accuracy, mean class accuracy and macro-F1, all as fractions.

    Mean class accuracy is the mean of the row-normalised confusion-matrix
    diagonal (per-class recall). Macro-F1 is the unweighted mean of per-class
    F1 = 2 TP / (2 TP + FP + FN); a class with no true and no predicted sample
    has F1 undefined and is left out of the mean (as is its recall).
    """
    if len(y_true) == 0:
        raise ValueError("classification_scores needs at least one sample (the split is empty)")
    matrix = confusion_matrix(y_true, y_pred, n_classes).astype(np.float64)
    true_positive = np.diag(matrix)
    support = matrix.sum(1)
    predicted = matrix.sum(0)
    present = support > 0
    recall = true_positive[present] / support[present]
    f1_denominator = 2 * true_positive + (predicted - true_positive) + (support - true_positive)
    defined = f1_denominator > 0
    f1 = 2 * true_positive[defined] / f1_denominator[defined]
    return {
        "accuracy": float(true_positive.sum() / matrix.sum()),
        "mean_class_accuracy": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "confusion_matrix": matrix.astype(np.int64).tolist(),
    }
