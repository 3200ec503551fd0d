"""The demo's time budget as a new user meets it, measured in a fresh clone and printed (not asserted).

    python benchmarks/demo_budget.py [--cores N] [--keep] [--record]

Clones this repository's HEAD into a temporary folder, points it at this checkout's
`.venv` (the install is not timed: it is the same ~1.5 min download for every
command) with the clone's `src/` first on PYTHONPATH, and times, one after another:

1. `make reproduce`: EMI Table 3 from nothing (the README's first command);
2. `make tables`: every other table and figure of the three papers, continuing
   from step 1 (so 1 + 2 is a `make tables` from nothing);
3. a no-op rerun of `make tables` (nothing to do: the time a user waits to learn so).

After step 2 it prints steps 1 + 2: `make tables` from nothing. The targets (issue 11):
make reproduce <= 3 min, make tables from nothing <= 10 min, a no-op <= 3 s, on 2 cores.

Each line gives the wall time, the CPU seconds of the whole process tree
(a shared machine stretches wall time; CPU time shows the work) and the load
average, which says how busy the machine was. `--record` writes the figures,
stamped, to benchmarks/records/demo_budget.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
STEPS = [
    ("make reproduce", ["make", "reproduce"]),
    ("make tables", ["make", "tables"]),
    ("no-op make tables", ["make", "tables"]),
]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def git_head(repo: Path) -> str:
    return subprocess.check_output(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], text=True).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=os.cpu_count(), help="CORES for make (default: every core)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    parser.add_argument(
        "--record", action="store_true", help="write the figures, stamped, to benchmarks/records/demo_budget.json"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    venv = REPO / ".venv"
    if not (venv / ".installed").is_file():
        raise SystemExit(f"{venv}: no installed venv; run `make install` in {REPO} first")
    clone = Path(tempfile.mkdtemp(prefix="affrepro-budget-"))
    try:
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone / "repo")], check=True)
        work = clone / "repo"
        (work / ".venv").symlink_to(venv)  # the Makefile's stamps are there: nothing is reinstalled
        for stamp in (".installed", ".installed-test"):
            if (venv / stamp).exists():
                (venv / stamp).touch()  # newer than the clone's requirements files
        # The venv's editable install points at this checkout's src/; the clone's own code goes first.
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(work / "src"))
        print(f"clone: {work} (HEAD {git_head(work)}), cores {args.cores}")
        print(f"{'step':20s} {'wall s':>8s} {'CPU s':>8s}  load average (1/5/15 min) at the end")
        spent = {}
        for name, command in STEPS:
            cpu0, t0 = children_cpu_s(), time.perf_counter()
            proc = subprocess.run([*command, f"CORES={args.cores}"], cwd=work, env=env, capture_output=True, text=True)
            wall, cpu = time.perf_counter() - t0, children_cpu_s() - cpu0
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{name:20s} {wall:8.1f} {cpu:8.1f}  {load}", flush=True)
            rows.append([name, round(wall, 1), round(cpu, 1), [round(x, 1) for x in os.getloadavg()]])
            spent[name] = (wall, cpu)
            if name == "make tables":  # it went on from make reproduce: together, every table from nothing
                total = [a + b for a, b in zip(spent["make reproduce"], spent["make tables"])]
                print(f"{'= tables from nothing':20s} {total[0]:8.1f} {total[1]:8.1f}  (make reproduce + make tables)")
                rows.append(["= tables from nothing", round(total[0], 1), round(total[1], 1), None])
        if args.record:
            from stamp import write_record

            columns = ["step", "wall s", "CPU s", "load at the end"]
            write_record(
                "demo_budget",
                {"fresh clone": {"columns": columns, "rows": rows}},
                load_before,
                settings={"cores": args.cores, "clone of": git_head(work)},
            )
    finally:
        if args.keep:
            print(f"kept: {clone}")
        else:
            shutil.rmtree(clone, ignore_errors=True)


if __name__ == "__main__":
    main()
