"""Wav2Vec2's layer, pooling and width reach the plan, the features manifest and the tables' provenance."""

import numpy as np
import soundfile as sf
import torch
from helpers import repo_config
from transformers import Wav2Vec2Config, Wav2Vec2Model

from affrepro.config.resolve import effective_config
from affrepro.emi import features, plan
from affrepro.emi import provenance as emi_provenance
from affrepro.emi.settings import Features
from affrepro.features import load_features
from affrepro.files import write_json


def test_a_hidden_size_24_checkpoint_gives_24_everywhere_the_width_is_reported(tmp_path):
    torch.manual_seed(0)
    arch = dict(
        hidden_size=24,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
    )
    Wav2Vec2Model(Wav2Vec2Config(**arch)).save_pretrained(tmp_path / "w2v")
    config = effective_config(repo_config(), "emi")
    config["extractors"]["wav2vec2"].update(weights=str(tmp_path / "w2v"), layer=1, pooling="mean")
    config["emi"]["feature_sets"] = {"wav2vec2": {"modality": "A", "extractors": ["wav2vec2"]}}
    config["emi"]["train"]["seq_len"] = 300

    assert plan.feature_dim(config, "wav2vec2") == 24
    assert plan.feature_set_dim(config, "wav2vec2") == 24  # what the training job's memory model is given

    sf.write(tmp_path / "a.wav", np.sin(np.linspace(0, 300, 16000)).astype(np.float32), 16000, subtype="PCM_16")
    manifest = features.extract_shard(
        Features.from_config(config, extractor="wav2vec2"),
        {"samples": {"7": {"file": str(tmp_path / "a.wav")}}},
        tmp_path,
    )
    feats, index, n_frames = load_features(tmp_path / "7.npz")
    assert feats.shape == (30, 24) and n_frames == 30
    assert {k: manifest[k] for k in ("dim", "layer", "num_hidden_layers", "pooling")} == {
        "dim": 24,
        "layer": 1,
        "num_hidden_layers": 2,
        "pooling": "mean",
    }

    write_json(tmp_path / "shard0.json", manifest)
    write_json(tmp_path / "stats.json", {"demo": True, "root": "r", "fingerprint": "f"})
    provenance = emi_provenance.provenance(
        config, {"stats": tmp_path / "stats.json", "wav2vec2": tmp_path / "shard0.json"}
    )
    reported = provenance["extractors"]["wav2vec2"]
    assert reported["weights"].startswith("file w2v sha256:")
    assert {k: v for k, v in reported.items() if k != "weights"} == {
        "precision": config["compute"]["precision"],
        "dim": 24,
        "layer": 1,
        "num_hidden_layers": 2,
        "pooling": "mean",
    }
