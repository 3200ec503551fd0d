"""ECAN training: a few steps are deterministic, the bank is filled by the init pass, splits are clean."""

from __future__ import annotations

import json

import numpy as np
import pytest

from affrepro.ecan import train as ecan_train

from test_ecan_data import ecan_config


def _arrays(n, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 7
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    images[:, 20:28, 20:28] = (labels * 36)[:, None, None]  # a planted, learnable cue
    return images, labels.astype(np.int64)


TINY = dict(
    dataset="fer2013", augment="strong", losses="ensc+mva", lambda1=0.2, lambda2=0.7, V=3, tau=0.1,
    key_momentum=0.9, bank_groups=2, epochs=2, batch_size=8, lr=0.01, input_size=32, weights="random",
    seed=0, compute={"device": "cpu", "precision": "fp32", "threads": 1}, eval_batch_size=16, max_steps=2,
)


def test_tiny_run_is_deterministic_and_json_able():
    config = ecan_config()["ecan"]["augment"]
    data = (_arrays(24, 0), _arrays(14, 1), _arrays(14, 2))
    first = ecan_train.run(*data, aug_config=config, **TINY)
    second = ecan_train.run(*data, aug_config=config, **TINY)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["budget"]["steps"] == 4 and first["budget"]["init_steps"] == 2
    assert first["hyperparameters"]["bank_groups"] == 2  # K = max(bank_groups, V - 1)
    assert len(first["history"]) == 2 and 1 <= first["best_epoch"] <= 2
    assert np.asarray(first["test_confusion_matrix"]).sum() == 14
    assert first["weights"].startswith("random-init")
    baseline = ecan_train.run(*data, aug_config=config, **{**TINY, "losses": "ce"})
    assert baseline["budget"]["views_per_sample"] == 1 and baseline["budget"]["init_steps"] == 0


def test_init_pass_fills_a_bank_larger_than_an_epoch_and_test_labels_never_select():
    config = ecan_config()["ecan"]["augment"]
    train, val, test = _arrays(24, 0), _arrays(14, 1), _arrays(14, 2)
    spec = {**TINY, "V": 5, "bank_groups": 0, "epochs": 2}  # K = V - 1 = 4 groups, epochs of 2 steps
    result = ecan_train.run(train, val, test, aug_config=config, **spec)
    assert result["budget"]["init_steps"] == 4 and result["hyperparameters"]["bank_groups"] == 4
    shuffled = (test[0], np.random.default_rng(9).permutation(test[1]))
    other = ecan_train.run(train, val, shuffled, aug_config=config, **spec)
    assert other["history"] == result["history"] and other["best_epoch"] == result["best_epoch"] and other["val"] == result["val"]


def test_stratified_split_is_seeded_disjoint_and_covers_every_class():
    labels = np.repeat(np.arange(7), [50, 5, 20, 100, 30, 12, 40])
    train_idx, val_idx = ecan_train.stratified_split(labels, 0.1, seed=0)
    again = ecan_train.stratified_split(labels, 0.1, seed=0)
    assert np.array_equal(val_idx, again[1]) and not set(train_idx) & set(val_idx)
    assert len(train_idx) + len(val_idx) == len(labels)
    assert np.bincount(labels[val_idx], minlength=7).tolist() == [5, 1, 2, 10, 3, 1, 4]


def test_cosine_schedule_and_spec_validation():
    assert ecan_train.lr_at(0, 10, 0.1, "cosine") == pytest.approx(0.1)
    assert ecan_train.lr_at(5, 10, 0.1, "cosine") == pytest.approx(0.05)
    ecan = ecan_config()["ecan"]
    assert ecan_train.resolve_spec(ecan, {"dataset": "rafdb"})["losses"] == "ensc+mva"
    with pytest.raises(ValueError, match="lamda1"):
        ecan_train.resolve_spec(ecan, {"dataset": "rafdb", "lamda1": 0.3})
