"""ECAN feature processing network (paper §3.1): Siamese encoders and a memory bank.

Enc_q (trained by back-propagation) and Enc_k (a momentum copy, Eq. 1) are
ResNet-18s whose 512-d global-average-pooled output is the deep feature z; a
linear classifier sits on z_q only. The memory bank is a FIFO queue of the
last K (z_k, y_k) groups, one group per minibatch (Eq. 2). As in MoCo's
reference code the model owns all of this state: both encoders, the momentum
update and the bank.
"""

from __future__ import annotations

import copy
import math
from collections import deque

import torch
from torch import nn

from affrepro.features import resnet
from affrepro.features.weights import WeightsSpec

FEATURE_DIM = resnet.DIM
STAGES = ("layer1", "layer2", "layer3", "layer4")  # the ResNet-18 stages, feature maps halving from input_size / 4
SMALL_MAP = 4  # ECAN.to_fast_layout: stages whose feature maps are smaller than this run in NCHW


def _to_nchw(module: nn.Module, args: tuple) -> tuple:
    return (args[0].contiguous(),)


class MemoryBank:
    """FIFO queue of K feature groups (z_k, y_k), Eq. 2. Group 0 is the newest."""

    def __init__(self, groups: int):
        if groups < 0:
            raise ValueError("memory bank size K must be >= 0")
        self.groups = groups
        self._queue: deque[tuple[torch.Tensor, torch.Tensor]] = deque()

    def push(self, z: torch.Tensor, y: torch.Tensor) -> None:
        """Push the current group; pop the oldest when more than K are held."""
        if self.groups == 0:
            return
        self._queue.appendleft((z.detach().float(), y.detach()))
        while len(self._queue) > self.groups:
            self._queue.pop()

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def full(self) -> bool:
        return len(self._queue) == self.groups

    def recent(self, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The n newest groups (for the V-1 historical groups of the MVA loss)."""
        return list(self._queue)[:n]

    def state_dict(self) -> dict:
        """The queue, newest group first (a resumed run needs it: affrepro.training)."""
        return {"groups": self.groups, "queue": [(z.clone(), y.clone()) for z, y in self._queue]}

    def load_state_dict(self, state: dict) -> None:
        """The saved queue, on the device of the queue it replaces (a resumed run fills the bank first)."""
        if state["groups"] != self.groups:
            raise ValueError(f"a memory bank of {state['groups']} groups cannot be loaded into one of {self.groups}")
        device = self._queue[0][0].device if self._queue else state["queue"][0][0].device if state["queue"] else "cpu"
        self._queue = deque((z.to(device).clone(), y.to(device).clone()) for z, y in state["queue"])

    def all(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """All stored features and labels concatenated (the z_m of Eqs. 5-6)."""
        if not self._queue:
            return None, None
        return torch.cat([z for z, _ in self._queue]), torch.cat([y for _, y in self._queue])


class ECAN(nn.Module):
    """Enc_q + classifier + class centres (trained), Enc_k (momentum copy) and a memory bank of K groups."""

    def __init__(self, weights: WeightsSpec, n_classes: int, seed: int, bank_groups: int):
        super().__init__()
        self.encoder_q = resnet.build(weights).train()
        torch.manual_seed(seed)  # the run seed drives the classifier and centres; the encoder init is fixed by its spec
        self.classifier = nn.Linear(FEATURE_DIM, n_classes)
        # Learnable class centres for the center / affinity / MVA losses (Eqs. 7-10).
        self.centers = nn.Parameter(torch.randn(n_classes, FEATURE_DIM))
        # Enc_k starts as a copy of Enc_q (as in MoCo) and never receives gradients.
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for p in self.encoder_k.parameters():
            p.requires_grad_(False)
        # A plain attribute, not a buffer: the bank is training state, not part of the weights an epoch is selected by.
        self.bank = MemoryBank(bank_groups)

    def to_fast_layout(self, input_size: int) -> ECAN:
        """channels_last for the encoders' stages with feature maps of side >= SMALL_MAP, NCHW for the smaller ones.

        Speed only (the same numbers up to float rounding): oneDNN's channels_last
        kernels win on large maps, NCHW ones on the 3x3 and 2x2 maps of layer3/4
        at FER2013's 48 pixels (a training step at batch 32: -12% CPU time; at
        RAF-DB's 224 pixels every stage stays channels_last). State-dict keys are
        unchanged: the switch is a forward pre-hook on the first small stage.
        """
        self.to(memory_format=torch.channels_last)
        side = math.ceil(input_size / 4)  # after the stride-2 stem and the max pool
        for i, name in enumerate(STAGES):
            side = side if i == 0 else math.ceil(side / 2)
            if side < SMALL_MAP:
                for encoder in (self.encoder_q, self.encoder_k):
                    for later in STAGES[i:]:
                        getattr(encoder, later).to(memory_format=torch.contiguous_format)
                    getattr(encoder, name).register_forward_pre_hook(_to_nchw)
                break
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(z_q, logits) for a batch of query views."""
        z = self.encoder_q(x)
        return z, self.classifier(z)

    @torch.no_grad()
    def encode_key(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder_k(x)

    @torch.no_grad()
    def momentum_update(self, m: float) -> None:
        """Eq. 1: θ_k <- m θ_k + (1 - m) θ_q, for parameters; BN buffers of Enc_k keep their own statistics (as MoCo)."""
        momentum_update(self.encoder_k, self.encoder_q, m)

    def enqueue(self, z_k: torch.Tensor, y: torch.Tensor) -> None:
        """Eq. 2: the minibatch's key features become the newest bank group."""
        self.bank.push(z_k, y)


@torch.no_grad()
def momentum_update(key: nn.Module, query: nn.Module, m: float) -> None:
    """Eq. 1 on every parameter pair (key, query)."""
    key_params, query_params = list(key.parameters()), [p.detach() for p in query.parameters()]
    torch._foreach_mul_(key_params, m)
    torch._foreach_add_(key_params, query_params, alpha=1 - m)
