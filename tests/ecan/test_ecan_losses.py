"""ECAN losses (Eqs. 4-10), momentum update (Eq. 1) and memory bank (Eq. 2) against hand computations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from affrepro.ecan import losses as L
from affrepro.models.ecan import MemoryBank, momentum_update


def _features(n=8, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


def _loop_contrastive(z, y, tau, bank_z=None, bank_y=None, negatives="none"):
    """Eqs. 4-6 written out anchor by anchor; mean over anchors (our convention)."""
    per_anchor = []
    for i in range(len(z)):
        denominator = sum(math.exp(float(z[i] @ z[a]) / tau) for a in range(len(z)) if a != i)
        if bank_z is not None:
            for m in range(len(bank_z)):
                if negatives == "all" or (negatives == "other_class" and bank_y[m] != y[i]):
                    denominator += math.exp(float(z[i] @ bank_z[m]) / tau)
        positives = [p for p in range(len(z)) if p != i and y[p] == y[i]]
        if not positives:
            continue
        per_anchor.append(-sum(math.log(math.exp(float(z[i] @ z[p]) / tau) / denominator) for p in positives) / len(positives))
    return sum(per_anchor) / len(per_anchor)


Y = torch.tensor([0, 1, 0, 2, 1, 0, 2, 3])  # class 3 has a single view: an anchor without positives


def test_supcon_matches_loop_of_eq4():
    z = _features()
    assert float(L.supcon(z, Y, 0.1)) == pytest.approx(_loop_contrastive(z, Y, 0.1), rel=1e-6)


def test_esc_and_ensc_match_loops_of_eq5_eq6():
    z, bank = _features(), _features(6, seed=1)
    bank_y = torch.tensor([0, 1, 2, 3, 0, 1])
    assert float(L.esc(z, Y, 0.2, bank, bank_y)) == pytest.approx(_loop_contrastive(z, Y, 0.2, bank, bank_y, "all"), rel=1e-6)
    assert float(L.ensc(z, Y, 0.2, bank, bank_y)) == pytest.approx(_loop_contrastive(z, Y, 0.2, bank, bank_y, "other_class"), rel=1e-6)


def test_ensc_equals_supcon_with_empty_bank():
    z = _features()
    empty = torch.zeros(0, z.shape[1], dtype=z.dtype)
    assert float(L.ensc(z, Y, 0.1, empty, torch.zeros(0, dtype=torch.long))) == pytest.approx(float(L.supcon(z, Y, 0.1)), abs=0)
    assert float(L.ensc(z, Y, 0.1, None, None)) == float(L.supcon(z, Y, 0.1))


def test_ensc_ignores_same_class_bank_features_and_rises_with_other_class_ones():
    z = _features(4)
    y = torch.tensor([0, 0, 0, 0])
    base = float(L.ensc(z, y, 0.1, None, None))
    same = float(L.ensc(z, y, 0.1, _features(5, seed=2), torch.zeros(5, dtype=torch.long)))
    other = float(L.ensc(z, y, 0.1, _features(5, seed=2), torch.ones(5, dtype=torch.long)))
    assert same == pytest.approx(base, abs=1e-12)
    assert other > base + 1e-6


def test_center_loss_eq7_by_hand():
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 1, 0])
    centers = torch.tensor([[1.0, 0.0], [2.0, 2.0]])
    # ||(0,2)||² + ||(1,-2)||² + ||(-1,0)||² = 4 + 5 + 1 = 10; / (2 * 3)
    assert float(L.center(x, y, centers)) == pytest.approx(10 / 6)


def test_affinity_eq8_by_hand():
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 1, 0])
    centers = torch.tensor([[1.0, 0.0], [2.0, 2.0], [0.0, 4.0]])
    # σ_c²: unbiased variance across the 3 centres per dimension, summed: var(1,2,0) = 1, var(0,2,4) = 4 -> 5
    assert float(L.center_variance(centers)) == pytest.approx(5.0)
    assert float(L.affinity(x, y, centers)) == pytest.approx((10 / 3) / 5.0)


def test_mva_alpha_is_one_for_equal_group_losses_and_eq9_otherwise():
    assert float(L.mva_alpha(torch.tensor([0.7, 0.7, 0.7, 0.7, 0.7]))) == pytest.approx(1.0)
    # mean 2, squared deviations 1 + 0 + 1 + 4 + 4 = 10 over V = 5 -> α = 1 + 2
    assert float(L.mva_alpha(torch.tensor([1.0, 2.0, 3.0, 0.0, 4.0]))) == pytest.approx(3.0)


def test_mva_eq10_weights_current_affinity_by_alpha():
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 1, 0])
    centers = torch.tensor([[1.0, 0.0], [2.0, 2.0], [0.0, 4.0]])
    current = 10 / 3 / 5.0
    assert float(L.mva(x, y, centers, [])) == pytest.approx(current)  # V = 1: α = 1
    history = [(centers[[0, 1]], torch.tensor([0, 1]))]  # a group sitting on its centres: affinity 0
    alpha = 1 + ((current / 2) ** 2 + (current / 2) ** 2) / 2
    assert float(L.mva(x, y, centers, history)) == pytest.approx(alpha * current)


def test_total_eq11():
    value = L.total(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(3.0), 0.2, 0.7)
    assert float(value) == pytest.approx(0.8 * 1 + 0.2 * 2 + 0.7 * 3)


def test_momentum_update_eq1_one_step():
    query, key = torch.nn.Linear(2, 1, bias=False), torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        query.weight.copy_(torch.tensor([[1.0, 2.0]]))
        key.weight.copy_(torch.tensor([[0.0, 4.0]]))
    momentum_update(key, query, 0.9)
    assert key.weight[0].tolist() == pytest.approx([0.1, 3.8])
    assert query.weight.tolist() == [[1.0, 2.0]]


def test_memory_bank_is_fifo_eq2():
    bank = MemoryBank(2)
    for value in (1.0, 2.0, 3.0):
        bank.push(torch.full((2, 3), value), torch.tensor([int(value)] * 2))
    assert len(bank) == 2 and bank.full
    assert [float(z[0, 0]) for z, _ in bank.recent(2)] == [3.0, 2.0]  # group 1 (the oldest) was popped
    z, y = bank.all()
    assert z.shape == (4, 3) and y.tolist() == [3, 3, 2, 2]
    assert MemoryBank(0).all() == (None, None)
