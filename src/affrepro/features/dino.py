"""DINO ViT-S/16 features (paper §3.2.1): the [CLS] embedding of the last layer, 384-d.

Weights: a hub id (facebook/dino-vits16, read from the local cache), a local
folder in the transformers layout, or `random` (the ViT-S/16 architecture,
seeded). Crops are resized to `image_size` (224 for the pretrained model;
position embeddings are interpolated for other sizes).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from transformers import ViTConfig, ViTModel

from affrepro import compute
from affrepro.compute import autocast
from affrepro.features.resnet import MEAN, STD
from affrepro.features.weights import WeightsSpec, seeded_init

VIT_S16 = dict(
    hidden_size=384,
    num_hidden_layers=12,
    num_attention_heads=6,
    intermediate_size=1536,
    patch_size=16,
    image_size=224,
    qkv_bias=True,
    layer_norm_eps=1e-6,
)


def build(spec: WeightsSpec) -> tuple[ViTModel, str | None]:
    if spec.kind == "random":
        seeded_init()
        model = ViTModel(ViTConfig(**VIT_S16), add_pooling_layer=False)
        return model.eval(), None
    model = ViTModel.from_pretrained(spec.value, add_pooling_layer=False)
    return model.eval(), getattr(model.config, "_commit_hash", None)


@torch.inference_mode()
def extract(
    model: ViTModel, faces: np.ndarray, device: torch.device, precision: str, batch_size: int, image_size: int
) -> np.ndarray:
    """(N, 384) float32 [CLS] embeddings; crops resized in float (antialiased), then normalised in one pass to the forward dtype."""
    model = model.to(device)
    out = np.empty((len(faces), model.config.hidden_size), np.float32)
    dtype = compute.dtype(precision)
    with autocast(device, precision):
        for start in range(0, len(faces), batch_size):
            x = (
                torch.from_numpy(np.ascontiguousarray(faces[start : start + batch_size]))
                .to(device)
                .permute(0, 3, 1, 2)
                .float()
            )
            if x.shape[-2:] != (image_size, image_size):
                x = F.interpolate(
                    x, size=(image_size, image_size), mode="bilinear", align_corners=False, antialias=True
                )
            x = compute.normalise(x, MEAN, STD, dtype).contiguous()
            hidden = model(
                pixel_values=x, interpolate_pos_encoding=image_size != model.config.image_size
            ).last_hidden_state
            out[start : start + len(x)] = hidden[:, 0].float().cpu().numpy()
    return out
