"""The tiny paper's declaration (affrepro.registry), everything in this folder."""

from __future__ import annotations

import csv
from pathlib import Path

from affrepro.declarations import Dataset, Paper

HERE = Path(__file__).resolve().parent


def describe_points(location: str) -> str:
    with open(Path(location) / "points.csv", newline="") as handle:
        return f"{sum(1 for _ in csv.DictReader(handle))} points"


PAPER = Paper(
    key="tiny",
    name="TINY",
    title="A tiny test paper: noisy points -> a least-squares line -> Table 1",
    datasets={"tiny_points": Dataset("Tiny points", "work/data/tiny_points", "root", describe_points)},
    history_runs=lambda metrics: {"line": metrics["history"]},
    work_bytes=lambda config: 1e4,
    package="tinypaper",
    rules=str(HERE / "tiny.smk"),
    paper_file=str(HERE / "tiny.yaml"),
    config_schema=str(HERE / "tiny.schema.yaml"),
)
