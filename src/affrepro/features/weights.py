"""Where an extractor's weights come from: `random`, a local path, or a hub id.

Hub ids are loaded from the local Hugging Face cache only (HF_HUB_OFFLINE is
honoured); the provenance records the id and the snapshot's commit, a file's
SHA-256, or `random-init` with its seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from affrepro.files import sha256_file

RANDOM_SEED = 0


@dataclass(frozen=True)
class WeightsSpec:
    kind: str  # "random" | "path" | "hub"
    value: str

    def provenance(self, commit: str | None = None) -> str:
        if self.kind == "random":
            return f"random-init (torch seed {RANDOM_SEED})"
        if self.kind == "path":
            path = Path(self.value)
            digest = sha256_file(path) if path.is_file() else "directory"
            if path.is_dir():
                files = sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix in {".bin", ".safetensors", ".pt", ".pth"}
                )
                digest = ",".join(f"{p.name}:{sha256_file(p)[:16]}" for p in files)
            return f"file {path.name} sha256:{digest}"
        return f"hub {self.value}" + (f"@{commit}" if commit else "")


def parse_weights(value: str | None, extractor: str) -> WeightsSpec:
    if value is None:
        raise ValueError(
            f"extractors.{extractor}.weights is not set: give a local checkpoint path, a hub id in the local cache, "
            f"or `random` (random init, for the demo only)"
        )
    if value == "random":
        return WeightsSpec("random", value)
    path = Path(value).expanduser()
    if path.exists():
        return WeightsSpec("path", str(path))
    if value.startswith((".", "/", "~")) or value.endswith((".pt", ".pth", ".bin", ".safetensors", ".ckpt")):
        raise FileNotFoundError(f"extractors.{extractor}.weights: {value} does not exist; fix the path or use `random`")
    return WeightsSpec("hub", value)


def seeded_init() -> None:
    """Seed torch before building a randomly initialised model, so its weights are reproducible."""
    torch.manual_seed(RANDOM_SEED)


def load_state_dict(path: str | Path) -> dict:
    """A state dict from .pt/.pth/.ckpt (optionally under 'state_dict' or 'model') or .safetensors; 'module.' prefixes dropped."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(state, dict) and key in state and isinstance(state[key], dict):
                state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a state dict")
    return {k.removeprefix("module."): v for k, v in state.items()}
