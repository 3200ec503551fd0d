"""Temporal Transformer encoder over a (B, T, D) sequence with a padding mask.

No positional encoding is added (neither the EMI nor the VA paper mentions
one). Self-attention without it is permutation-equivariant: permuting the
steps permutes the outputs the same way, so this encoder adds no notion of
order or position of its own.

Order reaches it only through the causal TCN in front of it (affrepro.models.tcn),
and only locally. A TCN output summarises the receptive field's steps up to
and including its own, 1 + (kernel_size - 1)(2^layers - 1) steps: 63 frames
with the configured kernel 3 and 5 layers (`TCN.receptive_field`). The TCN's
zero left padding tells apart the first 62 steps of a sequence by their
distance from its start; past them a TCN output depends only on its 63-step
context, not on where that context sits. So of two steps more than 62 apart
the encoder sees the order only through what their TCN windows contain, and
a masked mean over the encoder's output (the EMI model's pooling) ignores
order altogether.
"""

from __future__ import annotations

import torch
from torch import nn


class TemporalTransformer(nn.Module):
    def __init__(self, d_model: int, layers: int, heads: int, ff_dim: int, dropout: float):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, heads, ff_dim, dropout, activation="relu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, D); mask (B, T) True where a step is real."""
        return self.encoder(x, src_key_padding_mask=~mask)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real steps: (B, T, D), (B, T) -> (B, D)."""
    weights = mask.unsqueeze(-1).to(x.dtype)
    return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)
