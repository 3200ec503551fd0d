"""Collect the six fold metrics into work/va/cv.json (the numbers of Table 2).

Each fold row is that fold's held-out CCC; the mean row is the mean over the
folds with the sample standard deviation (ddof=1).

    python -m affrepro.va.summary --metrics work/va/folds/fold0/metrics.json ... --out work/va/cv.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", nargs="+", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    write_json(args.out, summarise([read_json(p) for p in args.metrics]))


if __name__ == "__main__":
    main()
