"""Pilot of the real FER2013 runs (issue 22): the Table 5 pair, baseline and ECAN, at the paper's settings but
for a few epochs, through the workflow's own training jobs (resumable: rerun the same command after a stop).

    python benchmarks/ecan_pilot.py /path/to/fer2013.csv.gz --epochs 10           # run (or resume), then summarise
    python benchmarks/ecan_pilot.py /path/to/fer2013.csv.gz --epochs 10 --summary # summarise what has finished

The runs train in work/pilot/ (Snakemake, one job per model, one thread each, side by side): all 28,709
Training images, 48 px, batch 256, lr 0.1, strong augmentation, the config's optimiser and schedule
(papers/ecan.yaml choices.sgd and choices.schedule), `epochs` in place of the paper's 200 (the cosine then
spans these epochs), ecan.train.stop_on_collapse on. The summary, written to
benchmarks/ecan_pilot_fer2013.json and printed, holds per epoch the training loss and cross-entropy, the
validation (PrivateTest) and PublicTest accuracy, the share of the most predicted class and the collapse
flag, beside the class prior's entropy and the majority class's accuracy, with the stamp of where it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from affrepro.ecan import plan
from affrepro.files import write_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stamp import stamp  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORKDIR = REPO / "work" / "pilot"
OUT = REPO / "benchmarks" / "ecan_pilot_fer2013.json"
RUNS = {"baseline": plan.BASELINE, "ecan": plan.ECAN}


def run_ids(config: dict) -> dict[str, str]:
    defaults = config["ecan"]["defaults"]
    return {
        name: plan.run_id(defaults | {"dataset": "fer2013", "losses": losses, "seed": 0})
        for name, losses in RUNS.items()
    }


def pilot_config(fer2013: Path, epochs: int) -> dict:
    return {
        "datasets": {"fer2013": {"path": str(fer2013.resolve())}},
        "ecan": {"fer2013": {"epochs": epochs}, "train": {"stop_on_collapse": True}, "seeds": [0]},
    }


def train(overrides: dict, ids: dict[str, str], cores: int) -> None:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    (WORKDIR / "pilot.yaml").write_text(yaml.safe_dump(overrides))
    targets = [f"work/ecan/runs/{run}/metrics.json" for run in ids.values()]
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(WORKDIR)]
    command += ["--configfile", str(REPO / "config.yaml"), str(WORKDIR / "pilot.yaml"), "--cores", str(cores)]
    subprocess.run(command + ["--rerun-incomplete", *targets], check=True, env=os.environ | {"HF_HUB_OFFLINE": "1"})


def summary(ids: dict[str, str], majority: float, load_before) -> dict:
    found = {}
    for name, run in ids.items():
        path = WORKDIR / "work" / "ecan" / "runs" / run / "metrics.json"
        if not path.is_file():
            continue
        metrics = json.loads(path.read_text())
        keys = ("epoch", "train_loss", "train_ce", "score", "test_score", "val_majority_share", "collapse", "lr")
        found[name] = {
            "run_id": run,
            "epochs": [{k: row[k] for k in keys} for row in metrics["history"]],
            "selected": {"epoch": metrics["best_epoch"], "val": metrics["val"], "test": metrics["test"]},
            "final_epoch": metrics["final_epoch"],
            "collapse": metrics["collapse"],
            "budget": metrics["budget"],
            "hyperparameters": metrics["hyperparameters"],
        }
    return {"majority_class_test_accuracy": majority, "runs": found, "stamp": stamp(load_before)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fer2013", type=Path, help="fer2013.csv.gz (the real file)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--cores", type=int, default=2, help="jobs side by side (one thread each)")
    parser.add_argument("--summary", action="store_true", help="only summarise the finished runs")
    args = parser.parse_args()
    load_before = os.getloadavg()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    ids = run_ids(config)
    if not args.summary:
        train(pilot_config(args.fer2013, args.epochs), ids, args.cores)
    from affrepro.data import fer2013

    data, _ = fer2013.read(args.fer2013, "fail")
    public = np.asarray(data["PublicTest"]["labels"])
    result = summary(ids, float(np.bincount(public).max() / len(public)), load_before)
    write_json(OUT, result)
    for name, run in result["runs"].items():
        print(name, run["run_id"], "collapse:", run["collapse"]["flagged"])
        for row in run["epochs"]:
            print(
                f"  epoch {row['epoch']:3d} loss {row['train_loss']:.4f} ce {row['train_ce']:.4f} val {row['score']:.4f} "
                f"public {row['test_score']:.4f} top-class share {row['val_majority_share']:.2f} collapse {int(row['collapse'])}"
            )
    print(f"majority class PublicTest accuracy {result['majority_class_test_accuracy']:.4f}; wrote {OUT}")


if __name__ == "__main__":
    main()
