import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from affrepro.metrics import ccc, classification_scores, confusion_matrix, mean_pearson, mean_std, pearson, va_score


def test_pearson_hand_computed_case():
    # x = [1, 2, 3], y = [2, 4, 7]: sum dx*dy = 5, sum dx^2 = 2, sum dy^2 = 114/9 -> r = 15 / sqrt(228)
    assert pearson(np.array([1.0, 2, 3]), np.array([2.0, 4, 7])) == pytest.approx(15 / np.sqrt(228), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pearson_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, 50)
    y_hat = 0.3 * y + rng.normal(0, 0.2, 50)
    assert pearson(y, y_hat) == pytest.approx(stats.pearsonr(y, y_hat).statistic, abs=1e-12)


def test_pearson_is_scale_and_shift_invariant_and_signed():
    y = np.array([0.1, 0.5, 0.2, 0.9])
    assert pearson(y, 3 * y + 7) == pytest.approx(1.0)
    assert pearson(y, -y) == pytest.approx(-1.0)


def test_pearson_constant_prediction_is_zero():
    assert pearson(np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.5, 0.5])) == 0.0


def test_mean_pearson_is_mean_of_six_scipy_values():
    rng = np.random.default_rng(3)
    y = rng.uniform(0, 1, (40, 6))
    y_hat = y * rng.uniform(0.1, 1, 6) + rng.normal(0, 0.3, (40, 6))
    expected = [stats.pearsonr(y[:, k], y_hat[:, k]).statistic for k in range(6)]
    mean, per_dim = mean_pearson(y, y_hat)
    assert per_dim == pytest.approx(expected, abs=1e-12)
    assert mean == pytest.approx(sum(expected) / 6, abs=1e-12)


def test_mean_pearson_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        mean_pearson(np.zeros((4, 6)), np.zeros((4, 5)))


def test_mean_std_uses_sample_std():
    assert mean_std([1.0, 2.0, 3.0]) == {"mean": 2.0, "std": 1.0, "n": 3}
    assert mean_std([0.5]) == {"mean": 0.5, "std": None, "n": 1}


def test_ccc_perfect_negated_constant():
    y = np.array([-0.5, 0.1, 0.3, 0.8, -0.2])
    assert ccc(y, y) == pytest.approx(1.0, abs=1e-12)
    assert ccc(y, -y) < -0.7  # -y is also mean-shifted (mean 0.1 -> -0.1), so CCC is above -1
    centred = y - y.mean()
    assert ccc(centred, -centred) == pytest.approx(-1.0, abs=1e-12)
    assert ccc(y, np.full_like(y, 0.4)) == 0.0


def test_ccc_hand_computed_case():
    # y = [1, 2, 3], ŷ = [2, 4, 7]: means 2 and 13/3; population cov = 5/3, var(y) = 2/3,
    # var(ŷ) = 38/9, (2 - 13/3)^2 = 49/9 -> CCC = (10/3) / (6/9 + 38/9 + 49/9) = 30/93.
    assert ccc(np.array([1.0, 2, 3]), np.array([2.0, 4, 7])) == pytest.approx(30 / 93, abs=1e-12)


def test_ccc_mean_shift_lowers_it_while_pearson_does_not():
    rng = np.random.default_rng(0)
    y = rng.uniform(-1, 1, 200)
    y_hat = y + rng.normal(0, 0.1, 200)
    assert ccc(y, y_hat + 0.3) < ccc(y, y_hat)
    assert pearson(y, y_hat + 0.3) == pytest.approx(pearson(y, y_hat), abs=1e-12)


def test_ccc_uses_population_variance():
    rng = np.random.default_rng(1)
    y, y_hat = rng.normal(size=30), rng.normal(size=30)
    expected = 2 * np.cov(y, y_hat, ddof=0)[0, 1] / (np.var(y) + np.var(y_hat) + (y.mean() - y_hat.mean()) ** 2)
    assert ccc(y, y_hat) == pytest.approx(expected, abs=1e-12)


def test_va_score_is_mean_of_the_two_cccs():
    v = np.array([0.1, 0.4, -0.3, 0.2])
    a = np.array([0.5, 0.2, 0.1, -0.4])
    score = va_score(v, v, a, np.zeros(4))
    assert score == {"valence": pytest.approx(1.0), "arousal": 0.0, "p": pytest.approx(0.5)}


def test_classification_scores_hand_computed():
    # 3 classes; true [0,0,0,0,1,1,2,2,2,2], predicted [0,0,0,1,1,2,2,2,2,0]
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0])
    assert confusion_matrix(y_true, y_pred, 3).tolist() == [[3, 1, 0], [0, 1, 1], [1, 0, 3]]
    scores = classification_scores(y_true, y_pred, 3)
    assert scores["accuracy"] == pytest.approx(7 / 10)
    assert scores["mean_class_accuracy"] == pytest.approx((3 / 4 + 1 / 2 + 3 / 4) / 3)
    # F1 per class: 2*3/(6+1+1) = 0.75, 2*1/(2+1+1) = 0.5, 2*3/(6+1+1) = 0.75
    assert scores["macro_f1"] == pytest.approx((0.75 + 0.5 + 0.75) / 3)


def test_classification_scores_match_sklearn():
    """Seven classes, one (5) absent from truth and prediction, one (6) only predicted, as a small demo test split can be."""
    rng = np.random.default_rng(4)
    y_true = rng.choice([0, 1, 2, 3, 4], 300, p=[0.1, 0.05, 0.15, 0.5, 0.2])
    y_pred = np.where(rng.uniform(size=300) < 0.6, y_true, rng.choice([0, 1, 2, 3, 4, 6], 300))
    assert 5 not in y_true and 5 not in y_pred and 6 in y_pred and 6 not in y_true
    scores = classification_scores(y_true, y_pred, 7)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    assert scores["confusion_matrix"] == skm.confusion_matrix(y_true, y_pred, labels=range(7)).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns that class 6 is predicted but absent from the truth
        balanced = skm.balanced_accuracy_score(y_true, y_pred)  # mean recall over the classes with support
    assert scores["mean_class_accuracy"] == pytest.approx(balanced, abs=1e-12)
    # Macro-F1 over the classes whose F1 is defined: class 5 (2TP + FP + FN = 0) is left out, as sklearn does with zero_division=nan.
    assert scores["macro_f1"] == pytest.approx(
        skm.f1_score(y_true, y_pred, labels=range(7), average="macro", zero_division=np.nan), abs=1e-12
    )
    per_class = skm.f1_score(y_true, y_pred, labels=range(7), average=None, zero_division=0.0)
    assert scores["macro_f1"] == pytest.approx(np.delete(per_class, 5).mean(), abs=1e-12)
    # sklearn's default (zero_division=0: "warn") would count class 5 as F1 = 0 and average over 7: a lower number
    assert skm.f1_score(y_true, y_pred, labels=range(7), average="macro", zero_division=0.0) == pytest.approx(
        scores["macro_f1"] * 6 / 7, abs=1e-12
    )
    # When every class occurs (the real test splits), the readings agree: no class is left out.
    full_true, full_pred = np.arange(70) % 7, (np.arange(70) % 7 + (np.arange(70) % 5 == 0)) % 7
    assert classification_scores(full_true, full_pred, 7)["macro_f1"] == pytest.approx(
        skm.f1_score(full_true, full_pred, labels=range(7), average="macro", zero_division=0.0), abs=1e-12
    )


def test_classification_scores_refuse_an_empty_split():
    with pytest.raises(ValueError, match="at least one sample"):
        classification_scores(np.array([], dtype=int), np.array([], dtype=int), 7)
