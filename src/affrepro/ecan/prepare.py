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

from affrepro.data import DatasetError, fer2013, rafdb

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


def rafdb_splits(location: str | Path, settings: dict, on_unreadable: str = "fail") -> tuple[Split, Split, Split]:
    data, _ = rafdb.read(location, on_unreadable)
    images, labels = data["train"]["images"], data["train"]["labels"]
    train_idx, val_idx = stratified_split(labels, settings["val_fraction"], settings["split_seed"])
    return (
        (images[train_idx], labels[train_idx]),
        (images[val_idx], labels[val_idx]),
        (data["test"]["images"], data["test"]["labels"]),
    )


def fer2013_splits(location: str | Path, settings: dict, on_unreadable: str = "fail") -> tuple[Split, Split, Split]:
    data, _ = fer2013.read(location, on_unreadable)
    train, val, test = (data[usage] for usage in ("Training", "PrivateTest", "PublicTest"))
    return (train["images"], train["labels"]), (val["images"], val["labels"]), (test["images"], test["labels"])


SPLITS = {"rafdb": rafdb_splits, "fer2013": fer2013_splits}
SPLIT_SOURCES = {  # where each of (train, val, test) comes from, for the messages
    "rafdb": (
        "train_ lines (less the validation hold-out)",
        "the validation hold-out of train_ (classes with two or more images)",
        "test_ lines",
    ),
    "fer2013": ("Usage Training", "Usage PrivateTest", "Usage PublicTest"),
}


def data_file(dataset: str, location: str | Path) -> Path:
    """The file a dataset's splits are read from (named in messages)."""
    return Path(location) / rafdb.LABEL_FILE if dataset == "rafdb" else Path(location)


def check_sizes(dataset: str, location: str | Path, sizes: tuple[int, int, int]) -> None:
    """Every split (train, val, test) must hold images; an empty one is named with its file before any training."""
    empty = [
        f"{name} ({source})"
        for name, source, n in zip(("train", "val", "test"), SPLIT_SOURCES[dataset], sizes)
        if n == 0
    ]
    if empty:
        raise DatasetError(
            f"{data_file(dataset, location)}: empty split(s): {'; '.join(empty)}; every split needs images. Fix "
            f"the file or point datasets.{dataset} at the complete dataset"
        )


def split_sizes(dataset: str, location: str | Path, settings: dict) -> tuple[int, int, int]:
    """(train, val, test) sizes from the label file or the Usage column alone (no image is decoded): the start-up check."""
    if dataset == "rafdb":
        entries = rafdb.read_labels(Path(location))
        labels = np.asarray([y for name, y in entries if name.startswith("train_")], dtype=np.int64)
        train, val = stratified_split(labels, settings["val_fraction"], settings["split_seed"])
        return len(train), len(val), sum(name.startswith("test_") for name, _ in entries)
    counts = fer2013.usage_counts(location)
    return counts["Training"], counts["PrivateTest"], counts["PublicTest"]


def check_dataset(dataset: str, location: str | Path, ecan: dict) -> None:
    """Start-up check of a real dataset: its label file parses and no split is empty (names the file otherwise)."""
    check_sizes(dataset, location, split_sizes(dataset, location, ecan[dataset]))


def load_splits(
    dataset: str, location: str | Path, ecan: dict, on_unreadable: str = "fail"
) -> tuple[Split, Split, Split]:
    """(train, val, test) of a dataset at `location` (RAF-DB root or the fer2013 csv), under the `ecan:` config block.

    on_unreadable (datasets.<dataset>.on_unreadable): `skip` leaves out unreadable images / malformed rows
    (affrepro.ecan.stats lists them for the tables' provenance), `fail` stops at the first, naming it.
    """
    if dataset not in SPLITS:
        raise ValueError(f"unknown ECAN dataset {dataset!r} ({' | '.join(SPLITS)})")
    settings = ecan[dataset]
    train, val, test = SPLITS[dataset](location, settings, on_unreadable)
    check_sizes(dataset, location, (len(train[1]), len(val[1]), len(test[1])))
    if settings["max_train"] is not None and settings["max_train"] < len(train[1]):
        _, keep = stratified_split(train[1], settings["max_train"] / len(train[1]), settings["split_seed"])
        train = (train[0][keep], train[1][keep])
    return train, val, test
