"""Provenance of the ECAN tables and figures: datasets, encoder weights, budget, seeds (affrepro.papers.PaperReport)."""

from __future__ import annotations

from pathlib import Path

from affrepro import provenance as common_provenance
from affrepro.ecan import plan
from affrepro.features.weights import parse_weights
from affrepro.io import read_json
from affrepro.papers import load_paper

NAMES = {"rafdb": "RAF-DB", "fer2013": "FER2013"}


def paper_budget() -> dict:
    """The paper's training budget (epochs and input size per dataset, batch, lr), from papers/ecan.yaml."""
    return load_paper("ecan")["budget"]


def data_label(config: dict) -> str:
    kinds = {d: ("demo" if plan.is_demo(config, d) else "real") for d in plan.DATASETS}
    data = ", ".join(f"{NAMES[d]} {kinds[d]}" for d in plan.DATASETS)
    if config["profile"] == "demo":
        return f"{data}; demo budget"
    kind = "reduced" if budget(config)["reduced"] else "paper"
    if config["profile"] == "mixed":
        demo = [NAMES[d] for d in plan.DATASETS if kinds[d] == "demo"]
        return f"{data}; demo budget for {', '.join(demo)}, {kind} budget for the real data"
    return f"{data}; {kind} budget"


def profile_note(config: dict) -> str:
    """The note every computed row carries: which data are demo or real, and whose budget."""
    if config["profile"] == "paper" and not budget(config)["reduced"]:
        return ""
    return f"ours: {data_label(config)} (see provenance)"


def budget(config: dict) -> dict:
    ecan, paper = config["ecan"], paper_budget()
    used = {d: {k: ecan[d][k] for k in ("epochs", "input_size", "max_train", "weights")} for d in plan.DATASETS}
    real = [
        d for d in used if not plan.is_demo(config, d)
    ]  # a demo dataset's budget is the demo's (data_label says so)
    reduced = any(
        used[d]["epochs"] < paper[d]["epochs"]
        or used[d]["max_train"] is not None
        or used[d]["input_size"] != paper[d]["input_size"]
        for d in real
    )
    reduced |= ecan["train"]["batch_size"] != paper["batch_size"]
    return {
        "used": used | {"batch_size": ecan["train"]["batch_size"], "lr": ecan["train"]["lr"]},
        "paper": paper,
        "reduced": reduced,
    }


def provenance(config: dict, inputs: dict[str, Path]) -> dict:
    """inputs["datasets"]: the dataset facts affrepro.ecan.stats wrote."""
    datasets = read_json(inputs["datasets"])
    ecan = config["ecan"]
    return (
        common_provenance.common(config, "ecan")
        | {
            "data": data_label(config),
            "datasets": {
                d: {k: datasets[d][k] for k in ("kind", "location", "fingerprint_sha256", "train")}
                for d in plan.DATASETS
            },
            "encoder_weights": {d: parse_weights(ecan[d]["weights"], f"ecan.{d}").provenance() for d in plan.DATASETS},
            "seeds": ecan["seeds"],
            "folds": None,
            "budget": budget(config),
            "defaults": ecan["defaults"],
            "loss": ecan["loss"],
            "model": ecan["model"],
            "train": ecan["train"],
            "precision": config["compute"]["precision"],
            "selection": (
                "epoch with the best validation accuracy (RAF-DB: stratified hold-out of train; FER2013: "
                "PrivateTest); scores are the test split's (RAF-DB test, FER2013 PublicTest) at that epoch"
            ),
            "std": "sample standard deviation (ddof=1) over seeds; empty for one seed",
        }
        | common_provenance.left_out({d: datasets[d].get("skipped", {}) for d in plan.DATASETS})
    )
