"""Where and when a benchmark measured its figures: written beside every figure a script records."""

from __future__ import annotations

import datetime
import json
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


RECORDS = REPO / "benchmarks" / "records"


def write_record(
    script: str, figures: dict, load_before: tuple[float, float, float], settings: dict | None = None
) -> Path:
    """Write this run's figures with its stamp to benchmarks/records/<script>.json, under its command.

    `script` is the benchmark's file name without `.py`; `figures` maps a table's title to the table,
    {"columns": [names], "rows": [[values, as the script prints them], ...]}; `settings` (optional) names
    what the command does not say (a mode, a default it used). The file holds one entry per command (a rerun of the same command
    replaces its entry), with sorted keys and a trailing newline: docs/performance.md is rendered from it
    (benchmarks/performance_doc.py).
    """
    path = RECORDS / f"{script}.json"
    records = json.loads(path.read_text()) if path.is_file() else {}
    entry = {"figures": figures, "stamp": stamp(load_before)}
    script_path = Path(sys.argv[0]).resolve()
    if script_path.is_relative_to(REPO):  # the same key from any working directory
        entry["stamp"]["command"] = shlex.join(["python", str(script_path.relative_to(REPO)), *sys.argv[1:]])
    if settings:
        entry["settings"] = settings
    records[entry["stamp"]["command"]] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=2, sort_keys=True, allow_nan=False) + "\n")
    print(f"recorded: {path.relative_to(REPO)}")
    return path
