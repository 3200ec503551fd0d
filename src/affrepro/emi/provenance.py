"""Provenance of the EMI tables: dataset, extractor weights, seeds, budget (affrepro.papers.PaperReport)."""

from __future__ import annotations

from pathlib import Path

from affrepro import provenance as common_provenance
from affrepro.emi import plan
from affrepro.files import read_json

DATASET = "hume_vidmimic2"


def profile_note(config: dict) -> str:
    return common_provenance.demo_note(config)


def budget(config: dict) -> dict:
    """Our training budget beside the paper's (papers/emi.yaml `budget`); input sizes of the face crop and the ViT."""
    train = config["emi"]["train"]
    used = {
        "epochs": train["epochs"],
        "batch_size": train["batch_size"],
        "lr": train["lr"],
        "optimiser": {"name": "adam"},
        "schedule": {"name": "plateau", "patience": train["lr_patience"], "factor": train["lr_factor"]},
        "input_size": {"face": config["preprocess"]["face_size"], "dino": config["extractors"]["dino"]["image_size"]},
        "seq_len": train["seq_len"],
        "train_subset": "all",
    }
    return common_provenance.budget_record("emi", {DATASET: used})


def provenance(config: dict, inputs: dict[str, Path]) -> dict:
    """inputs: `stats` (the dataset statistics) and, per extractor used, its features manifest."""
    stats = read_json(inputs["stats"])
    extractors = {}
    for extractor in plan.used_extractors(config):
        info = read_json(inputs[extractor])
        extractors[extractor] = {
            k: info[k]
            for k in ("weights", "precision", "dim", "image_size", "layer", "num_hidden_layers", "pooling")
            if k in info
        }
    return (
        common_provenance.common(config)
        | {
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
            "budget": budget(config),
            "model": config["emi"]["model"],
            "preprocess": {k: config["preprocess"][k] for k in ("fps", "face_size", "mtcnn", "audio")},
            "selection": "epoch with the best validation mean Pearson, per seed; scores are validation scores (the paper's protocol)",
            "std": "sample standard deviation (ddof=1) over seeds",
        }
        | ({"partial_media": stats["partial"]} if "partial" in stats else {})
        | common_provenance.left_out({"hume_vidmimic2": stats.get("skipped", {})})
    )
