"""Provenance of the VA tables: dataset, extractor weights, folds, budget (affrepro.papers.PaperReport).

The table rule names the files it reads (workflow/rules/va.smk, `PROVENANCE["va"]`):
`folds` (affrepro.va.folds), `prepare` (a prepare manifest, which records the
dataset root) and one features manifest per extractor, named by the extractor.
"""

from __future__ import annotations

from pathlib import Path

from affrepro import provenance as common_provenance
from affrepro.config.resolve import uses_demo
from affrepro.files import read_json, sha256_json
from affrepro.va.folds import PROTOCOLS

DATASET = "affwild2"


def budget(config: dict) -> dict:
    """Our training budget beside the paper's (papers/va.yaml `budget`): Table 2 trains on all folds but the scored one."""
    va, train = config["va"], config["va"]["train"]
    folds = va["cv"]["folds"]
    used = {
        "epochs": train["epochs"],
        "batch_size": train["batch_size"],
        "lr": train["lr"],
        "optimiser": {"name": "adam", "weight_decay": train["weight_decay"]},
        "schedule": "constant",
        "input_size": {
            "frame": va["preprocess"]["frame_size"],
            "iresnet50": config["extractors"]["iresnet50"]["input_size"],
        },
        "seq_len": train["window"],
        "train_subset": f"{folds - 1} of {folds} folds",
    }
    return common_provenance.budget_record("va", {DATASET: used})


def provenance(config: dict, inputs: dict[str, Path]) -> dict:
    folds = read_json(inputs["folds"])
    extractors = {}
    for extractor in config["va"]["extractors"]:
        info = read_json(inputs[extractor])
        extractors[extractor] = {k: info[k] for k in ("weights", "precision", "dim", "input_size") if k in info}
    demo = uses_demo(config, "va")
    return (
        common_provenance.common(config)
        | {
            "dataset": {
                "name": "Aff-Wild2 (VA)",
                "kind": "demo" if demo else "real",
                "root": read_json(inputs["prepare"])["root"],
                "trials": len(folds["assignment"]),
                "fold_assignment_sha256": sha256_json(folds["assignment"]),
            },
            "extractors": extractors,
            "seeds": [config["va"]["seed"] + k for k in range(config["va"]["cv"]["folds"])],
            "folds": {
                "n": folds["n_folds"],
                "seed": folds["seed"],
                "frames": {k: v["frames"] for k, v in folds["folds"].items()},
            },
            "train": config["va"]["train"],
            "budget": budget(config),
            "model": config["va"]["model"],
            "preprocess": config["va"]["preprocess"],
            # Table 2 and table2_nested differ only in the protocol that picks each fold's epoch.
            "selection": {"table2": f"paper: {PROTOCOLS['paper']}", "table2_nested": f"nested: {PROTOCOLS['nested']}"},
            "metric": "CCC with population (1/n) variances and covariance, over all frames of the held-out fold; P = (CCC_v + CCC_a) / 2",
            "std": "sample standard deviation (ddof=1) over folds",
        }
        | common_provenance.left_out({"affwild2": folds.get("skipped", {})})
    )


def profile_note(config: dict) -> str:
    return common_provenance.demo_note(config)
