"""Provenance of the VA tables: dataset, extractor weights, folds, budget."""

from __future__ import annotations

from affrepro import provenance as common_provenance
from affrepro.io import read_json, sha256_json
from affrepro.va import plan

FOLDS = "work/va/folds.json"


def manifest(extractor: str) -> str:
    return f"work/va/features/{extractor}/shard0.json"


def provenance_inputs(config: dict) -> list[str]:
    return [FOLDS, *(manifest(e) for e in config["va"]["extractors"])]


def provenance(config: dict) -> dict:
    folds = read_json(FOLDS)
    extractors = {}
    for extractor in config["va"]["extractors"]:
        info = read_json(manifest(extractor))
        extractors[extractor] = {k: info[k] for k in ("weights", "precision", "dim", "input_size") if k in info}
    demo = config["datasets"]["affwild2"]["root"] is None
    return common_provenance.common(config) | {
        "dataset": {
            "name": "Aff-Wild2 (VA)",
            "kind": "demo" if demo else "real",
            "root": str(plan.dataset_root(config)),
            "trials": len(folds["assignment"]),
            "fold_assignment_sha256": sha256_json(folds["assignment"]),
        },
        "extractors": extractors,
        "seeds": [config["va"]["seed"] + k for k in range(config["va"]["cv"]["folds"])],
        "folds": {"n": folds["n_folds"], "seed": folds["seed"], "frames": {k: v["frames"] for k, v in folds["folds"].items()}},
        "train": config["va"]["train"],
        "model": config["va"]["model"],
        "preprocess": config["va"]["preprocess"],
        "selection": "fold k is held out and scored; fold (k+1) mod n picks the best epoch; the rest train",
        "metric": "CCC with population (1/n) variances and covariance, over all frames of the held-out fold; P = (CCC_v + CCC_a) / 2",
        "std": "sample standard deviation (ddof=1) over folds",
    }
