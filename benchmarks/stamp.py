"""Where and when a benchmark measured its figures: written beside every figure a script records."""

from __future__ import annotations

import datetime
import os
import shlex
import subprocess
import sys
from pathlib import Path

from affrepro.environment import cpu_features, cpu_model

REPO = Path(__file__).resolve().parents[1]


def commit() -> str:
    """HEAD's commit, with `-dirty` when a tracked file differs from it (the figures may not be that commit's)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=REPO).returncode != 0
    return head.stdout.strip() + ("-dirty" if dirty else "")


def stamp(load_before: tuple[float, float, float]) -> dict:
    """The command, commit, date, CPU and load average (1/5/15 min, before and after) of this measurement."""
    return {
        "command": shlex.join(["python", *sys.argv]),
        "commit": commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
