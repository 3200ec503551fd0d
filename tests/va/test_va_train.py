"""VA paper: folds, the model and its loss, one fold's training, and the fold aggregate."""

import numpy as np
import pytest
import torch

from affrepro.features import save_features
from affrepro.io import write_npz
from affrepro.metrics import ccc, va_score
from affrepro.models.va import VAModel, VAModelSettings, ccc_loss
from affrepro.va.aggregate import summarise
from affrepro.va.folds import assign_folds, selection_fold
from affrepro.va.train import moving_average, train_fold, trial_files, window_starts

TINY_MODEL = {
    "tcn_channels": 8, "tcn_layers": 2, "tcn_kernel_size": 3, "tcn_dropout": 0.0,
    "transformer_layers": 1, "transformer_heads": 2, "transformer_ff_dim": 16, "dropout": 0.0, "head_hidden": 8,
}


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
    settings = VAModelSettings(**(TINY_MODEL | {"tcn_channels": 16, "transformer_layers": 2, "transformer_heads": 4, "transformer_ff_dim": 32}))
    model = VAModel({"v": 8, "a": 4}, settings).eval()
    features = {"v": torch.randn(1, 10, 8), "a": torch.randn(1, 10, 4)}
    mask = torch.ones(1, 10, dtype=torch.bool)
    short = model({k: x[:, :6] for k, x in features.items()}, mask[:, :6])
    mask[:, 6:] = False
    padded = model({k: torch.cat([x[:, :6], 100 * torch.ones_like(x[:, 6:])], 1) for k, x in features.items()}, mask)
    assert torch.allclose(padded[:, :6], short, atol=1e-5)
    assert (padded[:, 6:] == 0).all() and padded.abs().max() <= 1


def write_tiny_trials(root, n_trials: int, length: int) -> dict[str, dict]:
    """Trials whose "v" feature carries the labels and whose "a" feature is noise, as the prepare and features jobs write them."""
    rng = np.random.default_rng(7)
    prepared, by_extractor = {"trials": {}}, {"v": {"extractor": "v", "trials": {}}, "a": {"extractor": "a", "trials": {}}}
    for i in range(n_trials):
        name = f"t{i}"
        labels = np.tanh(np.cumsum(rng.normal(0, 0.3, (length, 2)), axis=0)).astype(np.float32)
        write_npz(root / f"{name}.npz", rows=np.arange(length), labels=labels)
        prepared["trials"][name] = {"trial": str(root / f"{name}.npz")}
        for extractor, values in (("v", np.c_[labels, rng.normal(0, 0.1, (length, 1))]), ("a", rng.normal(0, 1, (length, 2)))):
            save_features(root / f"{extractor}-{name}.npz", values, np.arange(length), length)
            by_extractor[extractor]["trials"][name] = {"file": str(root / f"{extractor}-{name}.npz")}
    return trial_files([prepared], list(by_extractor.values()))


def test_train_fold_scores_the_held_out_fold_and_is_deterministic(tmp_path):
    files = write_tiny_trials(tmp_path, n_trials=6, length=40)
    assert files["t3"] == {"trial": tmp_path / "t3.npz", "features": {"v": tmp_path / "v-t3.npz", "a": tmp_path / "a-t3.npz"}}
    config = {
        "va": {
            "seed": 0,
            "extractors": ["v", "a"],
            "cv": {"folds": 3, "seed": 0},
            "model": TINY_MODEL,
            "train": {"window": 16, "hop": 8, "eval_hop": 8, "smoothing": 3, "epochs": 3, "batch_size": 4, "lr": 1e-2, "weight_decay": 0.0},
        }
    }
    assignment = {f"t{i}": i % 3 for i in range(6)}
    metrics, predictions = train_fold(config, 0, assignment, files)
    assert metrics["trials"] == {"held_out": ["t0", "t3"], "selection": ["t1", "t4"], "training": ["t2", "t5"]}
    assert metrics["fold"] == 0 and metrics["selection_fold"] == 1
    assert metrics["frames"] == {"held_out": 80, "training_windows": 8}  # starts 0, 8, 16, 24 in each 40-frame training trial
    assert sorted(predictions) == ["t0", "t3"]
    labels = np.concatenate([np.load(tmp_path / f"{n}.npz")["labels"].astype(np.float64) for n in ("t0", "t3")])
    predicted = np.concatenate([predictions["t0"], predictions["t3"]])
    assert {k: metrics[k] for k in ("valence", "arousal", "p")} == va_score(labels[:, 0], predicted[:, 0], labels[:, 1], predicted[:, 1])
    selection = [epoch["selection_p"] for epoch in metrics["history"]]
    assert metrics["best_epoch"] == int(np.argmax(selection)) and metrics["selection_p"] == max(selection)
    again, _ = train_fold(config, 0, assignment, files)
    assert again == metrics


def test_aggregate_mean_row_is_the_fold_mean_with_the_sample_std():
    folds = [{"fold": k, "valence": v, "arousal": a, "p": (v + a) / 2, "best_epoch": k, "selection_fold": (k + 1) % 3} for k, v, a in ((2, 0.5, 0.1), (0, 0.7, 0.3), (1, 0.6, 0.2))]
    summary = summarise(folds)
    assert list(summary["folds"]) == ["fold-0", "fold-1", "fold-2"]
    assert summary["folds"]["fold-2"] == {"valence": 0.5, "arousal": 0.1, "p": 0.3, "best_epoch": 2, "selection_fold": 0}
    assert summary["mean"]["valence"] == pytest.approx(0.6) and summary["mean"]["valence_std"] == pytest.approx(0.1)
    assert summary["mean"]["arousal"] == pytest.approx(0.2) and summary["mean"]["p_std"] == pytest.approx(0.1)
    assert summary["n_folds"] == 3
