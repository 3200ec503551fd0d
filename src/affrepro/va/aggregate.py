"""Aggregate the six fold metrics of one selection protocol into the mean row of Table 2 or table2_nested.

Each fold row reads that fold's own metrics file (affrepro.va.train); the mean
row reads this job's output: the mean over the folds with the sample standard
deviation (ddof=1). The fold entries here are copies, for reading the
cross-validation at a glance; `substitutes` is the union of the folds' (in
order, without repeats), so the mean row names every stand-in its folds ran with.

    python -m affrepro.va.aggregate --config C --metrics work/va/folds/paper/fold0/metrics.json ... --out work/va/folds/paper/cv.json
"""

from __future__ import annotations

from affrepro import jobs
from affrepro.environment import distinct as distinct_environments
from affrepro.files import read_json, write_json
from affrepro.metrics import mean_std


def summarise(fold_metrics: list[dict]) -> dict:
    fold_metrics = sorted(fold_metrics, key=lambda m: m["fold"])
    protocols = sorted({m["protocol"] for m in fold_metrics})
    if len(protocols) != 1:
        raise ValueError(f"the folds of one table must share a selection protocol, got {protocols}")
    folds = {
        f"fold-{m['fold']}": {k: m[k] for k in ("valence", "arousal", "p", "best_epoch", "selection_fold")}
        for m in fold_metrics
    }
    mean = {}
    for key in ("valence", "arousal", "p"):
        stats = mean_std([m[key] for m in fold_metrics])
        mean[key], mean[f"{key}_std"] = stats["mean"], stats["std"]
    substitutes = list(dict.fromkeys(s for m in fold_metrics for s in m["substitutes"]))
    environments = distinct_environments(
        m.get("environment") for m in fold_metrics
    )  # where the folds trained (the provenance sidecars)
    return {
        "protocol": protocols[0],
        "folds": folds,
        "mean": mean,
        "n_folds": len(fold_metrics),
        "substitutes": substitutes,
        "environments": environments,
    }


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(__doc__, None, argv, metrics=jobs.PATHS, out=jobs.PATH)
    write_json(args.out, summarise([read_json(p) for p in args.metrics]))


if __name__ == "__main__":
    main()
