"""Rebuild the tables from scratch and compare every cell with the committed one.

    python -m affrepro.verify                 # build `all` in work/verify/, compare with results/
    python -m affrepro.verify --reuse         # keep work/verify's intermediates (reruns only what changed)
    python -m affrepro.verify --built DIR     # compare a finished build in DIR, build nothing

Each `_ours` and `_std` cell of every committed `results/**/table*.csv` gets a
verdict: `identical` (same text), `within tolerance`, or `different`. The
tolerance of a cell is its row's std over seeds or folds (the `_std` cell of
the same metric); a row without one (a single fold, a single seed) takes the
largest std of that metric in the table, and a table with none has tolerance 0.
A difference smaller than the spread between seeds or folds is not evidence of
a different result. What is promised: bitwise on the same machine; within
tolerance across machines (bf16 kernels differ between processors, see README).
Exits 1 if any cell is `different` or missing. It first prints the machines the
committed and the rebuilt tables were trained on (their provenance sidecars).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from affrepro.config import REPO_ROOT
from affrepro.io import read_json


def metric_columns(columns: list[str]) -> tuple[list[str], list[str]]:
    """(key columns, metric names) of a table CSV (the contract: keys, then M_paper/M_ours/M_std/M_delta, then note)."""
    metrics = [c[: -len("_ours")] for c in columns if c.endswith("_ours")]
    first = min(columns.index(f"{m}_paper") for m in metrics)
    return columns[:first], metrics


def tolerances(table: pd.DataFrame, metric: str) -> pd.Series:
    """Per row: its own std of `metric`, else the largest std of that metric in the table, else 0."""
    std = pd.to_numeric(table[f"{metric}_std"], errors="coerce")
    fallback = std.max() if std.notna().any() else 0.0
    return std.fillna(fallback)


def compare_cell(committed, rebuilt, tolerance: float) -> str:
    if pd.isna(committed) and pd.isna(rebuilt):
        return "identical"
    if pd.isna(committed) or pd.isna(rebuilt):
        return "different"
    if str(committed) == str(rebuilt):
        return "identical"
    gap = abs(float(committed) - float(rebuilt))
    return "within tolerance" if gap <= tolerance + 1e-12 else "different"


def compare_table(committed_csv: Path, rebuilt_csv: Path, name: str) -> list[dict]:
    """One verdict per `_ours`/`_std` cell that either side fills; `name` labels the table in the verdicts."""
    if not rebuilt_csv.is_file():
        return [
            {
                "table": name,
                "row": "*",
                "cell": "*",
                "committed": "",
                "rebuilt": "missing",
                "tolerance": 0.0,
                "verdict": "different",
            }
        ]
    committed, rebuilt = (
        pd.read_csv(p, dtype=str, keep_default_na=False).replace("", math.nan) for p in (committed_csv, rebuilt_csv)
    )
    keys, metrics = metric_columns(list(committed.columns))
    committed, rebuilt = committed.set_index(keys), rebuilt.set_index(keys)
    verdicts = []
    for metric in metrics:
        tolerance = tolerances(committed, metric)
        for row in committed.index.union(rebuilt.index, sort=False):
            for column in (f"{metric}_ours", f"{metric}_std"):
                old = committed[column].get(row, math.nan)
                new = rebuilt[column].get(row, math.nan) if column in rebuilt else math.nan
                if pd.isna(old) and pd.isna(new):
                    continue
                tol = float(tolerance.get(row, 0.0)) if row in tolerance.index else 0.0
                verdicts.append(
                    {
                        "table": name,
                        "row": " | ".join(map(str, row if isinstance(row, tuple) else (row,))),
                        "cell": column,
                        "committed": old,
                        "rebuilt": new,
                        "tolerance": tol,
                        "verdict": compare_cell(old, new, tol),
                    }
                )
    return verdicts


def committed_tables(results: Path) -> list[Path]:
    return sorted(p for p in results.rglob("table*.csv") if "_ours" in p.read_text().splitlines()[0])


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
    """Where the tables under `results` were computed, one line per distinct training environment that
    their provenance sidecars (<table>.provenance.json) record: device, GPU, CPU, torch; the tolerance
    verdicts read against these (bf16 kernels differ between processors)."""
    found = []
    for sidecar in sorted(results.rglob("table*.provenance.json")):
        for env in read_json(sidecar).get("environment", {}).get("training", []):
            fields = {k: env.get(k) for k in ("device", "gpu", "cpu", "precision")} | {
                "torch": env.get("packages", {}).get("torch")
            }
            line = ", ".join(f"{k} {v}" for k, v in fields.items() if v)
            found += [line] if line not in found else []
    return found


def report(verdicts: list[dict]) -> int:
    for v in verdicts:
        print(
            f"{v['verdict']:>16}  {v['table']} | {v['row']} | {v['cell']}: committed {v['committed']}, rebuilt "
            f"{v['rebuilt']} (tolerance {v['tolerance']:g})"
        )
    counts = {k: sum(v["verdict"] == k for v in verdicts) for k in ("identical", "within tolerance", "different")}
    print(
        f"verify: {len(verdicts)} cells: {counts['identical']} identical, {counts['within tolerance']} within "
        f"tolerance, {counts['different']} different"
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
    args = parser.parse_args(argv)
    built = args.built
    if built is None:
        build(args.scratch, args.cores, args.reuse)
        built = args.scratch
    for name, results in (("committed", args.results), ("rebuilt", built / "results")):
        for line in machines(results) or ["(no training environment recorded in the provenance sidecars)"]:
            print(f"verify: {name} tables trained on: {line}")
    verdicts = []
    for table in committed_tables(args.results):
        relative = table.relative_to(args.results)
        verdicts += compare_table(table, built / "results" / relative, f"results/{relative}")
    return report(verdicts)


if __name__ == "__main__":
    sys.exit(main())
