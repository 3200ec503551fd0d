"""The tiny paper's one run: a least-squares line on the first points, scored on the last `test_fraction`."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from affrepro import jobs, metrics
from affrepro.files import write_json
from tinypaper.settings import Train


def read_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([float(r["x"]) for r in rows]), np.array([float(r["y"]) for r in rows])


def fit(x: np.ndarray, y: np.ndarray, test_fraction: float) -> dict:
    n_test = max(1, round(len(x) * test_fraction))
    slope, intercept = np.polyfit(x[:-n_test], y[:-n_test], 1)
    train_pred, test_pred = slope * x[:-n_test] + intercept, slope * x[-n_test:] + intercept
    return {
        "slope": float(slope),
        "intercept": float(intercept),
        "history": [{"epoch": 1, "train_loss": float(np.mean((train_pred - y[:-n_test]) ** 2))}],
        "test": {
            "mse": float(np.mean((test_pred - y[-n_test:]) ** 2)),
            "ccc": metrics.ccc(y[-n_test:], test_pred),
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--points", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Train.from_config(jobs.paper_config(args.config, "tiny"))
    write_json(args.out, fit(*read_points(args.points), settings.test_fraction))


if __name__ == "__main__":
    main()
