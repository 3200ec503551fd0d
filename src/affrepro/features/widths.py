"""Feature widths without torch: the workflow reads them while it plans, on every parse.

Importing the extractor modules (torch, transformers) only to read a width cost
each `snakemake` parse about 4 s and 0.8 GB (and a SLURM job parses the workflow
twice). The fixed widths are therefore written here, and the extractor modules'
own constants are tied to them by tests/common/test_common_features.py
(`resnet.DIM`, `au.DIM`, `dino.VIT_S16["hidden_size"]`). Wav2Vec2's width is the
checkpoint's `hidden_size`, read from its config.json with `json` (a local
folder or the local Hugging Face cache; the weights are not loaded), or the
`random_arch` setting with transformers' `Wav2Vec2Config` defaults for keys it
leaves out.
"""

from __future__ import annotations

import json
from pathlib import Path

RESNET18 = 512  # ResNet-18's pooled output (features.resnet.DIM)
AU = 34  # 17 action units x (presence, intensity) (features.au.DIM)
DINO = 384  # DINO ViT-S/16's hidden size (features.dino.VIT_S16)
FIXED = {"resnet18": RESNET18, "au": AU, "dino": DINO}

# transformers.Wav2Vec2Config's defaults, for a `random_arch` that leaves a key out.
WAV2VEC2_DEFAULTS = {"hidden_size": 768, "num_hidden_layers": 12}
LAST = "last"


def wav2vec2_architecture(settings: dict) -> dict:
    """`hidden_size` and `num_hidden_layers` of the checkpoint the settings name (random_arch for `random`)."""
    if settings["weights"] == "random":
        found = settings.get("random_arch") or {}
    else:
        found = json.loads(_config_file(settings["weights"]).read_text())
    return {key: int(found.get(key, default)) for key, default in WAV2VEC2_DEFAULTS.items()}


def _config_file(weights: str) -> Path:
    local = Path(weights).expanduser()
    if local.exists():
        path = local / "config.json"
        if path.is_file():
            return path
        raise ValueError(
            f"extractors.wav2vec2.weights: {local} has no config.json (save the checkpoint with save_pretrained)"
        )
    from huggingface_hub import try_to_load_from_cache  # only for hub ids; no torch either

    cached = try_to_load_from_cache(weights, "config.json")
    if not isinstance(cached, str):
        raise ValueError(
            f"extractors.wav2vec2.weights: no config.json for {weights!r} in the local Hugging Face cache; "
            f"download it first (huggingface-cli download {weights}) or give a local folder"
        )
    return Path(cached)


def check_layer(layer: str | int, num_hidden_layers: int) -> None:
    if layer != LAST and not 0 <= layer <= num_hidden_layers:
        raise ValueError(
            f"extractors.wav2vec2.layer: {layer} is not `last` or a hidden state index 0..{num_hidden_layers} of this checkpoint"
        )


def wav2vec2(settings: dict) -> int:
    """Width of the Wav2Vec2 features the settings produce (every layer and pooling keeps the model's hidden_size)."""
    architecture = wav2vec2_architecture(settings)
    check_layer(settings["layer"], architecture["num_hidden_layers"])
    return architecture["hidden_size"]


def extractor_width(extractor: str, extractors: dict) -> int:
    """Width of an EMI extractor's features; `extractors` is the config's `extractors` block."""
    return wav2vec2(extractors["wav2vec2"]) if extractor == "wav2vec2" else FIXED[extractor]
