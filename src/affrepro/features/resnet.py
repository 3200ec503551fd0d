"""ResNet-18 features (paper §3.2.1): global average of the last convolution map, 512-d.

Real runs load a ResNet-18 trained on AffectNet from a local checkpoint in the
torchvision key layout (the classifier `fc.*` is not used and may have any
number of classes); the demo uses a seeded random init.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision

from affrepro import compute
from affrepro.compute import autocast
from affrepro.features.weights import WeightsSpec, load_state_dict, seeded_init

# ImageNet statistics (RGB), which torchvision-layout ResNet-18 checkpoints expect.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
IMAGENET_MEAN = torch.tensor(MEAN).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor(STD).view(1, 3, 1, 1)
DIM = 512


def build(spec: WeightsSpec) -> torch.nn.Module:
    if spec.kind == "hub":
        raise ValueError(
            f"extractors.resnet18.weights: {spec.value} is neither `random` nor an existing checkpoint path"
        )
    seeded_init()
    model = torchvision.models.resnet18(weights=None)
    if spec.kind == "path":
        state = {k: v for k, v in load_state_dict(spec.value).items() if not k.startswith("fc.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise ValueError(
                f"{spec.value}: not a torchvision ResNet-18 state dict (missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
    model.fc = torch.nn.Identity()
    return model.eval()


def to_tensor(faces: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) RGB -> normalised float (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(faces)).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - IMAGENET_MEAN) / IMAGENET_STD


@torch.inference_mode()
def extract(
    model: torch.nn.Module, faces: np.ndarray, device: torch.device, precision: str, batch_size: int
) -> np.ndarray:
    """(N, 512) float32 features of uint8 (N, H, W, 3) RGB crops.

    The crops go to the device as uint8 and are normalised there in one pass,
    straight into the forward pass's dtype (bf16 under `precision: bf16`) and
    channels_last layout; one autocast region covers every batch, so the
    weights are cast to bf16 once per call rather than once per batch.
    """
    model = model.to(device, memory_format=torch.channels_last)
    out = np.empty((len(faces), DIM), np.float32)
    dtype = compute.dtype(precision)
    with autocast(device, precision):
        for start in range(0, len(faces), batch_size):
            pixels = torch.from_numpy(np.ascontiguousarray(faces[start : start + batch_size])).to(device)
            batch = compute.normalised_nchw(pixels, MEAN, STD, dtype)
            out[start : start + len(batch)] = model(batch).float().cpu().numpy()
    return out
