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
        per_anchor.append(
            -sum(math.log(math.exp(float(z[i] @ z[p]) / tau) / denominator) for p in positives) / len(positives)
        )
    return sum(per_anchor) / len(per_anchor)


Y = torch.tensor([0, 1, 0, 2, 1, 0, 2, 3])  # class 3 has a single view: an anchor without positives


def test_supcon_matches_loop_of_eq4():
    z = _features()
    assert float(L.supcon(z, Y, 0.1)) == pytest.approx(_loop_contrastive(z, Y, 0.1), rel=1e-6)


def test_esc_and_ensc_match_loops_of_eq5_eq6():
    z, bank = _features(), _features(6, seed=1)
    bank_y = torch.tensor([0, 1, 2, 3, 0, 1])
    assert float(L.esc(z, Y, 0.2, bank, bank_y)) == pytest.approx(
        _loop_contrastive(z, Y, 0.2, bank, bank_y, "all"), rel=1e-6
    )
    assert float(L.ensc(z, Y, 0.2, bank, bank_y)) == pytest.approx(
        _loop_contrastive(z, Y, 0.2, bank, bank_y, "other_class"), rel=1e-6
    )


def test_ensc_with_an_empty_bank_is_eq4():
    """No bank (None) or an empty one: ENSC and ESC reduce to SupCon, checked against the loop of Eq. 4 (not another path through L.contrastive)."""
    z = _features()
    eq4 = _loop_contrastive(z, Y, 0.1)
    empty = (torch.zeros(0, z.shape[1], dtype=z.dtype), torch.zeros(0, dtype=torch.long))
    assert float(L.ensc(z, Y, 0.1, *empty)) == pytest.approx(eq4, rel=1e-6)  # float32 inside
    assert float(L.ensc(z, Y, 0.1, None, None)) == pytest.approx(eq4, rel=1e-6)  # float32 inside
    assert float(L.esc(z, Y, 0.1, *empty)) == pytest.approx(eq4, rel=1e-6)  # float32 inside
    # Eq. 4 by hand, τ = 1, y = [0, 0, 1]: anchor 0 sees its positive z_1 at dot 0 and z_2 at dot 1, anchor 1 sees both at dot 0;
    # anchor 2 has no positive and is left out of the mean.
    z3 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    by_hand = (math.log(1 + math.e) + math.log(2)) / 2
    assert float(L.ensc(z3, torch.tensor([0, 0, 1]), 1.0, None, None)) == pytest.approx(by_hand, rel=1e-6)


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


def test_mva_alpha_carries_no_gradient():
    """α_v (Eq. 9) is a constant of the step: built from losses with a gradient, it has none itself."""
    group_losses = torch.tensor([1.0, 2.0, 3.0, 0.0, 4.0], requires_grad=True)
    alpha = L.mva_alpha(group_losses)
    assert not alpha.requires_grad and alpha.grad_fn is None
    assert float(alpha) == pytest.approx(3.0)


def test_mva_gradient_is_alpha_times_the_affinity_gradient():
    """d L^mva = α d L^af_1 with α held fixed (Eq. 10): no gradient flows through α or the historical groups."""
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 1, 0])
    centers = torch.tensor([[1.0, 0.0], [2.0, 2.0], [0.0, 4.0]], requires_grad=True)
    history = [(torch.tensor([[1.0, 0.0], [2.0, 2.0]]), torch.tensor([0, 1]))]  # affinity 0
    current = 10 / 3 / 5.0
    alpha = 1 + ((current / 2) ** 2 + (current / 2) ** 2) / 2  # α of the two groups (current, 0), Eq. 9
    grad_x, grad_c = torch.autograd.grad(L.mva(x, y, centers, history), (x, centers))
    expected_x, expected_c = torch.autograd.grad(L.affinity(x, y, centers), (x, centers))
    assert alpha > 1.1  # α differs from 1, so a gradient through it would show
    assert torch.allclose(grad_x, alpha * expected_x, atol=1e-6) and torch.allclose(
        grad_c, alpha * expected_c, atol=1e-6
    )


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
