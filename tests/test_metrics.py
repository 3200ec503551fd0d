import numpy as np
import pytest
from scipy import stats

from affrepro.metrics import mean_pearson, mean_std, pearson


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
