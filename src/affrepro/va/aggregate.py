"""Aggregate the six fold metrics into the mean row of Table 2 (and one file of all folds).

Each fold row of Table 2 reads that fold's own metrics file (affrepro.va.train);
the mean row reads this job's output: the mean over the folds with the sample
standard deviation (ddof=1). The fold entries here are copies, for reading the
cross-validation at a glance.

    python -m affrepro.va.aggregate --config C --metrics work/va/folds/fold0/metrics.json ... --out work/va/cv.json
"""

from __future__ import annotations

from affrepro import jobs
from affrepro.io import read_json, write_json
from affrepro.metrics import mean_std


def summarise(fold_metrics: list[dict]) -> dict:
    fold_metrics = sorted(fold_metrics, key=lambda m: m["fold"])
    folds = {f"fold-{m['fold']}": {k: m[k] for k in ("valence", "arousal", "p", "best_epoch", "selection_fold")} for m in fold_metrics}
    mean = {}
    for key in ("valence", "arousal", "p"):
        stats = mean_std([m[key] for m in fold_metrics])
        mean[key], mean[f"{key}_std"] = stats["mean"], stats["std"]
    return {"folds": folds, "mean": mean, "n_folds": len(fold_metrics)}


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(__doc__, None, argv, metrics=jobs.PATHS, out=jobs.PATH)
    write_json(args.out, summarise([read_json(p) for p in args.metrics]))


if __name__ == "__main__":
    main()
