"""VA paper: folds, the model and its loss, one fold's training under both selection protocols, and the fold aggregate."""

import json

import numpy as np
import pytest
import torch
import yaml
from helpers import repo_config

from affrepro.config.resolve import deep_merge, effective_config
from affrepro.features import save_features
from affrepro.files import write_json, write_npz
from affrepro.metrics import ccc, va_score
from affrepro.models.tcn import TCN
from affrepro.models.temporal_transformer import TemporalTransformer
from affrepro.models.va import VAModel, VAModelSettings, ccc_loss
from affrepro.store import open_store, pack
from affrepro.substitutes import substitutes
from affrepro.va import train
from affrepro.va.aggregate import summarise
from affrepro.va.folds import assign_folds, selection_fold
from affrepro.va.settings import Train
from affrepro.va.train import moving_average, train_fold, trial_labels, window_starts

TINY_MODEL = {
    "tcn_channels": 8,
    "tcn_layers": 2,
    "tcn_kernel_size": 3,
    "tcn_dropout": 0.0,
    "transformer_layers": 1,
    "transformer_heads": 2,
    "transformer_ff_dim": 16,
    "dropout": 0.0,
    "head_hidden": 8,
}


def test_folds_partition_keep_pairs_and_are_deterministic():
    lengths = {f"t{i:02d}": 100 + 37 * i for i in range(15)} | {
        "v_left": 300,
        "v_right": 300,
        "w_left": 50,
        "w_right": 50,
    }
    folds = assign_folds(lengths, 6, seed=0)
    assert sorted(folds) == sorted(lengths)  # every trial in exactly one fold
    assert set(folds.values()) == set(range(6))
    assert folds["v_left"] == folds["v_right"] and folds["w_left"] == folds["w_right"]
    assert folds == assign_folds(dict(reversed(list(lengths.items()))), 6, seed=0)
    assert folds != assign_folds(lengths, 6, seed=1)
    frames = [sum(lengths[t] for t, f in folds.items() if f == k) for k in range(6)]
    assert max(frames) - min(frames) <= max(lengths.values())  # greedy balancing
    assert [selection_fold(k, 6, "nested") for k in range(6)] == [1, 2, 3, 4, 5, 0]
    assert [selection_fold(k, 6, "paper") for k in range(6)] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="unknown selection protocol"):
        selection_fold(0, 6, "held_out")
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
    settings = VAModelSettings(
        **(TINY_MODEL | {"tcn_channels": 16, "transformer_layers": 2, "transformer_heads": 4, "transformer_ff_dim": 32})
    )
    model = VAModel({"v": 8, "a": 4}, settings).eval()
    features = {"v": torch.randn(1, 10, 8), "a": torch.randn(1, 10, 4)}
    mask = torch.ones(1, 10, dtype=torch.bool)
    short = model({k: x[:, :6] for k, x in features.items()}, mask[:, :6])
    mask[:, 6:] = False
    padded = model({k: torch.cat([x[:, :6], 100 * torch.ones_like(x[:, 6:])], 1) for k, x in features.items()}, mask)
    assert torch.allclose(padded[:, :6], short, atol=1e-5)
    assert (padded[:, 6:] == 0).all() and padded.abs().max() <= 1


def test_va_model_batchnorm_in_training_uses_the_real_frames_only():
    """In training mode the head's BatchNorm normalises with the batch's statistics: padding must not enter them."""
    torch.manual_seed(0)
    settings = VAModelSettings(**TINY_MODEL)  # no dropout: training-mode passes are deterministic
    features = {"v": torch.randn(2, 10, 8), "a": torch.randn(2, 10, 4)}
    mask = torch.ones(2, 10, dtype=torch.bool)
    mask[1, 6:] = False  # the second sequence has 6 real frames

    def training_pass(padding: float, extra: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        torch.manual_seed(1)
        model = VAModel({"v": 8, "a": 4}, settings).train()
        padded = {k: torch.cat([x, torch.zeros(2, extra, x.shape[2])], 1) for k, x in features.items()}
        for x in padded.values():
            x[1, 6:] = padding
        out = model(padded, torch.cat([mask, torch.zeros(2, extra, dtype=torch.bool)], 1))
        batchnorm = model.head[1]
        return out, batchnorm.running_mean.clone(), batchnorm.running_var.clone()

    reference, mean, var = training_pass(padding=0.0, extra=0)
    assert not torch.allclose(mean, torch.zeros_like(mean))  # the pass did update the statistics
    for padding, extra in ((100.0, 0), (-50.0, 7)):
        out, other_mean, other_var = training_pass(padding, extra)
        assert torch.allclose(out[:, :10][mask], reference[mask], atol=1e-5), (padding, extra)
        assert torch.allclose(other_mean, mean, atol=1e-5) and torch.allclose(other_var, var, atol=1e-5)
        assert (out[1, 6:] == 0).all()


def test_order_reaches_the_encoder_only_through_the_tcn_window():
    """The temporal Transformer has no positional encoding: position comes only from the TCN's 63-frame window."""
    model = repo_config()["va"]["model"]
    torch.manual_seed(0)
    tcn = TCN(4, 8, model["tcn_layers"], model["tcn_kernel_size"])
    assert tcn.receptive_field == 63  # 1 + (3 - 1)(1 + 2 + 4 + 8 + 16)
    x = torch.randn(1, 200, 4)
    with torch.no_grad():
        full, from_50 = tcn(x), tcn(x[:, 50:])
    # Past the first 62 frames a TCN output depends on its 63-frame context only, not on where it sits ...
    assert torch.allclose(full[:, 50 + 62 :], from_50[:, 62:], atol=1e-6)
    # ... within them the zero left padding tells the frames apart by their distance from the start.
    assert not torch.allclose(full[:, 50 + 61], from_50[:, 61], atol=1e-3)
    encoder = TemporalTransformer(8, 2, 2, 16, 0.0).eval()
    order = torch.randperm(200, generator=torch.Generator().manual_seed(0))
    mask = torch.ones(1, 200, dtype=torch.bool)
    with torch.no_grad():  # permuting the steps permutes the encoder's outputs: it adds no position of its own
        assert torch.allclose(encoder(full[:, order], mask), encoder(full, mask)[:, order], atol=1e-5)


def write_tiny_trials(
    root, n_trials: int, length: int, extractors: tuple[str, ...] = ("v", "a")
) -> tuple[dict, list[dict]]:
    """Trials whose first extractor carries the labels and whose others are noise, as the prepare and features jobs write them.

    Returns the prepare manifest and one features manifest per extractor.
    """
    rng = np.random.default_rng(7)
    prepared, by_extractor = {"trials": {}}, {e: {"extractor": e, "trials": {}} for e in extractors}
    for i in range(n_trials):
        name = f"t{i}"
        labels = np.tanh(np.cumsum(rng.normal(0, 0.3, (length, 2)), axis=0)).astype(np.float32)
        write_npz(root / f"{name}.npz", rows=np.arange(length), labels=labels)
        prepared["trials"][name] = {"trial": str(root / f"{name}.npz")}
        for extractor in extractors:
            values = (
                np.c_[labels, rng.normal(0, 0.1, (length, 1))]
                if extractor == extractors[0]
                else rng.normal(0, 1, (length, 2))
            )
            save_features(root / f"{extractor}-{name}.npz", values, np.arange(length), length)
            by_extractor[extractor]["trials"][name] = {"file": str(root / f"{extractor}-{name}.npz")}
    return prepared, list(by_extractor.values())


def pack_tiny_trials(root, features: list[dict]) -> tuple[list, dict]:
    """Each extractor's trials packed as the va_pack job does (one split, "trials"); the manifests and the open stores."""
    manifests, stores = [], {}
    for manifest in features:
        extractor, trials = manifest["extractor"], manifest["trials"]
        manifests.append(root / f"packed-{extractor}.json")
        pack(
            extractor,
            {"trials": sorted(trials)},
            {t: info["file"] for t, info in trials.items()},
            root / f"packed-{extractor}",
            manifests[-1],
        )
        stores[extractor] = open_store(manifests[-1])["trials"]
    return manifests, stores


TINY_TRAIN = {
    "window": 16,
    "hop": 8,
    "eval_hop": 8,
    "smoothing": 3,
    "epochs": 3,
    "batch_size": 4,
    "lr": 1e-2,
    "weight_decay": 0.0,
}


# Three folds of two trials, t0..t5: t_i in fold i mod 3. Per protocol, the trials by role when fold 0 is scored.
TINY_ROLES = {
    "paper": {"held_out": ["t0", "t3"], "selection": ["t0", "t3"], "training": ["t1", "t2", "t4", "t5"]},
    "nested": {"held_out": ["t0", "t3"], "selection": ["t1", "t4"], "training": ["t2", "t5"]},
}


@pytest.mark.parametrize("protocol", ["paper", "nested"])
def test_train_fold_scores_the_held_out_fold_and_is_deterministic(tmp_path, protocol):
    prepared, features = write_tiny_trials(tmp_path, n_trials=6, length=40)
    files = trial_labels([prepared])
    assert files["t3"] == tmp_path / "t3.npz"
    _, stores = pack_tiny_trials(tmp_path, features)
    assert np.array_equal(stores["v"].rows("t3", 5, 9), np.load(tmp_path / "v-t3.npz")["features"][5:9])
    settings = Train(seed=0, extractors=["v", "a"], folds=3, model=TINY_MODEL, train=TINY_TRAIN)
    assignment = {f"t{i}": i % 3 for i in range(6)}
    metrics, predictions = train_fold(settings, 0, assignment, files, stores, protocol)
    assert metrics["trials"] == TINY_ROLES[protocol]
    assert (
        metrics["fold"] == 0
        and metrics["protocol"] == protocol
        and metrics["selection_fold"] == {"paper": 0, "nested": 1}[protocol]
    )
    # windows start at 0, 8, 16, 24 in each 40-frame training trial
    assert metrics["frames"] == {"held_out": 80, "training_windows": 4 * len(TINY_ROLES[protocol]["training"])}
    assert sorted(predictions) == ["t0", "t3"]
    labels = np.concatenate([np.load(tmp_path / f"{n}.npz")["labels"].astype(np.float64) for n in ("t0", "t3")])
    predicted = np.concatenate([predictions["t0"], predictions["t3"]])
    assert {k: metrics[k] for k in ("valence", "arousal", "p")} == va_score(
        labels[:, 0], predicted[:, 0], labels[:, 1], predicted[:, 1]
    )
    selection = [epoch["score"] for epoch in metrics["history"]]  # selection-fold P; epochs count from 1
    assert metrics["best_epoch"] == int(np.argmax(selection)) + 1 and metrics["selection_p"] == max(selection)
    if protocol == "paper":  # the reported score is the best epoch's score on the reported fold itself
        assert metrics["p"] == max(selection)
    again, _ = train_fold(settings, 0, assignment, files, stores, protocol)
    assert again == metrics


def test_fold_job_records_the_substitutes_it_ran_with(tmp_path):
    """On real data with allow_substitutes, a fold's metrics name the random-init extractor it used; on the demo, none."""
    prepared, by_extractor = write_tiny_trials(
        tmp_path, n_trials=6, length=40, extractors=("iresnet50", "vggish", "mfcc")
    )
    (tmp_path / "vggish.pth").write_bytes(b"a checkpoint")
    real = deep_merge(
        repo_config(),
        {
            "allow_substitutes": True,
            "datasets": {"affwild2": {"root": str(tmp_path)}},
            "extractors": {"iresnet50": {"weights": "random"}, "vggish": {"weights": str(tmp_path / "vggish.pth")}},
            "compute": {"device": "cpu"},
            "va": {"cv": {"folds": 3}, "model": TINY_MODEL, "train": TINY_TRAIN},
        },
    )
    paths = {
        "prepared": tmp_path / "prepared.json",
        "folds": tmp_path / "folds.json",
        "config": tmp_path / "config.yaml",
    }
    write_json(paths["prepared"], prepared)
    write_json(paths["folds"], {"assignment": {f"t{i}": i % 3 for i in range(6)}})
    features, _ = pack_tiny_trials(tmp_path, by_extractor)
    expected = [substitutes(effective_config(real, "va"), "va")["extractor:iresnet50"]]
    assert "iresnet50" in expected[0] and "random" in expected[0]
    for config, substituted in ((real, expected), (deep_merge(real, {"datasets": {"affwild2": {"root": None}}}), [])):
        paths["config"].write_text(yaml.safe_dump(config))
        args = [
            "--config",
            paths["config"],
            "--protocol",
            "paper",
            "--fold",
            "0",
            "--folds",
            paths["folds"],
            "--prepared",
            paths["prepared"],
        ]
        train.main(
            [
                str(a)
                for a in args
                + ["--packed", *features, "--metrics", tmp_path / "m.json", "--predictions", tmp_path / "p.npz"]
            ]
        )
        assert json.loads((tmp_path / "m.json").read_text())["substitutes"] == substituted


def fold_row(fold: int, valence: float, arousal: float, substitutes: list[str]) -> dict:
    return {
        "fold": fold,
        "protocol": "paper",
        "valence": valence,
        "arousal": arousal,
        "p": (valence + arousal) / 2,
        "best_epoch": fold,
        "selection_fold": fold,
        "substitutes": substitutes,
    }


def test_aggregate_mean_row_is_the_fold_mean_with_the_sample_std():
    folds = [fold_row(2, 0.5, 0.1, ["b"]), fold_row(0, 0.7, 0.3, ["a", "b"]), fold_row(1, 0.6, 0.2, [])]
    summary = summarise(folds)
    assert list(summary["folds"]) == ["fold-0", "fold-1", "fold-2"]
    assert summary["folds"]["fold-2"] == {
        "valence": 0.5,
        "arousal": 0.1,
        "p": 0.3,
        "best_epoch": 2,
        "selection_fold": 2,
    }
    assert summary["mean"]["valence"] == pytest.approx(0.6) and summary["mean"]["valence_std"] == pytest.approx(0.1)
    assert summary["mean"]["arousal"] == pytest.approx(0.2) and summary["mean"]["p_std"] == pytest.approx(0.1)
    assert summary["n_folds"] == 3 and summary["protocol"] == "paper"
    assert summary["substitutes"] == ["a", "b"]  # the folds' union, in fold order, without repeats
    with pytest.raises(ValueError, match="share a selection protocol"):
        summarise(folds + [fold_row(3, 0.5, 0.5, []) | {"protocol": "nested"}])
