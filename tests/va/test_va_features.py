"""VA paper: the three extractors of Table 1 and the features job."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers import REPO

from affrepro.data import DatasetError
from affrepro.features import iresnet, load_features, mfcc, vggish
from affrepro.features.weights import parse_weights
from affrepro.files import write_json, write_npz
from affrepro.va import features


def test_mfcc_shape_and_value_against_an_independent_computation():
    t = np.arange(16000) / 16000
    signal = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 1800 * t)).astype(np.float32)
    frames = mfcc.mfcc_frames(signal)
    assert frames.shape == (101, 39)  # centred frames every 10 ms over 1 s
    # Independent: torchaudio's mel power spectrogram, 10 log10 with an 80 dB floor, orthonormal DCT-II (scipy).
    import torchaudio
    from scipy.fft import dct

    mel = (
        torchaudio.transforms.MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=40)(torch.from_numpy(signal))
        .double()
        .numpy()
    )
    db = 10 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db, db.max() - 80)
    expected = dct(db, type=2, norm="ortho", axis=0)[:13].T
    assert np.allclose(frames[:, :13], expected, atol=2e-3)
    # delta at frame 50 by the regression formula over +-2 frames
    c = frames[:, :13]
    delta = sum(n * (c[50 + n] - c[50 - n]) for n in (1, 2)) / (2 * (1 + 4))
    assert np.allclose(frames[50, 13:26], delta, atol=1e-4)
    picked = mfcc.extract(signal, np.array([0.0, 0.5, 0.999]))
    assert np.array_equal(picked, frames[[0, 50, 100]])


def test_vggish_log_mel_follows_the_recipe():
    t = np.arange(16000) / 16000
    logmel = vggish.log_mel(np.sin(2 * np.pi * 1000 * t))
    assert logmel.shape == (1 + (16000 - 400) // 160, 64)
    centres = 700 * (np.exp(np.linspace(vggish.hertz_to_mel(125), vggish.hertz_to_mel(7500), 66)[1:-1] / 1127) - 1)
    assert abs(centres[logmel[50].argmax()] - 1000) < 60  # the band around 1 kHz is the loudest
    assert np.all(logmel >= np.log(vggish.LOG_OFFSET) - 1e-12)
    examples = vggish.frame_examples(np.arange(200)[:, None].repeat(64, 1).astype(float), np.array([0.0, 1.0]))
    assert examples.shape == (2, 96, 64)
    assert examples[1, 48, 0] == 100  # example centred on the frame at 1.0 s
    assert examples[0, 0, 0] == 0 and examples[0, 48, 0] == 0  # edge padding before the start


def test_vggish_loads_the_torchvggish_key_layout(tmp_path):
    reference = vggish.VGGish()
    keys = sorted(reference.state_dict())
    assert keys == sorted(
        [f"features.{i}.{p}" for i in (0, 3, 6, 8, 11, 13) for p in ("weight", "bias")]
        + [f"embeddings.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")]
    )
    torch.manual_seed(3)
    state = {k: torch.randn_like(v) * 0.01 for k, v in reference.state_dict().items()}
    state |= {
        "pca_eigen_vectors": torch.zeros(128, 128),
        "pca_means": torch.zeros(128, 1),
    }  # shipped with torchvggish, unused
    path = tmp_path / "vggish-10086976.pth"
    torch.save(state, path)
    model = vggish.build(parse_weights(str(path), "vggish"))
    assert torch.equal(model.features[3].weight, state["features.3.weight"])
    assert torch.equal(model.embeddings[4].bias, state["embeddings.4.bias"])
    x = torch.randn(2, 1, 96, 64)
    assert model(x).shape == (2, 128)
    # The embedding layers see the conv map flattened in TensorFlow's (h, w, c) order, as the checkpoint expects.
    seen = {}
    model.embeddings[0].register_forward_pre_hook(lambda module, args: seen.setdefault("input", args[0]))
    with torch.no_grad():
        model(x)
        conv = model.features(x)  # (2, 512, 6, 4)
    assert conv.shape == (2, 512, 6, 4)
    assert torch.equal(seen["input"][:, :512], conv[:, :, 0, 0]) and torch.equal(
        seen["input"][:, 512:1024], conv[:, :, 0, 1]
    )
    torch.save({"features.0.weight": state["features.0.weight"]}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="not a torchvggish state dict"):
        vggish.build(parse_weights(str(tmp_path / "partial.pth"), "vggish"))


def batchnorm_keys(prefix: str, width: int) -> dict[str, tuple]:
    return {f"{prefix}.{p}": (width,) for p in ("weight", "bias", "running_mean", "running_var")} | {
        f"{prefix}.num_batches_tracked": ()
    }


def insightface_iresnet50_keys(fc_side: int = 7) -> dict[str, tuple]:
    """Key -> shape of insightface's iresnet50 state dict, written from its architecture, not from our module.

    recognition/arcface_torch/backbones/iresnet.py: conv1 3x3 (3 -> 64), bn1, prelu; four stages of
    IBasicBlocks [3, 4, 14, 3] with widths 64/128/256/512, each block bn1 - conv1 3x3 - bn2 - prelu -
    conv2 3x3 - bn3, the first block of every stage strided 2 with a downsample (1x1 conv, BN);
    then bn2 (512), fc (512 x 512*7*7 at 112x112 input, `fc_scale`) and features (BatchNorm1d 512).
    """
    keys = {"conv1.weight": (64, 3, 3, 3)} | batchnorm_keys("bn1", 64) | {"prelu.weight": (64,)}
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 14, 3)), start=1):
        for block in range(blocks):
            name, width_in = f"layer{stage}.{block}", inplanes if block == 0 else planes
            keys |= batchnorm_keys(f"{name}.bn1", width_in) | {f"{name}.conv1.weight": (planes, width_in, 3, 3)}
            keys |= batchnorm_keys(f"{name}.bn2", planes) | {
                f"{name}.prelu.weight": (planes,),
                f"{name}.conv2.weight": (planes, planes, 3, 3),
            }
            keys |= batchnorm_keys(f"{name}.bn3", planes)
            if block == 0:
                keys |= {f"{name}.downsample.0.weight": (planes, width_in, 1, 1)} | batchnorm_keys(
                    f"{name}.downsample.1", planes
                )
        inplanes = planes
    return (
        keys
        | batchnorm_keys("bn2", 512)
        | {"fc.weight": (512, 512 * fc_side * fc_side), "fc.bias": (512,)}
        | batchnorm_keys("features", 512)
    )


def test_iresnet50_has_insightface_keys_and_shapes():
    expected = insightface_iresnet50_keys()
    assert len(expected) == 5 + 1 + 1 + 24 * (3 * 5 + 3) + 4 * 6 + 5 + 2 + 5  # 24 blocks [3, 4, 14, 3], 4 downsamples
    ours = {k: tuple(v.shape) for k, v in iresnet.IResNet(input_size=112).state_dict().items()}
    assert ours == expected


def test_iresnet50_loads_an_insightface_checkpoint_and_checks_input_size(tmp_path):
    torch.manual_seed(1)
    state = {}
    for key, shape in insightface_iresnet50_keys(fc_side=1).items():  # fc for a 16x16 input (1x1 map)
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape) + 0.5
        else:
            state[key] = torch.randn(shape) * 0.01
    path = tmp_path / "backbone.pth"
    torch.save(state, path)  # as arcface_torch saves it: the bare backbone state dict
    loaded = iresnet.build(parse_weights(str(path), "iresnet50"), input_size=16)
    for key in (
        "conv1.weight",
        "layer3.5.conv2.weight",
        "layer2.0.downsample.1.running_var",
        "layer4.2.prelu.weight",
        "features.running_mean",
        "fc.bias",
    ):
        assert torch.equal(loaded.state_dict()[key], state[key]), key
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "ddp.pth")  # a DistributedDataParallel save
    assert torch.equal(
        iresnet.build(parse_weights(str(tmp_path / "ddp.pth"), "iresnet50"), input_size=16).layer1[0].bn1.weight,
        state["layer1.0.bn1.weight"],
    )
    frames = np.random.default_rng(0).integers(0, 255, (3, 48, 48, 3), dtype=np.uint8)
    out = iresnet.extract(loaded, frames, torch.device("cpu"), "fp32", 2, 16)
    assert out.shape == (3, 512) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="input_size"):
        iresnet.build(parse_weights(str(path), "iresnet50"), input_size=112)


def test_audio_times_and_a_truncated_track_named(tmp_path):
    trial = {"rows": np.array([0, 1, 5, 60]), "fps": np.float64(10.0)}
    assert features.audio_times(trial, 16000 * 2, 16000).tolist() == [0.0, 0.1, 0.5]  # 6.0 s is past the 2 s of audio
    audio = tmp_path / "t.wav"
    sf.write(audio, np.zeros(800, np.float32), 16000)  # 0.05 s
    late = {"rows": np.array([30, 31]), "fps": np.float64(10.0), "audio": audio}
    with pytest.raises(DatasetError, match="audio track is missing or truncated") as error:
        features.check_audio("t", late)
    assert str(audio) in str(error.value)


def test_features_job_reads_the_prepare_manifest_and_lists_each_trial_file(tmp_path):
    """MFCC of one prepared trial: one row per trial frame, the frames past the audio's end padded with the last row."""
    t = np.arange(16000) / 16000
    signal = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    prepared = tmp_path / "prepare"
    prepared.mkdir()
    sf.write(prepared / "a.wav", signal, 16000, subtype="PCM_16")  # as affrepro.va.prepare writes it
    rows = np.array([0, 10, 20, 40])  # at 25 fps: 0, 0.4, 0.8 and 1.6 s, the last past the 1 s of audio
    write_npz(
        prepared / "a.npz",
        frames=np.zeros((4, 48, 48, 3), np.uint8),
        rows=rows,
        labels=np.zeros((4, 2), np.float32),
        fps=np.float64(25.0),
    )
    write_json(
        tmp_path / "prepare.json",
        {
            "trials": {"a": {"trial": str(prepared / "a.npz"), "audio": str(prepared / "a.wav")}},
            "shard": 0,
            "shards": 1,
        },
    )
    out_dir, manifest = tmp_path / "features", tmp_path / "features.json"
    features.main(
        [
            "--config",
            str(REPO / "config.yaml"),
            "--extractor",
            "mfcc",
            "--prepared",
            str(tmp_path / "prepare.json"),
            "--out-dir",
            str(out_dir),
            "--manifest",
            str(manifest),
        ]
    )
    written = json.loads(manifest.read_text())
    assert written["dim"] == 39 and written["extractor"] == "mfcc"
    assert written["trials"] == {"a": {"file": str(out_dir / "a.npz"), "rows": 4}}
    values, frame_index, n_frames = load_features(out_dir / "a.npz")
    expected = mfcc.extract(sf.read(prepared / "a.wav", dtype="float32")[0], np.array([0.0, 0.4, 0.8]))
    assert np.array_equal(values, np.concatenate([expected, expected[-1:]]).astype(np.float32))
    assert frame_index.tolist() == [0, 10, 20, 40] and n_frames == 4
