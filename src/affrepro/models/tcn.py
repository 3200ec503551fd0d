"""Temporal Convolutional Network: stacked 1-D causal dilated convolutions.

Each layer is y_t = ReLU(W * x_{t-d} + b) (EMI paper Eq. 2): a kernel-k
convolution over x_t, x_{t-d}, ..., x_{t-(k-1)d}, with d doubling per layer
(1, 2, 4, ...). Inputs are left-padded, so the output at t never depends on
inputs after t; right padding of a batch therefore cannot leak into valid steps.
"""

from __future__ import annotations

import torch
from torch import nn


class CausalConv1d(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return self.conv(nn.functional.pad(x, (self.left_pad, 0)))


class TCN(nn.Module):
    """(B, T, in_dim) -> (B, T, channels)."""

    def __init__(self, in_dim: int, channels: int, layers: int = 5, kernel_size: int = 3, dropout: float = 0.0):
        super().__init__()
        blocks = []
        for layer in range(layers):
            blocks += [
                CausalConv1d(in_dim if layer == 0 else channels, channels, kernel_size, 2**layer),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
        self.net = nn.Sequential(*blocks)

    @property
    def receptive_field(self) -> int:
        return 1 + sum(m.left_pad for m in self.net if isinstance(m, CausalConv1d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)
