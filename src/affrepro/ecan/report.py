"""Provenance of the ECAN tables and figures: datasets, encoder weights, budget, seeds."""

from __future__ import annotations

from affrepro import provenance as common_provenance
from affrepro.ecan import plan
from affrepro.features.weights import parse_weights
from affrepro.io import read_json

DATASETS = "work/ecan/datasets.json"
PAPER_BUDGET = {"rafdb": {"epochs": 40, "input_size": 224}, "fer2013": {"epochs": 200, "input_size": 48}, "batch_size": 256, "lr": 0.1}


def provenance_inputs(config: dict) -> list[str]:
    return [DATASETS]


def data_label(config: dict) -> str:
    kinds = {d: ("demo" if plan.is_demo(config, d) else "real") for d in ("rafdb", "fer2013")}
    data = ", ".join(f"{name} {kinds[d]}" for d, name in (("rafdb", "RAF-DB"), ("fer2013", "FER2013")))
    if config["profile"] == "demo":
        return f"{data}; demo budget"
    return f"{data}; {'reduced' if budget(config)['reduced'] else 'paper'} budget"


def profile_note(config: dict) -> str:
    """The note every computed row carries: which data are demo or real, and whose budget."""
    if config["profile"] == "paper" and not budget(config)["reduced"]:
        return ""
    return f"ours: {data_label(config)} (see provenance)"


def budget(config: dict) -> dict:
    ecan = config["ecan"]
    used = {d: {k: ecan[d][k] for k in ("epochs", "input_size", "max_train", "weights")} for d in ("rafdb", "fer2013")}
    reduced = any(used[d]["epochs"] < PAPER_BUDGET[d]["epochs"] or used[d]["max_train"] is not None or used[d]["input_size"] != PAPER_BUDGET[d]["input_size"] for d in used)
    reduced |= ecan["train"]["batch_size"] != PAPER_BUDGET["batch_size"]
    return {"used": used | {"batch_size": ecan["train"]["batch_size"], "lr": ecan["train"]["lr"]}, "paper": PAPER_BUDGET, "reduced": reduced}


def provenance(config: dict) -> dict:
    datasets = read_json(DATASETS)
    return common_provenance.common(config) | {
        "data": data_label(config),
        "datasets": {d: {k: datasets[d][k] for k in ("kind", "location", "fingerprint_sha256", "train")} for d in ("rafdb", "fer2013")},
        "encoder_weights": {d: parse_weights(config["ecan"][d]["weights"], f"ecan.{d}").provenance() for d in ("rafdb", "fer2013")},
        "seeds": config["ecan"]["seeds"],
        "folds": None,
        "budget": budget(config),
        "defaults": config["ecan"]["defaults"],
        "loss": config["ecan"]["loss"],
        "model": config["ecan"]["model"],
        "train": config["ecan"]["train"],
        "precision": config["compute"]["precision"],
        "selection": "epoch with the best validation accuracy (RAF-DB: stratified hold-out of train; FER2013: PrivateTest); scores are the test split's (RAF-DB test, FER2013 PublicTest) at that epoch",
        "std": "sample standard deviation (ddof=1) over seeds; empty for one seed",
    }
