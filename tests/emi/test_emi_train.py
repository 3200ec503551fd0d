import numpy as np
import pytest
import torch

from affrepro.emi.train import FeatureSetSplit, plateau_scheduler, predict, train_seed
from affrepro.features import save_features
from affrepro.metrics import mean_pearson
from affrepro.store import open_store, pack

MODEL = {
    "tcn_channels": 16,
    "tcn_layers": 2,
    "tcn_kernel_size": 3,
    "transformer_layers": 1,
    "transformer_heads": 2,
    "transformer_ff_dim": 16,
    "ffn_hidden": 16,
    "dropout": 0.0,
}


def toy(n, rng):
    """Labels are linear in the clip means of two feature channels: learnable from the sequences."""
    x = rng.normal(0, 1, (n, 20, 4)).astype(np.float32)
    means = x.mean(1)
    y = np.stack([means[:, 0] + 0.5 * means[:, 1]] * 3 + [means[:, 1] - means[:, 0]] * 3, axis=1)
    return x, y.astype(np.float32)


def packed(tmp_path, splits: dict[str, np.ndarray]) -> dict[str, FeatureSetSplit]:
    """The toy sequences of each split, packed as the emi_pack job does, read unstandardised (mean 0, std 1) at length 20."""
    files, keys = {}, {}
    for split, x in splits.items():
        keys[split] = [f"{split}{i}" for i in range(len(x))]
        for key, sequence in zip(keys[split], x):
            files[key] = tmp_path / f"{key}.npz"
            save_features(files[key], sequence, np.arange(len(sequence)), len(sequence))
    pack("toy", keys, files, tmp_path / "toy", tmp_path / "toy.json")
    stores = open_store(tmp_path / "toy.json")
    identity = (np.zeros(4, np.float32), np.ones(4, np.float32))
    return {split: FeatureSetSplit([stores[split]], keys[split]).with_inputs(identity, 20) for split in splits}


def test_training_learns_a_planted_signal_and_returns_the_best_epoch_weights(tmp_path):
    rng = np.random.default_rng(0)
    xt, yt = toy(64, rng)
    xv, yv = toy(32, rng)
    inputs = packed(tmp_path, {"train": xt, "valid": xv})
    x, mask = inputs["valid"].batch([3, 1], torch.device("cpu"))  # batches hold the samples' exact rows
    assert torch.equal(x, torch.from_numpy(xv[[3, 1]])) and mask.all()
    params = {"seq_len": 20, "epochs": 25, "batch_size": 16, "lr": 3e-3, "lr_patience": 2, "lr_factor": 0.5}
    model, info = train_seed(0, inputs, {"train": yt, "valid": yv}, True, MODEL, params)
    scores = [h["score"] for h in info["history"]]
    assert [h["epoch"] for h in info["history"]] == list(range(1, 26))  # epochs count from 1
    assert max(scores) > 0.8
    # the returned weights are those of the best validation epoch, not the last
    assert mean_pearson(yv, predict(model, inputs["valid"], 16, torch.device("cpu")))[0] == pytest.approx(
        scores[info["best_epoch"] - 1], abs=1e-6
    )


def test_learning_rate_halves_after_exactly_lr_patience_epochs_without_improvement():
    optimiser = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = plateau_scheduler(optimiser, {"lr_patience": 3, "lr_factor": 0.5})
    lrs = []
    for score in [0.1, 0.2, 0.2, 0.15, 0.2, 0.19, 0.3, 0.3, 0.3, 0.3]:
        scheduler.step(score)
        lrs.append(optimiser.param_groups[0]["lr"])
    # best 0.2 at epoch 1; epochs 2, 3, 4 do not improve -> halved after epoch 4; 0.3 at epoch 6 resets.
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_training_is_deterministic(tmp_path):
    rng = np.random.default_rng(1)
    xt, yt = toy(16, rng)
    inputs = packed(tmp_path, {"train": xt, "valid": xt})
    params = {"seq_len": 20, "epochs": 3, "batch_size": 8, "lr": 1e-3, "lr_patience": 10, "lr_factor": 0.5}
    runs = [train_seed(5, inputs, {"train": yt, "valid": yt}, False, MODEL, params)[1]["history"] for _ in range(2)]
    assert runs[0] == runs[1]
