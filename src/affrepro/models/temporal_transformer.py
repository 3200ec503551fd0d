"""Temporal Transformer encoder over a (B, T, D) sequence with a padding mask.

No positional encoding is added: the EMI paper mentions none, and the causal
TCN in front of it already makes each step's features depend on its position
relative to the sequence start (zero left padding).
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
