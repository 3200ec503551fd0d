"""Real-weight loading paths, tested offline on small checkpoints written here in the real formats."""

import numpy as np
import pytest
import torch
import torchvision
from transformers import ViTConfig, ViTModel, Wav2Vec2Config, Wav2Vec2Model

from affrepro.features import dino, resnet, wav2vec2
from affrepro.features.weights import parse_weights
from affrepro.io import sha256_file

CPU = torch.device("cpu")


def faces(n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (n, 112, 112, 3), dtype=np.uint8)


def test_weights_spec_kinds(tmp_path):
    assert parse_weights("random", "x").kind == "random"
    assert parse_weights("facebook/dino-vits16", "x").kind == "hub"
    (tmp_path / "w.pt").write_bytes(b"abc")
    spec = parse_weights(str(tmp_path / "w.pt"), "x")
    assert spec.kind == "path" and sha256_file(tmp_path / "w.pt") in spec.provenance()
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        parse_weights(str(tmp_path / "missing.pth"), "x")
    with pytest.raises(ValueError, match="extractors.resnet18.weights is not set"):
        parse_weights(None, "resnet18")


def test_resnet18_loads_an_affectnet_style_checkpoint(tmp_path):
    torch.manual_seed(1)
    reference = torchvision.models.resnet18(num_classes=7)  # AffectNet-style 7-class head
    state = {"module." + k: v for k, v in reference.state_dict().items()}
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "affectnet_r18.pth")
    model = resnet.build(parse_weights(str(tmp_path / "affectnet_r18.pth"), "resnet18"))
    x = faces()
    features = resnet.extract(model, x, CPU, "fp32", batch_size=2)
    reference.fc = torch.nn.Identity()
    with torch.no_grad():
        expected = reference.eval()(resnet.to_tensor(x)).numpy()
    assert features.shape == (3, 512) and features.dtype == np.float32
    assert np.allclose(features, expected, atol=1e-4)


def test_resnet18_refuses_a_foreign_checkpoint(tmp_path):
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a torchvision ResNet-18"):
        resnet.build(parse_weights(str(tmp_path / "other.pt"), "resnet18"))


def test_random_init_is_reproducible():
    a = resnet.extract(resnet.build(parse_weights("random", "resnet18")), faces(2), CPU, "fp32", 2)
    b = resnet.extract(resnet.build(parse_weights("random", "resnet18")), faces(2), CPU, "fp32", 2)
    assert np.array_equal(a, b)


def test_dino_loads_a_saved_transformers_vit(tmp_path):
    torch.manual_seed(2)
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, patch_size=16, image_size=64)
    ViTModel(config, add_pooling_layer=False).save_pretrained(tmp_path / "vit")
    model, _ = dino.build(parse_weights(str(tmp_path / "vit"), "dino"))
    x = faces(2)
    features = dino.extract(model, x, CPU, "fp32", batch_size=4, image_size=64)
    assert features.shape == (2, 32)
    reference = ViTModel.from_pretrained(tmp_path / "vit", add_pooling_layer=False).eval()
    pixels = torch.nn.functional.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255, size=(64, 64), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        expected = reference(pixel_values=(pixels - resnet.IMAGENET_MEAN) / resnet.IMAGENET_STD).last_hidden_state[:, 0].numpy()
    assert np.allclose(features, expected, atol=1e-5)


def test_dino_random_is_vit_small_16():
    model, _ = dino.build(parse_weights("random", "dino"))
    assert (model.config.hidden_size, model.config.patch_size, model.config.num_hidden_layers) == (384, 16, 12)


def test_wav2vec2_loads_a_saved_model_and_maps_to_video_frames(tmp_path):
    torch.manual_seed(3)
    config = Wav2Vec2Config(hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    Wav2Vec2Model(config).save_pretrained(tmp_path / "w2v")
    model, _ = wav2vec2.build(parse_weights(str(tmp_path / "w2v"), "wav2vec2"), random_arch={})
    signal = np.sin(np.linspace(0, 400, 32000)).astype(np.float32)  # 2 s at 16 kHz
    features = wav2vec2.extract(model, signal, 16000, CPU, "fp32", chunk_seconds=20, fps=30)
    assert features.shape == (60, 24)  # 2 s at 30 fps, dimension from the model
    chunked = wav2vec2.extract(model, signal, 16000, CPU, "fp32", chunk_seconds=0.5, fps=30)
    assert chunked.shape == features.shape


def test_wav2vec2_frame_grid_hand_case():
    # video frame i is centred at (i + 0.5) / 30 s; wav2vec2 frame j at (320 j + 200) / 16000 s
    index = wav2vec2.frames_on_video_grid(n_hidden=100, n_frames=4, fps=30, sample_rate=16000)
    assert index.tolist() == [round((266.67 - 200) / 320), round((800 - 200) / 320), round((1333.33 - 200) / 320), round((1866.67 - 200) / 320)]
    assert wav2vec2.frames_on_video_grid(5, 30, 30, 16000).max() == 4
