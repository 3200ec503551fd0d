"""Rebuild the results from scratch and compare every committed result file with the rebuilt one.

    python -m affrepro.verify                 # build `all` in work/verify/, compare with results/
    python -m affrepro.verify --reuse         # keep work/verify's intermediates (reruns only what changed)
    python -m affrepro.verify --built DIR     # compare a finished build in DIR, build nothing

A rebuild runs the same seeds and the same config, so the only legitimate difference is floating-point noise
between processors, never our spread over seeds:

- on the same machine (the rebuilt sidecars record the same training environments as the committed ones:
  device, GPU, CPU model and instruction sets, precision, torch) every cell must be identical;
- on another machine a number may differ by the cross-processor noise measured for its file and column
  (NOISE_FILE, written by `python benchmarks/cross_isa_noise.py`, which rebuilds the demo under each
  instruction set oneDNN, ATen and MKL can emulate here and keeps the largest difference); 0 where unmeasured.

Every CSV under results/ is compared. Tables: key columns, paper values and notes exactly; ours, std and delta
numerically. claims.csv, per claim: every column exactly, except the numbers of ours (ours, interval,
outcome), which only a same-machine rebuild must repeat; a changed verdict is `different`. Figures, curves and
other CSVs: rows in order, numbers numerically, text exactly. Each cell gets `identical`, `within tolerance`
or `different`; the run exits 1 if anything is different or missing.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from affrepro.config.reading import REPO_ROOT
from affrepro.files import read_json

NOISE_FILE = REPO_ROOT / "benchmarks" / "cross_isa_noise.json"
CLAIM_NUMBERS = ("ours", "interval", "outcome")  # claims.csv columns that print numbers of ours


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return list(reader.fieldnames or []), list(reader)


def metric_columns(columns: list[str]) -> tuple[list[str], list[str]]:
    """(key columns, metric names) of a table CSV (the contract: keys, then M_paper/M_ours/M_std/M_delta, then note)."""
    metrics = [c[: -len("_ours")] for c in columns if c.endswith("_ours")]
    first = min(columns.index(f"{m}_paper") for m in metrics)
    return columns[:first], metrics


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def compare_cell(committed: str, rebuilt: str, tolerance: float | None) -> str:
    """`tolerance` None: the cell is text (compared exactly); else a number within `tolerance`."""
    if committed == rebuilt:
        return "identical"
    old, new = _number(committed), _number(rebuilt)
    if tolerance is None or old is None or new is None:
        return "different"
    return "within tolerance" if abs(old - new) <= tolerance + 1e-12 else "different"


def _verdict(name: str, row: str, column: str, old: str, new: str, tolerance: float | None) -> dict:
    return {
        "table": name,
        "row": row,
        "cell": column,
        "committed": old,
        "rebuilt": new,
        "tolerance": tolerance,
        "verdict": compare_cell(old, new, tolerance),
    }


def _keyed(rows: list[dict], keys: list[str]) -> dict[str, dict]:
    return {" | ".join(r[k] for k in keys): r for r in rows}


def compare_rows(name: str, committed: dict[str, dict], rebuilt: dict[str, dict], numeric, skip=()) -> list[dict]:
    """Cell verdicts of two CSVs' rows matched by key; `numeric(column)` gives a column's tolerance, None for text."""
    verdicts = []
    for key in dict.fromkeys([*committed, *rebuilt]):
        old, new = committed.get(key), rebuilt.get(key)
        if old is None or new is None:
            verdicts.append(
                _verdict(name, key, "(row)", "present" if old else "missing", "present" if new else "missing", None)
            )
            continue
        for column in old:
            if column not in skip:
                verdicts.append(_verdict(name, key, column, old[column], new.get(column, ""), numeric(column)))
    return verdicts


def verdict_shape(verdict: str) -> str:
    """A verdict with the numbers it quotes masked: what must not change across machines."""
    return re.sub(r"-?\d+(\.\d+)?", "#", verdict)


def compare_file(committed_csv: Path, rebuilt_csv: Path, name: str, noise: dict[str, float] | None) -> list[dict]:
    """One verdict per cell of a committed CSV; `noise` is None on the same machine (identical required), else
    the file's measured cross-processor tolerance per column (0 for a column not listed)."""
    if not rebuilt_csv.is_file():
        return [_verdict(name, "*", "*", "present", "missing", None)]
    (columns, old), (new_columns, new) = read_csv(committed_csv), read_csv(rebuilt_csv)
    if columns != new_columns:
        return [_verdict(name, "*", "(columns)", ",".join(columns), ",".join(new_columns), None)]

    def tolerance(column: str) -> float:
        return 0.0 if noise is None else float(noise.get(column, 0.0))

    if committed_csv.name == "claims.csv":
        # Across machines our numbers may move within the noise (the tables check them); verdicts may not, but
        # the numbers a verdict quotes ("std 2.01 > tolerance 1.00") may.
        if noise is None:
            return compare_rows(name, _keyed(old, ["claim_id"]), _keyed(new, ["claim_id"]), lambda c: None)
        old, new = ([r | {"verdict": verdict_shape(r["verdict"])} for r in rows] for rows in (old, new))
        return compare_rows(name, _keyed(old, ["claim_id"]), _keyed(new, ["claim_id"]), lambda c: None, CLAIM_NUMBERS)
    if any(c.endswith("_ours") for c in columns):
        keys, _ = metric_columns(columns)
        computed = tuple(c for c in columns if c.endswith(("_ours", "_std", "_delta")))
        return compare_rows(
            name, _keyed(old, keys), _keyed(new, keys), lambda c: tolerance(c) if c in computed else None
        )
    return compare_rows(name, dict(enumerate(old)), dict(enumerate(new)), tolerance)


def committed_files(results: Path) -> list[Path]:
    return sorted(results.rglob("*.csv"))


def build(scratch: Path, cores: int, reuse: bool) -> None:
    if scratch.exists() and not reuse:
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO_ROOT / "Snakefile"),
        "-d",
        str(scratch),
        "--configfile",
        str(REPO_ROOT / "config.yaml"),
        "--cores",
        str(cores),
        "all",
    ]
    print("verify: building the tables:", " ".join(command), flush=True)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    subprocess.run(command, check=True, env=env)


def machines(results: Path) -> list[str]:
    """The training environments of the tables under `results`, one line per distinct one that their provenance
    sidecars (<table>.provenance.json) record: device, GPU, the CPU's kernel-relevant instruction sets, precision,
    torch. The CPU's model name is not there (affrepro.tables.WHERE_FIELDS): two CPUs with the same instruction
    sets run the same kernels."""
    found = []
    for sidecar in sorted(results.rglob("table*.provenance.json")):
        for env in read_json(sidecar).get("environment", {}).get("training", []):
            fields = {k: env.get(k) for k in ("device", "gpu", "precision")} | {
                "cpu features": " ".join(env["cpu_features"]) if "cpu_features" in env else "unrecorded",
                "torch": env.get("packages", {}).get("torch"),
            }
            line = ", ".join(f"{k} {v}" for k, v in fields.items() if v)
            found += [line] if line not in found else []
    return found


def read_noise(path: Path = NOISE_FILE) -> dict[str, dict[str, float]]:
    """The measured cross-processor tolerance per results file and column ({} when never measured)."""
    if not path.is_file():
        print(f"verify: {path} is missing: every number must be identical (run benchmarks/cross_isa_noise.py)")
        return {}
    data = read_json(path)
    print(
        f"verify: cross-processor tolerances from {path.name}, measured by `{data['command']}` ({data['measured']['date']})"
    )
    return data["tolerance"]


def report(verdicts: list[dict]) -> int:
    for v in verdicts:
        if v["verdict"] != "identical":
            tolerance = "text, exact" if v["tolerance"] is None else f"tolerance {v['tolerance']:g}"
            print(
                f"{v['verdict']:>16}  {v['table']} | {v['row']} | {v['cell']}: committed {v['committed']!r}, "
                f"rebuilt {v['rebuilt']!r} ({tolerance})"
            )
    counts = {k: sum(v["verdict"] == k for v in verdicts) for k in ("identical", "within tolerance", "different")}
    files = len({v["table"] for v in verdicts})
    print(
        f"verify: {len(verdicts)} cells in {files} files: {counts['identical']} identical, "
        f"{counts['within tolerance']} within tolerance, {counts['different']} different"
    )
    return 1 if counts["different"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--scratch", type=Path, default=Path("work/verify"), help="where to rebuild (default work/verify)"
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep the scratch directory's intermediates")
    parser.add_argument("--built", type=Path, help="compare this finished build instead of building")
    parser.add_argument(
        "--results", type=Path, default=REPO_ROOT / "results", help="the committed results (default results/)"
    )
    parser.add_argument(
        "--noise", type=Path, default=NOISE_FILE, help=f"cross-processor tolerances (default {NOISE_FILE.name})"
    )
    args = parser.parse_args(argv)
    built = args.built
    if built is None:
        build(args.scratch, args.cores, args.reuse)
        built = args.scratch
    environments = {}
    for name, results in (("committed", args.results), ("rebuilt", built / "results")):
        environments[name] = machines(results)
        for line in environments[name] or ["(no training environment recorded in the provenance sidecars)"]:
            print(f"verify: {name} results trained on: {line}")
    same = set(environments["committed"]) == set(environments["rebuilt"])
    print(
        "verify: same training environment: every cell must be identical"
        if same
        else "verify: another training environment: numbers may differ by the measured cross-processor noise"
    )
    noise = None if same else read_noise(args.noise)
    verdicts = []
    for path in committed_files(args.results):
        relative = f"results/{path.relative_to(args.results).as_posix()}"
        file_noise = None if noise is None else noise.get(relative, {})
        verdicts += compare_file(path, built / relative, relative, file_noise)
    return report(verdicts)


if __name__ == "__main__":
    sys.exit(main())
