"""Gather the runs of one table or figure into one JSON (the file papers/ecan.yaml and the figures read).

Each run's metrics file names its run id; the plan (affrepro.ecan.plan) says
which run ids make each experiment of the group. Scores are the test split's
(the epoch chosen on validation), averaged over the seeds in `ecan.seeds`
with the sample std (ddof=1; none for one seed). Accuracy and mean class
accuracy are in percent as the paper prints them, macro-F1 as a fraction
(Tables 4-5 print it so). `substitutes` (stand-ins for the paper's models on
real data, affrepro.substitutes) is the union over an experiment's
runs, and over the whole group at the top level, where the table rows read it.

    python -m affrepro.ecan.aggregate --config C --group table3 --metrics work/ecan/runs/*/metrics.json --out work/ecan/experiments/table3.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro import jobs
from affrepro.ecan import plan
from affrepro.ecan.settings import Aggregate
from affrepro.environment import distinct as distinct_environments
from affrepro.files import read_json, write_json
from affrepro.metrics import mean_std

# (metric in a run's scores, scale, name in the summary)
SUMMARY_METRICS = (
    ("accuracy", 100.0, "accuracy_pct"),
    ("mean_class_accuracy", 100.0, "mean_class_accuracy_pct"),
    ("macro_f1", 1.0, "macro_f1"),
)


def summarise(results: list[dict]) -> dict:
    """One experiment's runs (one per seed) -> mean and std of each score, in the paper's units, and the summed confusion matrix."""
    out: dict = {
        "runs": [r["run_id"] for r in results],
        "best_epochs": [r["best_epoch"] for r in results],
        "substitutes": union(r["substitutes"] for r in results),
    }
    out["environments"] = distinct_environments(
        r.get("environment") for r in results
    )  # where the runs trained (the tables' provenance sidecars)
    for split, prefix in (("test", ""), ("val", "val_")):
        for metric, scale, name in SUMMARY_METRICS:
            stats = mean_std([scale * r[split][metric] for r in results])
            out[prefix + name] = stats["mean"]
            out[prefix + name + "_std"] = stats["std"]
    out["test_confusion_matrix"] = np.sum([r["test_confusion_matrix"] for r in results], axis=0).tolist()
    return out


def union(lists) -> list:
    """The items of several lists, once each, in first-seen order."""
    return list(dict.fromkeys(item for items in lists for item in items))


def nest(flat: dict[str, dict]) -> dict:
    """{"a/b/c": v} -> {"a": {"b": {"c": v}}} (the dotted paths papers/ecan.yaml reads)."""
    tree: dict = {}
    for name, value in flat.items():
        node = tree
        parts = name.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def by_run_id(metrics_files: list[Path]) -> dict[str, dict]:
    """Run id (as written inside each file) -> the run's metrics."""
    runs = {}
    for path in metrics_files:
        metrics = read_json(path)
        missing = [key for key in ("run_id", "substitutes") if key not in metrics]
        if missing:
            raise ValueError(
                f"{path}: no {' or '.join(missing)}; it was written by an older affrepro.ecan.train, rerun that run"
            )
        runs[metrics["run_id"]] = metrics
    return runs


def aggregate(config: dict, group: str, metrics_files: list[Path]) -> dict:
    """The group's experiments, each summarised over its runs, nested by experiment name.

    The top-level `substitutes` is the union over every experiment of the group:
    affrepro.tables notes a row with the substitutes of the file it reads, and
    each row of a table reads one group file (Table 2's rows span both datasets).
    """
    runs = by_run_id(metrics_files)
    flat = {}
    for name, run_ids in plan.group_runs(config, group).items():
        missing = [r for r in run_ids if r not in runs]
        if missing:
            raise ValueError(f"{group}/{name}: no metrics file among the inputs holds run(s) {', '.join(missing)}")
        flat[name] = summarise([runs[r] for r in run_ids])
    return nest(flat) | {
        "substitutes": union(summary["substitutes"] for summary in flat.values()),
        "environments": distinct_environments(e for summary in flat.values() for e in summary["environments"]),
    }


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(__doc__, "ecan", argv, group=jobs.one_of(plan.GROUPS), metrics=jobs.PATHS, out=jobs.PATH)
    write_json(args.out, aggregate(Aggregate.from_config(config).runs, args.group, args.metrics))


if __name__ == "__main__":
    main()
