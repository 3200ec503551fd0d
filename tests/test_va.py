"""VA paper: Aff-Wild2 annotations, folds, features, model and loss."""

import numpy as np
import pytest
import torch

from affrepro.data import affwild2
from affrepro.data import DatasetError
from affrepro.features import iresnet, mfcc, vggish
from affrepro.features.weights import parse_weights
from affrepro.metrics import ccc
from affrepro.models.va import VAModel, ccc_loss
from affrepro.va.folds import assign_folds, selection_fold
from affrepro.va.train import moving_average, window_starts


def test_annotation_rows_without_minus_five(tmp_path):
    path = tmp_path / "trial.txt"
    path.write_text("valence,arousal\n0.1,0.2\n-5,-5\n-5,-5\n0.3,-0.4\n0.5,0.6\n")
    values = affwild2.read_annotation(path)
    assert values.shape == (5, 2)
    assert affwild2.valid_rows(values).tolist() == [0, 3, 4]
    assert values[affwild2.valid_rows(values)].tolist() == [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]


@pytest.mark.parametrize(
    "text, message",
    [
        ("v,a\n0.1,0.2\n", "header"),
        ("valence,arousal\n0.1,1.5\n", "line 2"),
        ("valence,arousal\n0.1,0.2\n0.1\n0.2\n", "line 3"),  # one value per line must not pair up into rows
        ("valence,arousal\n0.1,0.2,0.3,0.4\n", "line 2"),
    ],
)
def test_bad_annotation_names_the_file(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message) as error:
        affwild2.read_annotation(path)
    assert str(path) in str(error.value)


def test_pad_repeats_last_row_and_trim_cuts_the_end():
    features = np.array([[1.0, 10], [2, 20], [3, 30]])
    assert affwild2.fit_length(features, 5).tolist() == [[1, 10], [2, 20], [3, 30], [3, 30], [3, 30]]
    assert affwild2.fit_length(features, 2).tolist() == [[1, 10], [2, 20]]
    assert affwild2.fit_length(features, 3).tolist() == features.tolist()


def test_missing_frames_take_the_last_available_one():
    available = np.array([False, True, False, False, True, True, False])
    assert affwild2.fill_missing(available).tolist() == [1, 1, 1, 1, 4, 5, 5]
    assert affwild2.fill_missing(np.zeros(3, bool)).tolist() == [-1, -1, -1]


def test_trials_and_pairs(tmp_path):
    for folder, names in (("Train_Set", ["a", "vid_left", "vid_right"]), ("Validation_Set", ["b"])):
        (tmp_path / affwild2.ANNOTATIONS / folder).mkdir(parents=True)
        for name in names:
            (tmp_path / affwild2.ANNOTATIONS / folder / f"{name}.txt").write_text("valence,arousal\n0,0\n")
    (tmp_path / "videos").mkdir()
    for video in ("a", "vid", "b", "c"):
        (tmp_path / "videos" / f"{video}.mp4").write_bytes(b"")
    trials = affwild2.list_trials(tmp_path)
    assert [(t.name, t.split) for t in trials] == [("a", "train"), ("vid_left", "train"), ("vid_right", "train"), ("b", "valid"), ("c", "test")]
    assert trials[1].video_name == "vid"
    assert affwild2.video_path(tmp_path, trials[2]) == tmp_path / "videos" / "vid.mp4"


def test_folds_partition_keep_pairs_and_are_deterministic():
    lengths = {f"t{i:02d}": 100 + 37 * i for i in range(15)} | {"v_left": 300, "v_right": 300, "w_left": 50, "w_right": 50}
    folds = assign_folds(lengths, 6, seed=0)
    assert sorted(folds) == sorted(lengths)  # every trial in exactly one fold
    assert set(folds.values()) == set(range(6))
    assert folds["v_left"] == folds["v_right"] and folds["w_left"] == folds["w_right"]
    assert folds == assign_folds(dict(reversed(list(lengths.items()))), 6, seed=0)
    assert folds != assign_folds(lengths, 6, seed=1)
    frames = [sum(lengths[t] for t, f in folds.items() if f == k) for k in range(6)]
    assert max(frames) - min(frames) <= max(lengths.values())  # greedy balancing
    assert [selection_fold(k, 6) for k in range(6)] == [1, 2, 3, 4, 5, 0]
    with pytest.raises(ValueError, match="cannot fill"):
        assign_folds({"a": 1, "b_left": 1, "b_right": 1}, 3, seed=0)


def test_window_starts_cover_the_trial_and_end_at_its_end():
    assert window_starts(1000, 300, 200) == [0, 200, 400, 600, 700]
    assert window_starts(300, 300, 200) == [0]
    assert window_starts(120, 300, 200) == [0]


def test_moving_average_by_hand():
    values = np.array([[0.0], [3], [6], [9]])
    assert moving_average(values, 3)[:, 0].tolist() == [1.5, 3.0, 6.0, 7.5]
    assert moving_average(values, 1).tolist() == values.tolist()


def test_ccc_loss_is_two_minus_the_metric():
    rng = np.random.default_rng(0)
    target = rng.uniform(-1, 1, (50, 2))
    prediction = 0.5 * target + rng.normal(0, 0.3, (50, 2)) + 0.1
    loss = ccc_loss(torch.tensor(prediction), torch.tensor(target))
    expected = 2 - ccc(target[:, 0], prediction[:, 0]) - ccc(target[:, 1], prediction[:, 1])
    assert float(loss) == pytest.approx(expected, abs=1e-10)
    assert float(ccc_loss(torch.tensor(target), torch.tensor(target))) == pytest.approx(0.0, abs=1e-10)


def test_va_model_per_frame_outputs_ignore_padding():
    torch.manual_seed(0)
    model = VAModel({"v": 8, "a": 4}, 16, 2, 3, 0.0, 2, 4, 32, 0.0, 8).eval()
    features = {"v": torch.randn(1, 10, 8), "a": torch.randn(1, 10, 4)}
    mask = torch.ones(1, 10, dtype=torch.bool)
    short = model({k: x[:, :6] for k, x in features.items()}, mask[:, :6])
    mask[:, 6:] = False
    padded = model({k: torch.cat([x[:, :6], 100 * torch.ones_like(x[:, 6:])], 1) for k, x in features.items()}, mask)
    assert padded.shape == (1, 10, 2)
    assert torch.allclose(padded[:, :6], short, atol=1e-5)
    assert (padded[:, 6:] == 0).all() and padded.abs().max() <= 1


def test_mfcc_shape_and_value_against_an_independent_computation():
    t = np.arange(16000) / 16000
    signal = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 1800 * t)).astype(np.float32)
    frames = mfcc.mfcc_frames(signal)
    assert frames.shape == (101, 39)  # centred frames every 10 ms over 1 s
    # Independent: torchaudio's mel power spectrogram, 10 log10 with an 80 dB floor, orthonormal DCT-II (scipy).
    import torchaudio
    from scipy.fft import dct

    mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=40)(torch.from_numpy(signal)).double().numpy()
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
        [f"features.{i}.{p}" for i in (0, 3, 6, 8, 11, 13) for p in ("weight", "bias")] + [f"embeddings.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")]
    )
    torch.manual_seed(3)
    state = {k: torch.randn_like(v) * 0.01 for k, v in reference.state_dict().items()}
    state |= {"pca_eigen_vectors": torch.zeros(128, 128), "pca_means": torch.zeros(128, 1)}  # shipped with torchvggish, unused
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
    assert torch.equal(seen["input"][:, :512], conv[:, :, 0, 0]) and torch.equal(seen["input"][:, 512:1024], conv[:, :, 0, 1])
    torch.save({"features.0.weight": state["features.0.weight"]}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="not a torchvggish state dict"):
        vggish.build(parse_weights(str(tmp_path / "partial.pth"), "vggish"))


def test_iresnet50_loads_insightface_layout_and_checks_input_size(tmp_path):
    model = iresnet.IResNet(input_size=16)
    assert sum(p.numel() for n, p in model.named_parameters() if n.startswith("layer3.")) > 10 * sum(p.numel() for n, p in model.named_parameters() if n.startswith("layer1."))
    assert len(model.layer1) + len(model.layer2) + len(model.layer3) + len(model.layer4) == 24  # [3, 4, 14, 3]
    torch.manual_seed(1)
    state = {f"module.{k}": (torch.randn_like(v) * 0.01 if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    state |= {k: torch.rand_like(v) + 0.5 for k, v in state.items() if k.endswith("running_var")}
    path = tmp_path / "backbone.pth"
    torch.save(state, path)
    loaded = iresnet.build(parse_weights(str(path), "iresnet50"), input_size=16)
    assert torch.equal(loaded.layer3[5].conv2.weight, state["module.layer3.5.conv2.weight"])
    frames = np.random.default_rng(0).integers(0, 255, (3, 48, 48, 3), dtype=np.uint8)
    out = iresnet.extract(loaded, frames, torch.device("cpu"), "fp32", 2, 16)
    assert out.shape == (3, 512) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="input_size"):
        iresnet.build(parse_weights(str(path), "iresnet50"), input_size=112)


def test_rows_map_to_crops_numbered_from_one_and_gaps_are_filled(tmp_path):
    import cv2

    from affrepro.va.prepare import load_frames

    assert affwild2.frame_path(tmp_path, "t", 0) == tmp_path / "cropped_aligned" / "t" / "00001.jpg"
    folder = tmp_path / "cropped_aligned" / "t"
    folder.mkdir(parents=True)
    for frame in (1, 2, 4):  # video frames 1, 2, 4 (0-based) have crops; 3 is missing
        cv2.imwrite(str(folder / f"{frame + 1:05d}.jpg"), np.full((112, 112, 3), 40 * frame, np.uint8))
    frames, missing = load_frames(tmp_path, "t", np.array([1, 2, 3, 4]), 48)  # rows 0 and 5.. were -5
    assert frames.shape == (4, 48, 48, 3) and missing == 1
    assert [int(np.median(f)) for f in frames] == [40, 80, 80, 160]  # row 3 takes row 2's crop


def test_audio_times_and_a_truncated_track_named(tmp_path, monkeypatch):
    import soundfile as sf

    from affrepro.va import features, plan

    trial = {"rows": np.array([0, 1, 5, 60]), "fps": np.float64(10.0)}
    assert features.audio_times(trial, 16000 * 2, 16000).tolist() == [0.0, 0.1, 0.5]  # 6.0 s is past the 2 s of audio
    monkeypatch.setattr(plan, "WORK", tmp_path)
    plan.audio_path("t").parent.mkdir(parents=True)
    sf.write(plan.audio_path("t"), np.zeros(800, np.float32), 16000)  # 0.05 s
    late = {"rows": np.array([30, 31]), "fps": np.float64(10.0)}
    with pytest.raises(DatasetError, match="audio track is missing or truncated") as error:
        features.check_audio("t", late)
    assert str(plan.audio_path("t")) in str(error.value)
