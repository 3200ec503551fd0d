"""The tiny paper's demo data: `n` points on a line with Gaussian noise, as points.csv (x, y)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from affrepro import jobs
from tinypaper.settings import DemoData


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    demo = DemoData.from_config(jobs.paper_config(args.config, "tiny")).demo
    rng = np.random.default_rng(demo["seed"])
    x = np.linspace(-1.0, 1.0, demo["n"])
    y = demo["slope"] * x + demo["intercept"] + rng.normal(0.0, demo["noise"], demo["n"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y"])
        writer.writerows([f"{a:.6f}", f"{b:.6f}"] for a, b in zip(x, y, strict=True))


if __name__ == "__main__":
    main()
