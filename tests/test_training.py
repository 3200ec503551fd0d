import numpy as np
import torch

from affrepro.emi.train import train_seed

MODEL = {"tcn_channels": 16, "tcn_layers": 2, "tcn_kernel_size": 3, "transformer_layers": 1, "transformer_heads": 2, "transformer_ff_dim": 16, "ffn_hidden": 16, "dropout": 0.0}


def toy(n, rng):
    """Labels are linear in the clip means of two feature channels: learnable from the sequences."""
    x = rng.normal(0, 1, (n, 20, 4)).astype(np.float32)
    means = x.mean(1)
    y = np.stack([means[:, 0] + 0.5 * means[:, 1]] * 3 + [means[:, 1] - means[:, 0]] * 3, axis=1)
    return torch.from_numpy(x), torch.ones(n, 20, dtype=torch.bool), y.astype(np.float32)


def test_training_learns_a_planted_signal_and_keeps_the_best_epoch():
    rng = np.random.default_rng(0)
    xt, mt, yt = toy(64, rng)
    xv, mv, yv = toy(32, rng)
    params = {"seq_len": 20, "epochs": 25, "batch_size": 16, "lr": 3e-3, "lr_patience": 2, "lr_factor": 0.5}
    model, info = train_seed(0, {"train": (xt, mt), "valid": (xv, mv)}, {"train": yt, "valid": yv}, True, MODEL, params)
    scores = [h["valid_mean_pearson"] for h in info["history"]]
    assert max(scores) > 0.8
    assert info["best_epoch"] == int(np.argmax(scores))
    # the scheduler halves the LR only after `lr_patience` epochs without improvement
    lrs = [h["lr"] for h in info["history"]]
    assert set(lrs) <= {3e-3 * 0.5**k for k in range(10)}
    for epoch in range(1, len(lrs)):
        if lrs[epoch] < lrs[epoch - 1]:
            best_before = max(scores[: epoch - params["lr_patience"]])
            assert max(scores[epoch - params["lr_patience"] : epoch + 1]) <= best_before


def test_training_is_deterministic():
    rng = np.random.default_rng(1)
    xt, mt, yt = toy(16, rng)
    params = {"seq_len": 20, "epochs": 3, "batch_size": 8, "lr": 1e-3, "lr_patience": 10, "lr_factor": 0.5}
    runs = [train_seed(5, {"train": (xt, mt), "valid": (xt, mt)}, {"train": yt, "valid": yt}, False, MODEL, params)[1]["history"] for _ in range(2)]
    assert runs[0] == runs[1]
