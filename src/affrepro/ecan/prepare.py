"""ECAN datasets -> (train, val, test) splits of (uint8 images, int64 labels).

RAF-DB has no validation split: a seeded, class-stratified hold-out of its
training split (ecan.rafdb.val_fraction, split_seed) selects the epoch and the
official test split is reported. FER2013: PrivateTest selects the epoch and
PublicTest is reported. With ecan.<dataset>.max_train set, training uses a
class-stratified subset of that size (a reduced budget); val and test stay whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.data import fer2013, rafdb

Split = tuple[np.ndarray, np.ndarray]


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx): per class, round(fraction * n_c) samples (at least 1) held out, seeded."""
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_val = max(1, int(round(fraction * len(idx)))) if len(idx) > 1 else 0
        val.extend(rng.permutation(idx)[:n_val].tolist())
    val = np.sort(np.asarray(val, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


def rafdb_splits(location: str | Path, settings: dict) -> tuple[Split, Split, Split]:
    data = rafdb.load(location)
    images, labels = data["train"]["images"], data["train"]["labels"]
    train_idx, val_idx = stratified_split(labels, settings["val_fraction"], settings["split_seed"])
    return (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx]), (data["test"]["images"], data["test"]["labels"])


def fer2013_splits(location: str | Path, settings: dict) -> tuple[Split, Split, Split]:
    data = fer2013.load(location)
    train, val, test = (data[usage] for usage in ("Training", "PrivateTest", "PublicTest"))
    return (train["images"], train["labels"]), (val["images"], val["labels"]), (test["images"], test["labels"])


SPLITS = {"rafdb": rafdb_splits, "fer2013": fer2013_splits}


def load_splits(dataset: str, location: str | Path, ecan: dict) -> tuple[Split, Split, Split]:
    """(train, val, test) of a dataset at `location` (RAF-DB root or the fer2013 csv), under the `ecan:` config block."""
    if dataset not in SPLITS:
        raise ValueError(f"unknown ECAN dataset {dataset!r} ({' | '.join(SPLITS)})")
    settings = ecan[dataset]
    train, val, test = SPLITS[dataset](location, settings)
    if settings["max_train"] is not None and settings["max_train"] < len(train[1]):
        _, keep = stratified_split(train[1], settings["max_train"] / len(train[1]), settings["split_seed"])
        train = (train[0][keep], train[1][keep])
    return train, val, test
