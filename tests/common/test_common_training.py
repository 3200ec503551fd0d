"""The one training loop (affrepro.training.fit) on a toy problem: best epoch, history, and resuming."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from affrepro import training

X = torch.linspace(-1, 1, 32).unsqueeze(1)
Y = 3 * X + 0.5


class Stop(Exception):
    """Stands in for a kill: the process ends in the middle of an epoch."""


def toy_trainer(stop_at: int | None = None) -> training.Trainer:
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimiser, step_size=2, gamma=0.5)
    order = torch.Generator().manual_seed(1)

    def train_epoch(epoch: int) -> float:
        losses = []
        for batch in torch.randperm(len(X), generator=order).split(8):
            if epoch == stop_at and len(losses) == 2:
                raise Stop
            noise = 0.01 * torch.randn(len(batch), 1) + float(np.random.normal()) * 1e-3  # every RNG in play
            loss = torch.nn.functional.mse_loss(model(X[batch]), Y[batch] + noise)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        scheduler.step()
        return float(np.mean(losses))

    def evaluate(epoch: int) -> dict:
        with torch.no_grad():
            error = torch.nn.functional.mse_loss(model(X), Y).item()
        # a score that peaks at epoch 3, so the best epoch is not the last
        return {"score": -error - 0.05 * abs(epoch - 3), "mse": error}

    return training.Trainer(model, optimiser, train_epoch, evaluate, {"scheduler": scheduler}, {"order": order})


def test_epochs_count_from_one_and_the_best_epoch_keeps_its_weights():
    np.random.seed(0)
    result = training.fit(toy_trainer(), 6)
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5, 6]
    assert list(result.history[0]) == ["epoch", "train_loss", "score", "mse", "lr"]
    scores = [h["score"] for h in result.history]
    assert result.best_epoch == int(np.argmax(scores)) + 1 and result.best_scores["score"] == max(scores)
    assert [h["lr"] for h in result.history] == pytest.approx([0.2, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_a_run_stopped_mid_epoch_resumes_to_the_same_result(tmp_path):
    np.random.seed(0)
    whole = training.fit(toy_trainer(), 6)
    checkpoint = tmp_path / "run.checkpoint.pt"
    np.random.seed(0)
    with pytest.raises(Stop):
        training.fit(toy_trainer(stop_at=5), 6, checkpoint, {"run": 1})
    saved = torch.load(checkpoint, weights_only=False)
    assert saved["epoch"] == 4 and saved["best"]["epoch"] != 4  # the best weights are kept beside the model's
    np.random.seed(123)  # a fresh process: the checkpoint restores every generator
    resumed = training.fit(toy_trainer(), 6, checkpoint, {"run": 1})
    assert resumed.history == whole.history and resumed.best_epoch == whole.best_epoch
    assert all(torch.equal(resumed.best_state[k], whole.best_state[k]) for k in whole.best_state)
    # A finished run's checkpoint holds its result: asking again trains nothing and gives the same.
    again = training.fit(toy_trainer(stop_at=1), 6, checkpoint, {"run": 1})
    assert again.history == whole.history
    training.remove_checkpoint(checkpoint)
    assert not checkpoint.exists()


def test_a_stop_rule_ends_the_run_and_a_stopped_run_stays_stopped(tmp_path):
    """ECAN's stop_on_collapse: the trainer's stop(history) is asked after every epoch, and again on resuming."""
    np.random.seed(0)
    checkpoint = tmp_path / "run.checkpoint.pt"
    trainer = toy_trainer()
    trainer.stop = lambda history: history[-1]["epoch"] >= 2
    stopped = training.fit(trainer, 6, checkpoint, {"run": 2})
    assert [h["epoch"] for h in stopped.history] == [1, 2]
    resumed = toy_trainer(stop_at=3)  # would raise if it trained epoch 3
    resumed.stop = trainer.stop
    assert training.fit(resumed, 6, checkpoint, {"run": 2}).history == stopped.history


def test_a_checkpoint_of_other_settings_or_a_torn_one_is_not_resumed(tmp_path):
    checkpoint = tmp_path / "run.checkpoint.pt"
    np.random.seed(0)
    training.fit(toy_trainer(), 2, checkpoint, {"lr": 0.2})
    np.random.seed(0)
    fresh = training.fit(toy_trainer(), 3)
    np.random.seed(0)
    other = training.fit(toy_trainer(), 3, checkpoint, {"lr": 0.1})  # written for other settings: from epoch 1
    assert other.history == fresh.history
    checkpoint.write_bytes(b"not a checkpoint")
    np.random.seed(0)
    assert training.fit(toy_trainer(), 3, checkpoint, {"lr": 0.1}).history == fresh.history
