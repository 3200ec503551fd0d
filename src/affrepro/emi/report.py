"""Provenance of the EMI tables: dataset, extractor weights, seeds, budget."""

from __future__ import annotations

from affrepro import provenance as common_provenance
from affrepro.io import read_json

STATS = "work/emi/dataset_stats.json"


def manifest(extractor: str) -> str:
    return f"work/emi/features/{extractor}/shard0.json"


def used_extractors(config: dict) -> list[str]:
    return sorted({e for spec in config["emi"]["feature_sets"].values() for e in spec["extractors"]})


def provenance_inputs(config: dict) -> list[str]:
    return [STATS, *(manifest(e) for e in used_extractors(config))]


def provenance(config: dict) -> dict:
    stats = read_json(STATS)
    extractors = {}
    for extractor in used_extractors(config):
        info = read_json(manifest(extractor))
        extractors[extractor] = {k: info[k] for k in ("weights", "precision", "dim", "image_size") if k in info}
    return common_provenance.common(config) | {
        "dataset": {
            "name": "Hume-Vidmimic2",
            "kind": "demo" if stats["demo"] else "real",
            "root": stats["root"],
            "fingerprint_sha256": stats["fingerprint"],
        },
        "extractors": extractors,
        "seeds": config["emi"]["seeds"],
        "folds": None,
        "train": config["emi"]["train"],
        "model": config["emi"]["model"],
        "preprocess": {k: config["preprocess"][k] for k in ("fps", "face_size", "mtcnn", "audio")},
        "selection": "epoch with the best validation mean Pearson, per seed; scores are validation scores (the paper's protocol)",
        "std": "sample standard deviation (ddof=1) over seeds",
    }
