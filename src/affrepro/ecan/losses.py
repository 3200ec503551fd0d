"""ECAN losses (paper §3.2-3.3), pure functions on tensors.

Conventions (the paper writes sums; we use means, see papers/ecan.yaml: choices):
- contrastive losses (Eqs. 4-6) average over anchors that have at least one
  positive, so their scale does not grow with the batch size and λ1 in Eq. 11
  trades them off against the (batch-mean) cross-entropy as intended;
- the features handed to the contrastive losses are expected L2-normalised
  (the caller does it), so z_i · z_a is a cosine similarity;
- the affinity and MVA losses follow DAN's reference code: the squared
  distances are averaged over the batch and σ_c² is the variance between class
  centres summed over feature dimensions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CONTRASTIVE_NEGATIVES = ("none", "all", "other_class")


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Classification loss L^cls of Eq. 11 (mean over the batch)."""
    return F.cross_entropy(logits, labels)


def contrastive(
    z: torch.Tensor,
    y: torch.Tensor,
    tau: float,
    bank_z: torch.Tensor | None = None,
    bank_y: torch.Tensor | None = None,
    negatives: str = "none",
) -> torch.Tensor:
    """Supervised contrastive loss with optional extra negatives from the memory bank.

    negatives = "none": SupCon (Eq. 4); "all": ESC (Eq. 5, every bank feature
    joins the denominator); "other_class": ENSC (Eq. 6, only bank features whose
    label differs from the anchor's). Positives P(i) and A(i) = I \\ {i} come
    from the two-view minibatch only. Mean over anchors with |P(i)| > 0.
    """
    if negatives not in CONTRASTIVE_NEGATIVES:
        raise ValueError(f"negatives must be one of {CONTRASTIVE_NEGATIVES}, got {negatives!r}")
    n = z.shape[0]
    z = z.float()
    logits = z @ z.T / tau
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    positive = (y[:, None] == y[None, :]) & ~self_mask
    logits_a = logits.masked_fill(self_mask, float("-inf"))
    terms = [logits_a]
    if negatives != "none" and bank_z is not None and bank_z.shape[0] > 0:
        bank_logits = z @ bank_z.float().T / tau
        if negatives == "other_class":
            bank_logits = bank_logits.masked_fill(y[:, None] == bank_y[None, :], float("-inf"))
        terms.append(bank_logits)
    log_denominator = torch.logsumexp(torch.cat(terms, dim=1), dim=1, keepdim=True)
    log_prob = logits - log_denominator
    n_pos = positive.sum(1)
    has_pos = n_pos > 0
    per_anchor = -(log_prob * positive).sum(1)[has_pos] / n_pos[has_pos]
    return per_anchor.mean() if has_pos.any() else z.sum() * 0.0


def supcon(z, y, tau):
    """SupCon, Eq. 4."""
    return contrastive(z, y, tau)


def esc(z, y, tau, bank_z, bank_y):
    """Extra supervised contrastive loss, Eq. 5: all bank features are extra negatives."""
    return contrastive(z, y, tau, bank_z, bank_y, negatives="all")


def ensc(z, y, tau, bank_z, bank_y):
    """Extra negative supervised contrastive loss, Eq. 6: bank features of other classes only."""
    return contrastive(z, y, tau, bank_z, bank_y, negatives="other_class")


def center(x: torch.Tensor, y: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Center loss, Eq. 7: 1/(2m) Σ_i ||x_i - c_{y_i}||²."""
    return ((x.float() - centers[y]) ** 2).sum() / (2 * x.shape[0])


def center_variance(centers: torch.Tensor) -> torch.Tensor:
    """σ_c² of Eq. 8: variance between class centres (unbiased, per dimension) summed over dimensions, as in DAN."""
    return centers.var(dim=0).sum()


def affinity(x: torch.Tensor, y: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Affinity loss, Eq. 8: Σ_i ||x_i - c_{y_i}||² / σ_c², averaged over the batch (DAN's code)."""
    return ((x.float() - centers[y]) ** 2).sum(1).mean() / center_variance(centers)


def mva_alpha(group_losses: torch.Tensor) -> torch.Tensor:
    """α_v of Eq. 9: 1 + population variance of the V per-group affinity losses (no gradient)."""
    group_losses = group_losses.detach()
    return 1.0 + ((group_losses - group_losses.mean()) ** 2).sum() / group_losses.numel()


def mva(
    x: torch.Tensor,
    y: torch.Tensor,
    centers: torch.Tensor,
    history: list[tuple[torch.Tensor, torch.Tensor]] = (),
) -> torch.Tensor:
    """Multi-view affinity loss, Eqs. 9-10.

    x, y: the current query features z_q (group v = 1, the only one with a
    gradient); history: the V-1 historical (z_k, y_k) groups from the memory
    bank. α_v (Eq. 9) weights the affinity loss of the current group (Eq. 10).
    """
    current = affinity(x, y, centers)
    with torch.no_grad():
        others = [affinity(hz, hy, centers) for hz, hy in history]
    alpha = mva_alpha(torch.stack([current.detach(), *others]))
    return alpha * current


def total(
    cls: torch.Tensor, ensc_loss: torch.Tensor, mva_loss: torch.Tensor, lambda1: float, lambda2: float
) -> torch.Tensor:
    """Eq. 11: (1 - λ1) L^cls + λ1 L^ensc + λ2 L^mva."""
    return (1 - lambda1) * cls + lambda1 * ensc_loss + lambda2 * mva_loss
