"""Gather the runs of one table or figure into work/ecan/experiments/<group>.json.

Scores are the test split's (the epoch chosen on validation), averaged over
the seeds in `ecan.seeds` with the sample std (ddof=1; none for one seed).
Accuracy and mean class accuracy are in percent as the paper prints them,
macro-F1 as a fraction (Tables 4-5 print it so).

    python -m affrepro.ecan.collect --config C --group table3 --out work/ecan/experiments/table3.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from affrepro.config import effective_config, load_config
from affrepro.ecan import plan
from affrepro.io import read_json, write_json
from affrepro.metrics import mean_std

GROUPS = ("table2", "table3", "table4", "table5", "figure3", "figure4", "figure7")


def group_runs(config: dict, group: str) -> dict[str, list[str]]:
    """Experiment name (without the group) -> run ids."""
    return {name.split("/", 1)[1]: [plan.run_id(s) for s in specs] for name, specs in plan.experiments(config).items() if name.split("/", 1)[0] == group}


def summarise(results: list[dict]) -> dict:
    out: dict = {"runs": [r["run_id"] for r in results], "best_epochs": [r["best_epoch"] for r in results]}
    for split in ("test", "val"):
        for metric, scale, name in (("accuracy", 100.0, "accuracy_pct"), ("mean_class_accuracy", 100.0, "mean_class_accuracy_pct"), ("macro_f1", 1.0, "macro_f1")):
            stats = mean_std([scale * r[split][metric] for r in results])
            prefix = "" if split == "test" else "val_"
            out[prefix + name] = stats["mean"]
            out[prefix + name + "_std"] = stats["std"]
    out["test_confusion_matrix"] = np.sum([r["test_confusion_matrix"] for r in results], axis=0).tolist()
    return out


def nest(flat: dict[str, dict]) -> dict:
    tree: dict = {}
    for name, value in flat.items():
        node = tree
        parts = name.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--group", required=True, choices=GROUPS)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    config = effective_config(load_config(args.config), "ecan")
    flat = {}
    for name, run_ids in group_runs(config, args.group).items():
        flat[name] = summarise([read_json(plan.run_dir(r) / "metrics.json") | {"run_id": r} for r in run_ids])
    write_json(args.out, nest(flat))


if __name__ == "__main__":
    main()
