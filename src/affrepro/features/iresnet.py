"""IResNet-50 face features (VA paper §3.1, Table 1): 512-d embedding.

The architecture is insightface's `iresnet50` (the ArcFace training code's
IResNet: pre-activation basic blocks BN-conv-BN-PReLU-conv-BN, layers
[3, 4, 14, 3], a 512 x (s/16)^2 -> 512 fully connected layer and a final
BatchNorm1d), so an ArcFace- or AffectNet-trained checkpoint in that key layout
loads unchanged. Inputs are RGB scaled to [-1, 1] as in insightface.

The paper resizes the crops to 48x48; an ArcFace checkpoint expects 112x112
(its fc layer is sized for a 7x7 map), so the 48x48 frames are resized to
`input_size` before the network (112 by default). With random weights any
multiple of 16 works; the fc layer is sized for the chosen input.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from affrepro import compute
from affrepro.compute import autocast
from affrepro.features.weights import WeightsSpec, load_state_dict, seeded_init

DIM = 512
LAYERS_50 = (3, 4, 14, 3)


class IBasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes, eps=1e-5)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (x if self.downsample is None else self.downsample(x))


class IResNet(nn.Module):
    def __init__(self, layers=LAYERS_50, input_size: int = 112, dim: int = DIM):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        inplanes, stages = 64, []
        for planes, blocks in zip((64, 128, 256, 512), layers):
            stage = [IBasicBlock(inplanes, planes, 2)] + [IBasicBlock(planes, planes, 1) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*stage))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.dropout = nn.Dropout(0.0)
        side = input_size
        for _ in range(4):
            side = math.ceil(side / 2)
        self.fc = nn.Linear(512 * side * side, dim)
        self.features = nn.BatchNorm1d(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn2(x).flatten(1))
        return self.features(self.fc(x))


def build(spec: WeightsSpec, input_size: int) -> IResNet:
    if spec.kind == "hub":
        raise ValueError(
            f"extractors.iresnet50.weights: {spec.value} is neither `random` nor an existing checkpoint path"
        )
    seeded_init()
    model = IResNet(input_size=input_size)
    if spec.kind == "path":
        state = load_state_dict(spec.value)
        fc_shape = tuple(state["fc.weight"].shape) if "fc.weight" in state else None
        if fc_shape is not None and fc_shape != tuple(model.fc.weight.shape):
            raise ValueError(
                f"{spec.value}: fc.weight is {fc_shape}, expected {tuple(model.fc.weight.shape)} for extractors.iresnet50.input_size "
                f"{input_size}; set input_size to the size the checkpoint was trained at (112 for ArcFace)"
            )
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"{spec.value}: not an insightface iresnet50 state dict (missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
    return model.eval()


def to_tensor(frames: np.ndarray, input_size: int) -> torch.Tensor:
    """uint8 (N, H, W, 3) RGB -> float (N, 3, s, s) in [-1, 1] (insightface normalisation)."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    if x.shape[-1] != input_size or x.shape[-2] != input_size:
        x = nn.functional.interpolate(x, size=(input_size, input_size), mode="bilinear", align_corners=False)
    return (x / 255.0 - 0.5) / 0.5


@torch.inference_mode()
def extract(
    model: IResNet, frames: np.ndarray, device: torch.device, precision: str, batch_size: int, input_size: int
) -> np.ndarray:
    """(N, 512) float32 embeddings of uint8 (N, H, W, 3) RGB frames (as resnet.extract: one pass to the forward dtype, one autocast region)."""
    model = model.to(device, memory_format=torch.channels_last)
    out = np.empty((len(frames), DIM), np.float32)
    dtype = compute.dtype(precision)
    resize = frames.shape[1:3] != (input_size, input_size)
    with autocast(device, precision):
        for start in range(0, len(frames), batch_size):
            chunk = frames[start : start + batch_size]
            if resize:
                batch = to_tensor(chunk, input_size).to(device, dtype, memory_format=torch.channels_last)
            else:
                batch = compute.normalised_nchw(
                    torch.from_numpy(np.ascontiguousarray(chunk)).to(device), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), dtype
                )
            out[start : start + len(batch)] = model(batch).float().cpu().numpy()
    return out
