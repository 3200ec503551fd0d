"""Data augmentation levels of the ECAN paper, Table 1.

The config lists, per dataset, the ops of each level (none / weak / strong)
and each op's parameters; `build` turns them into transforms and
`table1_rows` renders Table 1 from the same config, so the table cannot drift
from what runs. Parameters are not given in the paper (our choices are in
config.yaml and papers/ecan.yaml: choices); sizes are fractions of the input size so one config
serves 224-pixel RAF-DB and 48-pixel FER2013.

Transforms act on a batch (N, 3, S, S), uint8 or float in [0, 1], already
resized to the input size (`prepare`): each op is torchvision's op of the same
name and parameters (same distributions, a draw per sample), written as tensor
operations on the whole batch instead of a Python loop over images. They draw
their randomness from torch's global generator (a batch of draws per op), so
they are reproducible under torch.manual_seed. Ops run in a fixed
order whatever order the config lists them in: geometry (crop, affine,
rotation, five-crop), flip, colour (jitter, grayscale, blur), normalisation,
then erasing (which works on the normalised tensor, as torchvision intends).

FiveCrop: in training one of the five crops (four corners and centre, side
`size` x S) is drawn uniformly per sample and resized back to S; at test time
the eval transform returns all five (5, 3, S, S) and the trainer averages the
five crops' logits.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from affrepro.features.resnet import (
    MEAN,
    STD,
)  # ImageNet statistics: the MS-Celeb-1M and torchvision ResNet-18 checkpoints expect them

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
APPLY_ORDER = (
    "crop",
    "affine",
    "rotation",
    "five_crop",
    "horizontal_flip",
    "color_jitter",
    "grayscale",
    "gaussian_blur",
    "normalize",
    "erasing",
)


def prepare(images: np.ndarray, input_size: int) -> torch.Tensor:
    """uint8 (N, H, W) grey or (N, H, W, 3) RGB -> uint8 (N, 3, S, S), resized once (the deterministic part of every level)."""
    x = torch.from_numpy(np.ascontiguousarray(images))
    x = x[:, None].expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[-1] != input_size or x.shape[-2] != input_size:
        out = torch.empty((x.shape[0], 3, input_size, input_size), dtype=torch.uint8)
        for start in range(0, len(x), 512):
            chunk = x[start : start + 512].float()
            out[start : start + 512] = (
                F.interpolate(
                    chunk, size=(input_size, input_size), mode="bilinear", antialias=True, align_corners=False
                )
                .round()
                .clamp(0, 255)
                .to(torch.uint8)
            )
        return out
    return x.contiguous()


def _batched(fn):
    """Let a batch transform take one (3, S, S) image too (the tests and per-image callers)."""

    def apply(x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            return fn(x[None])[0]
        return fn(x)

    return apply


def _rand(n: int) -> torch.Tensor:
    return torch.rand(n, dtype=torch.float64)


def _uniform(n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * _rand(n)


def _randint(high: torch.Tensor) -> torch.Tensor:
    """One integer in [0, high) per sample (high >= 1, a tensor)."""
    return torch.minimum((_rand(len(high)) * high).long(), high - 1)


def _per_sample(mask: torch.Tensor) -> torch.Tensor:
    return mask.view(-1, 1, 1, 1)


def _crop(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: int) -> torch.Tensor:
    """A size x size window per sample (top, left: (N,) int64) of (N, C, H, W)."""
    n, c, h, w = x.shape
    steps = torch.arange(size)
    flat = ((top[:, None] + steps)[:, :, None] * w + (left[:, None] + steps)[:, None, :]).view(n, 1, size * size)
    return x.reshape(n, c, h * w).gather(2, flat.expand(n, c, -1)).view(n, c, size, size)


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    return (
        x
        if x.shape[-1] == size
        else F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    )


def _grey(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601-2 luma (torchvision's rgb_to_grayscale), (N, 1, H, W)."""
    return (0.2989 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).to(x.dtype)


def _affine(x: torch.Tensor, angle, translate, scale, shear_x) -> torch.Tensor:
    """torchvision's tensor affine (centre of the image, nearest neighbour, fill 0), one matrix per sample.

    angle, shear_x in degrees, translate (N, 2) in pixels, scale (N,); the inverse
    matrix is torchvision's `_get_inverse_affine_matrix` with centre (0, 0).
    """
    rot, sx = torch.deg2rad(angle), torch.deg2rad(shear_x)
    a, b = torch.cos(rot), -torch.cos(rot) * torch.tan(sx) - torch.sin(rot)
    c, d = torch.sin(rot), -torch.sin(rot) * torch.tan(sx) + torch.cos(rot)
    inv = torch.stack([torch.stack([d, -b], 1), torch.stack([-c, a], 1)], 1) / scale[:, None, None]  # (N, 2, 2)
    shift = -(inv @ translate[:, :, None])[:, :, 0]
    h, w = x.shape[-2:]
    theta = torch.cat([inv, (shift / torch.tensor([w / 2, h / 2], dtype=shift.dtype))[:, :, None]], 2)
    theta[:, 0, 1] *= h / w
    theta[:, 1, 0] *= w / h
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


class RandomCrop:
    """torchvision RandomCrop(size, padding, padding_mode="reflect"), a window per sample."""

    def __init__(self, size: int, padding: int):
        self.size, self.padding = size, padding

    def __call__(self, x):
        n, p = len(x), self.padding
        if p:
            x = F.pad(x, (p, p, p, p), mode="reflect")
        span = torch.full((n,), x.shape[-1] - self.size + 1)
        return _crop(x, _randint(span), _randint(span), self.size)


class RandomAffine:
    """torchvision RandomAffine(degrees, translate, scale, shear) with a shear along x (one number), nearest, fill 0."""

    def __init__(self, degrees: float, translate=(0.0, 0.0), scale=(1.0, 1.0), shear: float = 0.0):
        self.degrees, self.translate, self.scale, self.shear = float(degrees), translate, scale, float(shear)

    def __call__(self, x):
        n, (h, w) = len(x), x.shape[-2:]
        angle = _uniform(n, -self.degrees, self.degrees)
        tx = torch.round(_uniform(n, -self.translate[0] * w, self.translate[0] * w))
        ty = torch.round(_uniform(n, -self.translate[1] * h, self.translate[1] * h))
        scale = _uniform(n, *self.scale)
        shear = _uniform(n, -self.shear, self.shear)
        return _affine(x, angle, torch.stack([tx, ty], 1), scale, shear)


class RandomRotation(RandomAffine):
    """torchvision RandomRotation(degrees): nearest, fill 0, same size."""

    def __init__(self, degrees: float):
        super().__init__(degrees)


class RandomFiveCrop:
    """Training: one of the five crops (four corners, centre), drawn uniformly per sample, resized back to the input size."""

    def __init__(self, input_size: int, size: float):
        self.input_size, self.crop = input_size, max(1, round(size * input_size))

    def origins(self, h: int, w: int) -> torch.Tensor:
        """(top, left) of torchvision's five_crop order: top-left, top-right, bottom-left, bottom-right, centre."""
        c = self.crop
        return torch.tensor(
            [[0, 0], [0, w - c], [h - c, 0], [h - c, w - c], [int(round((h - c) / 2.0)), int(round((w - c) / 2.0))]]
        )

    def __call__(self, x):
        which = _randint(torch.full((len(x),), 5))
        top_left = self.origins(*x.shape[-2:])[which]
        return _resize(_crop(x, top_left[:, 0], top_left[:, 1], self.crop), self.input_size)


class FiveCropStack(RandomFiveCrop):
    """Test time: all five crops, each resized to the input size, (N, 5, 3, S, S)."""

    def __call__(self, x):
        c = self.crop
        crops = [
            _resize(x[..., top : top + c, left : left + c], self.input_size)
            for top, left in self.origins(*x.shape[-2:]).tolist()
        ]
        return torch.stack(crops, 1)


class RandomHorizontalFlip:
    def __init__(self, p: float):
        self.p = p

    def __call__(self, x):
        return torch.where(_per_sample(_rand(len(x)) < self.p), x.flip(-1), x)


class RandomColorJitter:
    """RandomApply([ColorJitter(brightness, contrast, saturation, hue=0)], p): factors and op order drawn per sample."""

    def __init__(self, brightness: float, contrast: float, saturation: float, hue: float, p: float):
        if hue:
            raise ValueError(
                "ecan.augment color_jitter: hue must be 0 (the batched jitter implements brightness, contrast and saturation)"
            )
        self.ranges = [(max(0.0, 1 - v), 1 + v) if v else None for v in (brightness, contrast, saturation)]
        self.p = p

    @staticmethod
    def adjust(x: torch.Tensor, op: int, factor: torch.Tensor) -> torch.Tensor:
        f = _per_sample(factor.to(x.dtype))
        if op == 0:  # brightness: blend with black
            return (f * x).clamp(0, 1)
        if op == 1:  # contrast: blend with the mean grey level of the image
            return (f * x + (1 - f) * _grey(x).mean(dim=(-3, -2, -1), keepdim=True)).clamp(0, 1)
        return (f * x + (1 - f) * _grey(x)).clamp(0, 1)  # saturation: blend with the grey image

    def __call__(self, x):
        n = len(x)
        applied = _rand(n) <= self.p
        factors = [None if r is None else _uniform(n, *r) for r in self.ranges]
        order = torch.argsort(
            _rand(n * 3).view(n, 3), dim=1
        )  # a random order of the three ops per sample (ColorJitter's randperm)
        x = x.clone()
        for position in range(3):
            for op, factor in enumerate(factors):
                if factor is not None:
                    chosen = (applied & (order[:, position] == op)).nonzero()[:, 0]
                    if len(chosen):
                        x[chosen] = self.adjust(x[chosen], op, factor[chosen])
        return x


class RandomGrayscale:
    def __init__(self, p: float):
        self.p = p

    def __call__(self, x):
        return torch.where(_per_sample(_rand(len(x)) < self.p), _grey(x).expand_as(x), x)


class RandomGaussianBlur:
    """RandomApply([GaussianBlur(kernel, sigma)], p): sigma drawn per sample, reflect padding (torchvision's gaussian_blur)."""

    def __init__(self, kernel: int, sigma: tuple[float, float], p: float):
        self.kernel, self.sigma, self.p = kernel, sigma, p

    def __call__(self, x):
        n, c, h, w = x.shape
        applied = _rand(n) <= self.p
        sigma = _uniform(n, *self.sigma)
        half = (self.kernel - 1) * 0.5
        pdf = torch.exp(
            -0.5 * (torch.linspace(-half, half, self.kernel, dtype=torch.float64)[None] / sigma[:, None]) ** 2
        )
        k1d = (pdf / pdf.sum(1, keepdim=True)).to(x.dtype).repeat_interleave(c, 0)  # (N*C, k)
        pad = self.kernel // 2
        y = F.pad(x, (pad, pad, pad, pad), mode="reflect").reshape(1, n * c, h + 2 * pad, w + 2 * pad)
        y = F.conv2d(y, k1d[:, None, None, :], groups=n * c)
        y = F.conv2d(y, k1d[:, None, :, None], groups=n * c).view(n, c, h, w)
        return torch.where(_per_sample(applied), y, x)


class RandomErasing:
    """torchvision RandomErasing(p, scale, ratio, value=0): up to 10 draws of a box per sample, the first that fits is erased."""

    ATTEMPTS = 10

    def __init__(self, p: float, scale, ratio):
        self.p, self.scale, self.log_ratio = p, scale, (math.log(ratio[0]), math.log(ratio[1]))

    def __call__(self, x):
        n, _, h, w = x.shape
        applied = _rand(n) < self.p
        area = h * w * _uniform(n * self.ATTEMPTS, *self.scale).view(n, self.ATTEMPTS)
        aspect = torch.exp(_uniform(n * self.ATTEMPTS, *self.log_ratio)).view(n, self.ATTEMPTS)
        bh, bw = torch.round(torch.sqrt(area * aspect)).long(), torch.round(torch.sqrt(area / aspect)).long()
        fits = (bh < h) & (bw < w)
        first = torch.argmax(
            fits.long(), dim=1
        )  # the first attempt that fits (0 when none does: then `applied` is cleared)
        applied &= fits.any(1)
        bh, bw = bh.gather(1, first[:, None])[:, 0], bw.gather(1, first[:, None])[:, 0]
        top, left = _randint((h - bh + 1).clamp(min=1)), _randint((w - bw + 1).clamp(min=1))
        rows, cols = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
        box = (
            (rows >= top[:, None, None])
            & (rows < (top + bh)[:, None, None])
            & (cols >= left[:, None, None])
            & (cols < (left + bw)[:, None, None])
        )
        return x.masked_fill((box & applied[:, None, None])[:, None], 0.0)


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1)

    def __call__(self, x):
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)


def _to_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div(255) if x.dtype == torch.uint8 else x


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def _op(name: str, params: dict, size: int):
    if name == "crop":
        return RandomCrop(size, padding=int(round(params["padding"] * size)))
    if name == "affine":
        shear = params["shear"]
        if not isinstance(shear, (int, float)):
            raise ValueError(
                "ecan.augment affine: shear must be one number (a shear along x in [-shear, shear] degrees)"
            )
        return RandomAffine(params["degrees"], translate=params["translate"], scale=params["scale"], shear=shear)
    if name == "rotation":
        return RandomRotation(params["degrees"])
    if name == "five_crop":
        return RandomFiveCrop(size, params["size"])
    if name == "horizontal_flip":
        return RandomHorizontalFlip(params["p"])
    if name == "color_jitter":
        return RandomColorJitter(
            params["brightness"], params["contrast"], params["saturation"], params["hue"], params["p"]
        )
    if name == "grayscale":
        return RandomGrayscale(params["p"])
    if name == "gaussian_blur":
        return RandomGaussianBlur(
            _odd(params["kernel"] * size), tuple(float(v) * size for v in params["sigma"]), params["p"]
        )
    if name == "erasing":
        return RandomErasing(params["p"], params["scale"], params["ratio"])
    raise ValueError(f"unknown augmentation op {name!r}; known: {', '.join(OPS)}")


def _compose(steps):
    def apply(x):
        for step in steps:
            x = step(x)
        return x

    return _batched(apply)


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

    Both take a uint8 or float batch (N, 3, S, S) already resized by `prepare`
    (or one (3, S, S) image). The eval transform only normalises, except with
    five_crop, where it returns the five crops (N, 5, 3, S, S).
    """
    ops = set(level_ops(dataset, level, aug_config))
    params = aug_config[dataset]["params"]
    normalize = Normalize(MEAN, STD)
    steps = []
    for name in APPLY_ORDER:
        if name == "normalize":
            steps.append(normalize)
        elif name in ops:
            steps.append(_op(name, params[name], input_size))
    train = _compose([_to_float, *steps])
    if "five_crop" in ops:
        evaluate = _compose([_to_float, FiveCropStack(input_size, params["five_crop"]["size"]), normalize])
    else:
        evaluate = _compose([_to_float, normalize])
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
