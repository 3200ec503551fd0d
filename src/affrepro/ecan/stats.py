"""Dataset facts for Figure 6 and provenance, and Table 1's ours-column from the config.

    python -m affrepro.ecan.stats --config C --rafdb work/data/rafdb --fer2013 work/data/fer2013/fer2013.csv.gz \
        --datasets-out work/ecan/datasets.json --augmentations-out work/ecan/augmentations.json

--rafdb and --fer2013 are the datasets' locations (RAF-DB root, fer2013 csv) as the rule names them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from affrepro import jobs
from affrepro.data import fer2013, rafdb
from affrepro.ecan import plan
from affrepro.ecan.augment import table1_rows
from affrepro.ecan.settings import Stats
from affrepro.files import sha256_file, write_json


def fingerprint(dataset: str, location: Path) -> str:
    if dataset == "fer2013":
        return sha256_file(location)
    digest = hashlib.sha256(sha256_file(location / rafdb.LABEL_FILE).encode())
    for name, _ in rafdb.read_labels(location):
        path = rafdb.image_path(location, name)
        digest.update(
            (sha256_file(path) if path.is_file() else "missing").encode()
        )  # a missing image is one of on_unreadable's
    return digest.hexdigest()


def class_counts(dataset: str, location: Path, on_unreadable: str = "fail") -> dict:
    """Per-class image counts of the official splits (Figure 6 plots the training split), and the samples left out (on_unreadable: skip)."""
    if dataset == "fer2013":
        (data, skipped), classes, splits = (
            fer2013.read(location, on_unreadable),
            fer2013.CLASSES,
            {"train": "Training", "public_test": "PublicTest", "private_test": "PrivateTest"},
        )
    else:
        (data, skipped), classes, splits = (
            rafdb.read(location, on_unreadable),
            rafdb.CLASSES,
            {"train": "train", "test": "test"},
        )
    counts = {
        "classes": list(classes),
        **{name: np.bincount(data[key]["labels"], minlength=len(classes)).tolist() for name, key in splits.items()},
    }
    return counts | ({"skipped": skipped} if skipped else {})


def augmentation_flags(augment: dict) -> dict:
    """Table 1, ours: {paper op name: {rafdb_none: 1|0, ...}} from the ops each level (ecan.augment) actually applies."""
    return {row.pop("op"): {key: int(value) for key, value in row.items()} for row in table1_rows(augment)}


def dataset_facts(config: dict, locations: dict[str, Path]) -> dict:
    """Per dataset: demo or real, its location, a content fingerprint and the class counts of its splits
    (`config`: its datasets.<name> keys)."""
    return {
        dataset: {
            "kind": "demo" if plan.is_demo(config, dataset) else "real",
            "location": str(location),
            "fingerprint_sha256": fingerprint(dataset, location),
            **class_counts(dataset, location, config["datasets"][dataset]["on_unreadable"]),
        }
        for dataset, location in locations.items()
    }


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__, "ecan", argv, rafdb=jobs.PATH, fer2013=jobs.PATH, datasets_out=jobs.PATH, augmentations_out=jobs.PATH
    )
    settings = Stats.from_config(config)
    write_json(args.augmentations_out, augmentation_flags(settings.augment))
    write_json(args.datasets_out, dataset_facts(settings.datasets, {"rafdb": args.rafdb, "fer2013": args.fer2013}))


if __name__ == "__main__":
    main()
