"""The VA paper's model (§3.3): a TCN per feature branch, concatenation
(Eq. 1), a Transformer encoder, then FC -> BatchNorm -> FC -> tanh giving
valence and arousal for every frame.

The TCN and the Transformer encoder are the ones shared with the EMI paper.
Between BatchNorm and the second FC a ReLU is applied: the paper lists no
activation, and without one the two FCs collapse into a single linear map at
inference. BatchNorm statistics use the real frames only (padding excluded).
No positional encoding is added: frame order reaches the encoder only within
the TCN's receptive field (63 frames with the configured TCN; see
affrepro.models.temporal_transformer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from affrepro.models.tcn import TCN
from affrepro.models.temporal_transformer import TemporalTransformer


@dataclass(frozen=True)
class VAModelSettings:
    """The model's widths and depths: config.yaml `va.model` (`VAModelSettings(**config["va"]["model"])`)."""

    tcn_channels: int  # per branch
    tcn_layers: int
    tcn_kernel_size: int
    tcn_dropout: float
    transformer_layers: int
    transformer_heads: int
    transformer_ff_dim: int
    dropout: float  # in each encoder layer
    head_hidden: int  # between the head's two FCs


class VAModel(nn.Module):
    def __init__(self, branch_dims: dict[str, int], settings: VAModelSettings):
        super().__init__()
        self.branch_names = list(branch_dims)
        self.branches = nn.ModuleDict(
            {
                name: TCN(
                    dim, settings.tcn_channels, settings.tcn_layers, settings.tcn_kernel_size, settings.tcn_dropout
                )
                for name, dim in branch_dims.items()
            }
        )
        width = settings.tcn_channels * len(branch_dims)
        self.encoder = TemporalTransformer(
            width,
            settings.transformer_layers,
            settings.transformer_heads,
            settings.transformer_ff_dim,
            settings.dropout,
        )
        self.head = nn.Sequential(
            nn.Linear(width, settings.head_hidden),
            nn.BatchNorm1d(settings.head_hidden),
            nn.ReLU(),
            nn.Linear(settings.head_hidden, 2),
            nn.Tanh(),
        )

    def forward(self, features: dict[str, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        """features[name] (B, T, D_name), mask (B, T) True on real frames -> (B, T, 2) valence, arousal."""
        fused = torch.cat([self.branches[name](features[name]) for name in self.branch_names], dim=-1)  # Eq. 1
        encoded = self.encoder(fused, mask)
        out = encoded.new_zeros(*mask.shape, 2)
        out[mask] = self.head(encoded[mask])
        return out


def ccc_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 2: (1 - CCC_valence) + (1 - CCC_arousal) over all frames, (M, 2) each.

    Population variances and covariance (divide by M), the estimator of
    affrepro.metrics.ccc, so the loss is exactly 2 - (CCC_v + CCC_a) of the metric.
    """
    mean_p, mean_t = prediction.mean(0), target.mean(0)
    dp, dt = prediction - mean_p, target - mean_t
    covariance = (dp * dt).mean(0)
    denominator = dp.pow(2).mean(0) + dt.pow(2).mean(0) + (mean_p - mean_t).pow(2)
    ccc = 2 * covariance / denominator.clamp_min(1e-12)
    return (1 - ccc).sum()
