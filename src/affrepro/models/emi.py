"""EMI branches (paper §3.3-3.4, Fig. 2).

Visual: TCN -> Transformer encoder -> mean over time -> FFN (Eq. 3) -> 6.
Audio:  TCN -> mean over time -> FFN (Eq. 4) -> 6.
The paper's FFN is ReLU(X W1 + b1) W2 + b2 producing one 6-vector per video;
we read it as applied to the time-averaged sequence representation.
"""

from __future__ import annotations

import torch
from torch import nn

from affrepro.models.tcn import TCN
from affrepro.models.temporal_transformer import TemporalTransformer, masked_mean


class EMIBranch(nn.Module):
    def __init__(self, in_dim: int, use_transformer: bool, params: dict, n_outputs: int = 6):
        super().__init__()
        d_model = params["tcn_channels"]
        self.tcn = TCN(in_dim, d_model, params["tcn_layers"], params["tcn_kernel_size"], params["dropout"])
        self.encoder = (
            TemporalTransformer(
                d_model,
                params["transformer_layers"],
                params["transformer_heads"],
                params["transformer_ff_dim"],
                params["dropout"],
            )
            if use_transformer
            else None
        )
        self.ffn = nn.Sequential(
            nn.Linear(d_model, params["ffn_hidden"]), nn.ReLU(), nn.Linear(params["ffn_hidden"], n_outputs)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.tcn(x)
        if self.encoder is not None:
            h = self.encoder(h, mask)
        return self.ffn(masked_mean(h, mask))
