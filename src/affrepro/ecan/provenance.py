"""Provenance of the ECAN tables and figures: datasets, encoder weights, budget, seeds (affrepro.papers.PaperReport)."""

from __future__ import annotations

from pathlib import Path

from affrepro import provenance as common_provenance
from affrepro.ecan import plan
from affrepro.features.weights import parse_weights
from affrepro.files import read_json
from affrepro.papers import load_paper

NAMES = {"rafdb": "RAF-DB", "fer2013": "FER2013"}


def paper_budget() -> dict:
    """The paper's training budget per dataset (papers/ecan.yaml `budget`)."""
    return load_paper("ecan")["budget"]


def data_label(config: dict) -> str:
    kinds = {d: ("demo" if plan.is_demo(config, d) else "real") for d in plan.DATASETS}
    data = ", ".join(f"{NAMES[d]} {kinds[d]}" for d in plan.DATASETS)
    if config["profile"] == "demo":
        return f"{data}; demo budget"
    differs = budget(config)["differs"]
    kind = "reduced" if any(d in differs for d in plan.DATASETS if kinds[d] == "real") else "paper"
    if config["profile"] == "mixed":
        demo = [NAMES[d] for d in plan.DATASETS if kinds[d] == "demo"]
        return f"{data}; demo budget for {', '.join(demo)}, {kind} budget for the real data"
    return f"{data}; {kind} budget"


def profile_note(config: dict) -> str:
    """The note every computed row carries: which data are demo or real, and whose budget."""
    if config["profile"] == "paper" and not budget(config)["reduced"]:
        return ""
    return f"ours: {data_label(config)} (see provenance)"


def train_subset(dataset: dict) -> str:
    """What a run trains on: RAF-DB has no validation split, so our protocol holds out val_fraction of train."""
    subset = common_provenance.train_subset(dataset["max_train"])
    held_out = dataset.get("val_fraction")
    return f"{subset}, less a {held_out:g} stratified hold-out that selects the epoch" if held_out else subset


def optimiser(train: dict) -> dict:
    """The optimiser as the budget compares it (papers/ecan.yaml choices.sgd)."""
    found = {"name": train["optimizer"], "momentum": train["momentum"], "weight_decay": train["weight_decay"]}
    return found | (
        {"alpha": train["atan_alpha"], "beta": train["atan_beta"]} if train["optimizer"] == "sgd_atan" else {}
    )


def budget(config: dict) -> dict:
    """Our budget per dataset beside the paper's (a demo dataset's is the demo's: data_label says so)."""
    ecan, train = config["ecan"], config["ecan"]["train"]
    used = {
        d: {
            "epochs": ecan[d]["epochs"],
            "batch_size": train["batch_size"],
            "lr": train["lr"],
            "optimiser": optimiser(train),
            "schedule": {"name": train["schedule"], "warmup_epochs": train["warmup_epochs"]},
            "input_size": ecan[d]["input_size"],
            "seq_len": None,
            "train_subset": train_subset(ecan[d]),
        }
        for d in plan.DATASETS
    }
    return common_provenance.budget_record("ecan", used)


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
