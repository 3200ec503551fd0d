"""Data augmentation levels of the ECAN paper, Table 1.

The config lists, per dataset, the ops of each level (none / weak / strong)
and each op's parameters; `build` turns them into transforms and
`table1_rows` renders Table 1 from the same config, so the table cannot drift
from what runs. Parameters are not given in the paper (our choices are in
config.yaml and papers/ecan.yaml: choices); sizes are fractions of the input size so one config
serves 224-pixel RAF-DB and 48-pixel FER2013.

Transforms act on one float (3, S, S) tensor in [0, 1] that is already resized
to the input size (`prepare`), and draw their randomness from torch's global
generator, so they are reproducible under torch.manual_seed. Ops run in a fixed
order whatever order the config lists them in: geometry (crop, affine,
rotation, five-crop), flip, colour (jitter, grayscale, blur), normalisation,
then erasing (which works on the normalised tensor, as torchvision intends).

FiveCrop: in training one of the five crops (four corners and centre, side
`size` x S) is drawn uniformly per sample and resized back to S; at test time
the eval transform returns all five (5, 3, S, S) and the trainer averages the
five crops' logits.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
import torchvision.transforms.functional as TF

from affrepro.features.resnet import MEAN, STD  # ImageNet statistics: the MS-Celeb-1M and torchvision ResNet-18 checkpoints expect them

DATASETS = ("rafdb", "fer2013")
LEVELS = ("none", "weak", "strong")
# Paper name of each op, in Table 1's row order.
PAPER_NAMES = {
    "crop": "RandomCrop",
    "color_jitter": "RandomColorJitter",
    "horizontal_flip": "RandomHorizontalFlip",
    "rotation": "RandomRotation",
    "erasing": "RandomErasing",
    "grayscale": "RandomGrayscale",
    "gaussian_blur": "RandomGaussianBlur",
    "affine": "RandomAffine",
    "five_crop": "FiveCrop",
}
OPS = tuple(PAPER_NAMES)
APPLY_ORDER = ("crop", "affine", "rotation", "five_crop", "horizontal_flip", "color_jitter", "grayscale", "gaussian_blur", "normalize", "erasing")


def prepare(images: np.ndarray, input_size: int) -> torch.Tensor:
    """uint8 (N, H, W) grey or (N, H, W, 3) RGB -> uint8 (N, 3, S, S), resized once (the deterministic part of every level)."""
    x = torch.from_numpy(np.ascontiguousarray(images))
    x = x[:, None].expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[-1] != input_size or x.shape[-2] != input_size:
        out = torch.empty((x.shape[0], 3, input_size, input_size), dtype=torch.uint8)
        for start in range(0, len(x), 512):
            chunk = x[start : start + 512].float()
            out[start : start + 512] = F.interpolate(chunk, size=(input_size, input_size), mode="bilinear", antialias=True, align_corners=False).round().clamp(0, 255).to(torch.uint8)
        return out
    return x.contiguous()


class _FiveCrop(torch.nn.Module):
    """The four corner crops and the centre crop, side `size` x S, each resized back to S."""

    def __init__(self, input_size: int, size: float):
        super().__init__()
        self.input_size, self.crop = input_size, max(1, round(size * input_size))

    def resize(self, crop: torch.Tensor) -> torch.Tensor:
        return TF.resize(crop, [self.input_size, self.input_size], antialias=True)


class RandomFiveCrop(_FiveCrop):
    """Training: one of the five crops, drawn uniformly, resized back to the input size."""

    def forward(self, x):
        crops = TF.five_crop(x, [self.crop, self.crop])
        return self.resize(crops[int(torch.randint(5, (1,)))])


class FiveCropStack(_FiveCrop):
    """Test time: all five crops, each resized to the input size, stacked (5, 3, S, S)."""

    def forward(self, x):
        return torch.stack([self.resize(c) for c in TF.five_crop(x, [self.crop, self.crop])])


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def _op(name: str, params: dict, size: int) -> torch.nn.Module:
    if name == "crop":
        return T.RandomCrop(size, padding=int(round(params["padding"] * size)), padding_mode="reflect")
    if name == "affine":
        return T.RandomAffine(params["degrees"], translate=params["translate"], scale=params["scale"], shear=params["shear"])
    if name == "rotation":
        return T.RandomRotation(params["degrees"])
    if name == "five_crop":
        return RandomFiveCrop(size, params["size"])
    if name == "horizontal_flip":
        return T.RandomHorizontalFlip(params["p"])
    if name == "color_jitter":
        jitter = T.ColorJitter(params["brightness"], params["contrast"], params["saturation"], params["hue"])
        return T.RandomApply([jitter], p=params["p"])
    if name == "grayscale":
        return T.RandomGrayscale(params["p"])
    if name == "gaussian_blur":
        sigma = tuple(float(v) * size for v in params["sigma"])
        return T.RandomApply([T.GaussianBlur(_odd(params["kernel"] * size), sigma=sigma)], p=params["p"])
    if name == "erasing":
        return T.RandomErasing(p=params["p"], scale=params["scale"], ratio=params["ratio"], value=0)
    raise ValueError(f"unknown augmentation op {name!r}; known: {', '.join(OPS)}")


def level_ops(dataset: str, level: str, aug_config: dict) -> list[str]:
    if dataset not in aug_config:
        raise ValueError(f"ecan.augment has no entry for dataset {dataset!r} (have: {', '.join(aug_config)})")
    levels = aug_config[dataset]["levels"]
    if level not in levels:
        raise ValueError(f"ecan.augment.{dataset}.levels has no level {level!r} (have: {', '.join(levels)})")
    unknown = [op for op in levels[level] if op not in PAPER_NAMES]
    if unknown:
        raise ValueError(f"ecan.augment.{dataset}.levels.{level}: unknown op(s) {unknown}; known: {', '.join(OPS)}")
    return list(levels[level])


def build(dataset: str, level: str, aug_config: dict, input_size: int):
    """(train_transform, eval_transform) for one dataset and level of Table 1.

    Both take a uint8 or float (3, S, S) tensor already resized by `prepare`.
    The eval transform only normalises, except with five_crop, where it returns
    the five crops (5, 3, S, S).
    """
    ops = set(level_ops(dataset, level, aug_config))
    params = aug_config[dataset]["params"]
    normalize = T.Normalize(MEAN, STD)
    steps = []
    for name in APPLY_ORDER:
        if name == "normalize":
            steps.append(normalize)
        elif name in ops:
            steps.append(_op(name, params[name], input_size))
    to_float = T.Lambda(lambda x: x.float().div(255) if x.dtype == torch.uint8 else x)
    train = T.Compose([to_float, *steps])
    if "five_crop" in ops:
        evaluate = T.Compose([to_float, FiveCropStack(input_size, params["five_crop"]["size"]), normalize])
    else:
        evaluate = T.Compose([to_float, normalize])
    return train, evaluate


def table1_rows(aug_config: dict) -> list[dict]:
    """Rows of Table 1: op (paper name), then rafdb_none .. fer2013_strong as booleans."""
    rows = []
    for op, paper_name in PAPER_NAMES.items():
        row = {"op": paper_name}
        for dataset in DATASETS:
            for level in LEVELS:
                row[f"{dataset}_{level}"] = op in level_ops(dataset, level, aug_config)
        rows.append(row)
    return rows
