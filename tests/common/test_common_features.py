"""Real-weight loading paths, tested offline on small checkpoints written here in the real formats."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from transformers import ViTConfig, ViTModel, Wav2Vec2Config, Wav2Vec2Model

from affrepro.features import au, dino, resnet, wav2vec2, widths
from affrepro.features.weights import parse_weights
from affrepro.files import sha256_file

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
    config = ViTConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, patch_size=16, image_size=64
    )
    ViTModel(config, add_pooling_layer=False).save_pretrained(tmp_path / "vit")
    model, _ = dino.build(parse_weights(str(tmp_path / "vit"), "dino"))
    x = faces(2)
    features = dino.extract(model, x, CPU, "fp32", batch_size=4, image_size=64)
    assert features.shape == (2, 32)
    reference = ViTModel.from_pretrained(tmp_path / "vit", add_pooling_layer=False).eval()
    pixels = torch.nn.functional.interpolate(
        torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255,
        size=(64, 64),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )
    with torch.no_grad():
        expected = (
            reference(pixel_values=(pixels - resnet.IMAGENET_MEAN) / resnet.IMAGENET_STD)
            .last_hidden_state[:, 0]
            .numpy()
        )
    assert np.allclose(features, expected, atol=1e-5)


def test_dino_random_is_vit_small_16():
    model, _ = dino.build(parse_weights("random", "dino"))
    assert (model.config.hidden_size, model.config.patch_size, model.config.num_hidden_layers) == (384, 16, 12)


def tiny_wav2vec2(path=None, layers=1, seed=3):
    """A small wav2vec2 (hidden_size 24) in the paper checkpoint's layout (stable layer norm); saved to `path` if given."""
    torch.manual_seed(seed)
    config = Wav2Vec2Config(
        hidden_size=24,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        do_stable_layer_norm=True,
        feat_extract_norm="layer",
    )
    model = Wav2Vec2Model(config).eval()
    if path is not None:
        model.save_pretrained(path)
    return model


def w2v_settings(chunk_seconds=20, layer="last", pooling="frame"):
    return {"chunk_seconds": chunk_seconds, "layer": layer, "pooling": pooling}


SIGNAL = np.sin(np.linspace(0, 400, 32000)).astype(np.float32)  # 2 s at 16 kHz


def test_wav2vec2_loads_a_saved_model_and_maps_to_video_frames(tmp_path):
    tiny_wav2vec2(tmp_path / "w2v")
    model, _ = wav2vec2.build(parse_weights(str(tmp_path / "w2v"), "wav2vec2"), random_arch={})
    features = wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings())
    assert features.shape == (60, 24)  # 2 s at 30 fps, dimension from the model
    chunked = wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings(chunk_seconds=0.5))
    assert chunked.shape == features.shape


def reference_states(model, signal):
    """output_hidden_states of one forward pass over the normalised signal, computed here independently."""
    x = (signal - signal.mean()) / np.sqrt(signal.var() + 1e-7)
    with torch.inference_mode():
        out = model(torch.from_numpy(x.astype(np.float32))[None], output_hidden_states=True)
    return [h[0].numpy() for h in out.hidden_states], out.last_hidden_state[0].numpy()


def test_wav2vec2_layer_setting_picks_that_hidden_state():
    model = tiny_wav2vec2(layers=2)
    states, last = reference_states(model, SIGNAL)
    grid = wav2vec2.frames_on_video_grid(len(last), 60, 30, 16000)
    for layer in (0, 1, 2):
        got = wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings(layer=layer))
        np.testing.assert_allclose(got, states[layer][grid], atol=1e-5)
    got_last = wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings())
    np.testing.assert_allclose(got_last, last[grid], atol=1e-5)
    # stable layer norm: the model's output is the last layer after the final layer norm, not hidden_states[-1]
    assert not np.allclose(got_last, states[2][grid], atol=1e-3)
    with pytest.raises(ValueError, match="layer: 3 is not"):
        wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings(layer=3))


def test_wav2vec2_mean_pooling_hand_case():
    # window centres at 200 + 320 k samples: 200, 520 | 840 | 1160, 1480 | 1800, 2120 fall in video frames
    # [0, 533.3), [533.3, 1066.7), [1066.7, 1600), [1600, 2133.3) at 30 fps and 16 kHz
    hidden = np.array([[1.0, 10], [3, 30], [5, 50], [7, 70], [8, 80], [2, 20], [4, 40], [9, 90]], np.float32)
    pooled = wav2vec2.pool(hidden, 4, 30, 16000, "mean")
    assert pooled.tolist() == [[2.0, 20.0], [5.0, 50.0], [7.5, 75.0], [3.0, 30.0]]
    # frames past the audio's last state take that state; the clip mean is the same on every frame
    assert wav2vec2.pool(hidden[:2], 3, 30, 16000, "mean").tolist() == [[2.0, 20.0], [3.0, 30.0], [3.0, 30.0]]
    assert wav2vec2.pool(hidden, 3, 30, 16000, "clip").tolist() == [[4.875, 48.75]] * 3
    assert (
        wav2vec2.pool(hidden, 4, 30, 16000, "frame").tolist() == hidden[[0, 2, 4, 5]].tolist()
    )  # nearest centre to 266.7, 800, 1333.3, 1866.7


def test_wav2vec2_mean_pooling_of_a_model_averages_its_states_per_video_frame():
    model = tiny_wav2vec2(layers=2)
    states, last = reference_states(model, SIGNAL)
    got = wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings(layer=1, pooling="mean"))
    centres = (np.arange(len(last)) * 320 + 200) / 16000
    expected = [states[1][(centres >= i / 30) & (centres < (i + 1) / 30)].mean(axis=0) for i in range(60)]
    np.testing.assert_allclose(got, np.array(expected), atol=1e-5)
    clip = wav2vec2.extract(model, SIGNAL, 16000, CPU, "fp32", 30, w2v_settings(pooling="clip"))
    np.testing.assert_allclose(clip, np.repeat(last.mean(axis=0, keepdims=True), 60, axis=0), atol=1e-5)


def test_wav2vec2_dimension_comes_from_the_checkpoint_config(tmp_path):
    tiny_wav2vec2(tmp_path / "w2v", layers=2)
    settings = {"weights": str(tmp_path / "w2v"), "random_arch": {"hidden_size": 1024}, "layer": "last"}
    assert widths.wav2vec2(settings) == 24
    assert (
        widths.wav2vec2(
            {
                **settings,
                "weights": "random",
                "random_arch": {
                    "hidden_size": 40,
                    "num_hidden_layers": 1,
                    "num_attention_heads": 4,
                    "intermediate_size": 8,
                },
            }
        )
        == 40
    )
    with pytest.raises(ValueError, match="layer: 5 is not"):
        widths.wav2vec2({**settings, "layer": 5})
    with pytest.raises(ValueError, match="has no config.json"):
        widths.wav2vec2({**settings, "weights": str(tmp_path)})


def test_the_torch_free_widths_equal_the_extractors_own():
    """The workflow plans with affrepro.features.widths; the extractors build their outputs from their own constants."""
    assert widths.FIXED == {"resnet18": resnet.DIM, "au": au.DIM, "dino": dino.VIT_S16["hidden_size"]}
    assert resnet.build(parse_weights("random", "resnet18"))(torch.zeros(1, 3, 32, 32)).shape == (1, widths.RESNET18)
    assert len(au.FEATURE_NAMES) == widths.AU
    for arch in (
        {},
        {"hidden_size": 40, "num_hidden_layers": 3},
    ):  # transformers' defaults fill what random_arch leaves out
        config = wav2vec2.random_config({"num_attention_heads": 4, "intermediate_size": 8, **arch})
        found = widths.wav2vec2_architecture({"weights": "random", "random_arch": arch})
        assert found == {"hidden_size": config.hidden_size, "num_hidden_layers": config.num_hidden_layers}


def test_wav2vec2_dimension_of_a_hub_id_comes_from_the_local_cache(tmp_path):
    """At parse time a hub id's width is read from config.json in the local HF cache, offline, without the weights."""
    snapshot = tmp_path / "hub" / "models--org--tiny-w2v" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    Wav2Vec2Config(hidden_size=24, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32).to_json_file(
        snapshot / "config.json"
    )
    (tmp_path / "hub" / "models--org--tiny-w2v" / "refs").mkdir()
    (tmp_path / "hub" / "models--org--tiny-w2v" / "refs" / "main").write_text("a" * 40)
    code = (
        "import sys; from affrepro.features import widths; "
        "print(widths.wav2vec2({'weights': 'org/tiny-w2v', 'random_arch': {}, 'layer': 2}), 'torch' in sys.modules)"
    )
    env = dict(os.environ, HF_HUB_CACHE=str(tmp_path / "hub"), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "24 False"


def test_wav2vec2_frame_grid_hand_case():
    # video frame i is centred at (i + 0.5) / 30 s; wav2vec2 frame j at (320 j + 200) / 16000 s
    index = wav2vec2.frames_on_video_grid(n_hidden=100, n_frames=4, fps=30, sample_rate=16000)
    assert index.tolist() == [
        round((266.67 - 200) / 320),
        round((800 - 200) / 320),
        round((1333.33 - 200) / 320),
        round((1866.67 - 200) / 320),
    ]
    assert wav2vec2.frames_on_video_grid(5, 30, 30, 16000).max() == 4


@pytest.fixture(scope="module")
def real_face_crops():
    """Aligned 112x112 crops of the real face video (MTCNN, the preprocess settings), sampled at 10 fps."""
    from helpers import FACENET_MTCNN, FIXTURES

    from affrepro.preprocess.faces import detect_faces, make_detector

    track = detect_faces(
        FIXTURES / "video/single_face.mp4",
        make_detector(FACENET_MTCNN),
        fps=10,
    )
    assert len(track.faces) >= 15
    return track.faces


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("extractor", ["resnet18", "iresnet50"])
def test_bf16_features_stay_close_to_fp32_on_real_faces(real_face_crops, extractor):
    """compute.precision: bf16 (autocast, bf16 inputs) gives per-frame features within cosine 0.999 of fp32."""
    from affrepro.features import iresnet

    if extractor == "resnet18":
        model = resnet.build(parse_weights("random", "resnet18"))
        run = lambda precision: resnet.extract(model, real_face_crops, CPU, precision, batch_size=8)  # noqa: E731
    else:
        model = iresnet.build(parse_weights("random", "iresnet50"), input_size=112)
        run = lambda precision: iresnet.extract(model, real_face_crops, CPU, precision, batch_size=8, input_size=112)  # noqa: E731
    fp32, bf16 = run("fp32"), run("bf16")
    assert fp32.dtype == bf16.dtype == np.float32 and fp32.shape == bf16.shape
    assert not np.array_equal(fp32, bf16)  # bf16 really ran
    assert _cosines(fp32, bf16).min() >= 0.999
    assert np.array_equal(bf16, run("bf16"))  # deterministic


def test_one_pass_normalisation_matches_the_float_reference():
    from affrepro import compute

    x = faces(4)
    fp32 = compute.normalised_nchw(x, resnet.MEAN, resnet.STD)
    assert fp32.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(fp32, resnet.to_tensor(x), atol=1e-5)
    assert torch.equal(
        compute.normalised_nchw(x, resnet.MEAN, resnet.STD, torch.bfloat16), resnet.to_tensor(x).bfloat16()
    )
