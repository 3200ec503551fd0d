"""How far do the demo tables move on another processor? Measured, written to a JSON file, not asserted.

    python benchmarks/cross_isa_noise.py [--reuse] [--cores 2] [--levels avx sse41] [--root work/isa] [--against DIR]

Clones this repository's committed HEAD into <root>/clone (so edits of the
checkout do not reach the builds) and rebuilds every table and figure
(`snakemake ... all`, the clone's own src/ first on PYTHONPATH, this checkout's
.venv for the packages, HF_HUB_OFFLINE=1) once per emulated instruction-set
level below this processor's own, each in <root>/<level>. A level caps, together,
oneDNN (ONEDNN_MAX_CPU_ISA), PyTorch's own vectorised kernels
(ATEN_CPU_CAPABILITY: default|avx2|avx512) and MKL's BLAS
(MKL_ENABLE_INSTRUCTIONS; MKL honours it only on Intel processors, so on any
other processor an emulated level also sets MKL_CBWR=COMPATIBLE, MKL's
conditional-reproducibility code path, which it does honour there: another
GEMM accumulation order, as another processor's BLAS would give). The levels
come from /proc/cpuinfo's flags: on an AVX2-only processor "avx" and "sse41";
on one with AMX also "avx512_core_bf16", "avx512_core" and "avx2". The native
level is the committed results/ themselves when their provenance sidecars say
they were trained with this CPU's kernel-relevant instruction sets; otherwise it is rebuilt too (level
"native", no variables). Each level's effective ISA is probed (oneDNN and MKL
verbose output, torch.backends.cpu.get_cpu_capability) and recorded.

Every numeric `_ours`/`_std`/`_delta` cell of every committed table CSV (a CSV
under results/ with an `_ours` or `_std` column) and every numeric cell of every
other CSV but claims.csv (figures, training curves, predictions) is compared with each level's rebuilt file: per file and column, the
largest absolute difference over rows and levels goes into
benchmarks/cross_isa_noise.json's "tolerance" (0.0 where identical; null where a
cell is empty on one side only). It also records, per CSV under results/ and
level, how many cells differ in text, and any claims.csv verdict that changed.

--reuse keeps the clone and the finished builds (a level whose build finished
for the clone's commit is not run again; an unfinished one continues).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from affrepro.environment import cpu_features

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
OUTPUT = REPO / "benchmarks" / "cross_isa_noise.json"

# From the richest instruction set down: (level, /proc/cpuinfo flags it needs, the variables that emulate it).
LADDER = [
    (
        "avx512_core_amx",
        ("amx_bf16", "amx_tile", "avx512_bf16"),
        {
            "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX",
            "ATEN_CPU_CAPABILITY": "avx512",
            "MKL_ENABLE_INSTRUCTIONS": "AVX512_E4",
        },
    ),
    (
        "avx512_core_bf16",
        ("avx512_bf16", "avx512f", "avx512bw", "avx512vl", "avx512dq"),
        {
            "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16",
            "ATEN_CPU_CAPABILITY": "avx512",
            "MKL_ENABLE_INSTRUCTIONS": "AVX512_E3",
        },
    ),
    (
        "avx512_core",
        ("avx512f", "avx512bw", "avx512vl", "avx512dq"),
        {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "ATEN_CPU_CAPABILITY": "avx512", "MKL_ENABLE_INSTRUCTIONS": "AVX512"},
    ),
    (
        "avx2",
        ("avx2", "fma"),
        {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    ),
    (
        "avx",
        ("avx",),
        {"ONEDNN_MAX_CPU_ISA": "AVX", "ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX"},
    ),
    (
        "sse41",
        ("sse4_1",),
        {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    ),
]

# What each level's processes actually use: ATen's capability, oneDNN's and MKL's ISA (their verbose lines).
PROBE = """
import torch
print("aten:", torch.backends.cpu.get_cpu_capability(), flush=True)
print("bf16:", torch.ops.mkldnn._is_mkldnn_bf16_supported(), flush=True)
torch.nn.functional.conv2d(torch.randn(8, 16, 32, 32), torch.randn(16, 16, 3, 3))
a = torch.randn(256, 256)
torch.mm(a, a)
"""

TABLE_SUFFIXES = ("_ours", "_std", "_delta")
ALL_SUFFIXES = ("_paper", *TABLE_SUFFIXES)


def cpu_info() -> tuple[str, set[str], str]:
    """(model name, instruction-set flags, vendor) from /proc/cpuinfo."""
    model, flags, vendor = "", set(), ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and not model:
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
        elif key.strip() == "vendor_id" and not vendor:
            vendor = value.strip()
    return model, flags, vendor


def emulated_levels(native: int, vendor: str) -> dict[str, dict[str, str]]:
    """The levels below the native one, each with its variables (MKL_CBWR added where MKL ignores its ISA cap)."""
    extra = {} if vendor == "GenuineIntel" else {"MKL_CBWR": "COMPATIBLE"}
    return {name: variables | extra for name, _, variables in LADDER[native + 1 :]}


def native_level(flags: set[str]) -> int:
    """Index into LADDER of the richest level this processor has."""
    for index, (_, needs, _) in enumerate(LADDER):
        if all(flag in flags for flag in needs):
            return index
    raise SystemExit("this processor has not even SSE4.1")


def committed_cpus(results: Path) -> set[str]:
    """The kernel-relevant instruction sets of the CPUs the results were trained on, as the provenance sidecars
    record them (the CPU's model name is in the untracked run info only, affrepro.tables.WHERE_FIELDS)."""
    found = set()
    for sidecar in results.rglob("*.provenance.json"):
        for env in json.loads(sidecar.read_text()).get("environment", {}).get("training", []):
            if env.get("device") == "cpu":
                found.add(" ".join(env["cpu_features"]) if "cpu_features" in env else "unrecorded")
    return found


def build_env(clone: Path, variables: dict[str, str]) -> dict[str, str]:
    ours = {*LADDER[0][2], "MKL_CBWR", "ONEDNN_VERBOSE", "MKL_VERBOSE"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=str(clone / "src"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env | variables


def probe(clone: Path, variables: dict[str, str]) -> dict[str, str]:
    env = build_env(clone, variables) | {"ONEDNN_VERBOSE": "1", "MKL_VERBOSE": "1"}
    command = [
        str(VENV_BIN / "python"),
        "-c",
        "import affrepro.config.reading as c; print('repo:', c.REPO_ROOT)\n" + PROBE,
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    found = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith("repo:"):
            found["affrepro_repo_root"] = line.split(":", 1)[1].strip()
        elif line.startswith("bf16:"):
            found["onednn_bf16"] = line.split(":", 1)[1].strip()
        elif line.startswith("aten:"):
            found["aten"] = line.split(":", 1)[1].strip()
        elif "onednn_verbose" in line and "isa:" in line and "onednn" not in found:
            found["onednn"] = line.split("isa:", 1)[1].strip()
        elif line.startswith("MKL_VERBOSE") and ("enabled processors" in line or "Product build" in line):
            found.setdefault("mkl", line.strip())
        elif line.startswith("MKL_VERBOSE SGEMM") and "CNR:" in line:
            found.setdefault("mkl_cnr", line.split("CNR:", 1)[1].split()[0])
    if proc.returncode:
        found["error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    return found


def git_head(repo: Path) -> str:
    return subprocess.check_output(["git", "-C", str(repo), "rev-parse", "HEAD"], text=True).strip()


def build(clone: Path, scratch: Path, level: str, variables: dict[str, str], args: argparse.Namespace) -> float:
    """Build `all` for one level in `scratch`; returns its wall seconds (summed over resumed runs)."""
    stamp = scratch / "cross_isa_noise.stamp.json"
    commit = git_head(clone)
    record = json.loads(stamp.read_text()) if args.reuse and stamp.is_file() else {}
    if record.get("commit") != commit or record.get("targets") != args.targets:
        record = {"commit": commit, "targets": args.targets, "runs_s": [], "finished": False}
    if record["finished"]:
        print(f"{level}: finished build for {commit[:9]} in {scratch}, reused", flush=True)
        return sum(record["runs_s"])
    if not args.reuse and scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    command = [
        str(VENV_BIN / "python"),
        "-m",
        "snakemake",
        "-s",
        str(clone / "Snakefile"),
        "-d",
        str(scratch),
        "--configfile",
        str(clone / "config.yaml"),
        "--cores",
        str(args.cores),
        *args.targets,
    ]
    log = scratch.parent / f"{level}.build.log"
    shown = " ".join(f"{k}={v}" for k, v in variables.items())
    print(f"{level}: building ({shown or 'no variables'}), log {log}:\n  {shlex.join(command)}", flush=True)
    start = time.perf_counter()
    with log.open("a") as handle:
        handle.write(f"\n=== {datetime.datetime.now().isoformat(timespec='seconds')} {shown}\n")
        handle.flush()
        proc = subprocess.run(command, env=build_env(clone, variables), stdout=handle, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    record["runs_s"].append(round(wall, 1))
    record["finished"] = proc.returncode == 0
    stamp.write_text(json.dumps(record, indent=2) + "\n")
    if proc.returncode:
        raise SystemExit(f"{level}: snakemake failed (exit {proc.returncode}) after {wall:.0f} s; see {log}")
    print(f"{level}: built in {wall:.0f} s (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    return sum(record["runs_s"])


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def key_columns(columns: list[str]) -> list[str]:
    """A table's key columns: those before its first metric column (the contract of affrepro.verify)."""
    first = min(i for i, c in enumerate(columns) if c.endswith(ALL_SUFFIXES))
    return columns[:first]


def align(committed: pd.DataFrame, rebuilt: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two files row by row: on the key columns when they name each row once, else by position."""
    if keys and not committed.duplicated(keys).any() and not rebuilt.duplicated(keys).any():
        committed, rebuilt = committed.set_index(keys), rebuilt.set_index(keys)
        index = committed.index.union(rebuilt.index, sort=False)
    else:
        index = pd.RangeIndex(max(len(committed), len(rebuilt)))
        committed, rebuilt = committed.reset_index(drop=True), rebuilt.reset_index(drop=True)
    columns = list(dict.fromkeys([*committed.columns, *rebuilt.columns]))
    return (frame.reindex(index=index, columns=columns).fillna("") for frame in (committed, rebuilt))


def numeric(series: pd.Series) -> bool:
    filled = series[series != ""]
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().all()


def gap(committed: pd.Series, rebuilt: pd.Series) -> float | None:
    """Largest |committed - rebuilt| over the rows either fills; None when a cell is empty on one side only."""
    old, new = (pd.to_numeric(s.replace("", math.nan), errors="coerce") for s in (committed, rebuilt))
    if (old.isna() != new.isna()).any():
        return None
    both = old.notna()
    return float((old[both] - new[both]).abs().max()) if both.any() else 0.0


def compared_columns(path: Path, frame: pd.DataFrame) -> list[str]:
    """A table's computed columns; every numeric column of a figure, curve or prediction CSV; nothing of claims.csv."""
    if path.name == "claims.csv":
        return []
    if is_table(path, frame):
        return [c for c in frame.columns if c.endswith(TABLE_SUFFIXES)]
    return [c for c in frame.columns if numeric(frame[c])]


def is_table(path: Path, frame: pd.DataFrame) -> bool:
    return any(c.endswith(("_ours", "_std")) for c in frame.columns)


def compare(results: Path, rebuilds: dict[str, Path]) -> dict:
    tolerance, text, claims, structural, missing = {}, {}, {}, [], []
    for path in sorted(results.rglob("*.csv")):
        name = f"results/{path.relative_to(results)}"
        committed = read(path)
        keys = key_columns(list(committed.columns)) if is_table(path, committed) else []
        if path.name == "claims.csv":
            keys = ["claim_id"]
        columns = compared_columns(path, committed)
        text[name] = {}
        per_column: dict[str, float | None] = {c: 0.0 for c in columns}
        for level, scratch in rebuilds.items():
            other = scratch / "results" / path.relative_to(results)
            if not other.is_file():
                missing.append(f"{level}: {name}")
                text[name][level] = None
                continue
            old, new = align(committed, read(other), keys)
            text[name][level] = int((old != new).to_numpy().sum())
            for column in columns:
                found = gap(old[column], new[column])
                if found is None:
                    structural.append(f"{level}: {name} {column} is empty on one side only")
                if per_column[column] is not None:
                    per_column[column] = None if found is None else max(per_column[column], found)
            if path.name == "claims.csv":
                changed = [
                    f"{claim}: {a} -> {b}" for claim, a, b in zip(old.index, old["verdict"], new["verdict"]) if a != b
                ]
                claims.setdefault(name, {})[level] = changed
        if columns and any(count is not None for count in text[name].values()):
            tolerance[name] = {c: (None if v is None else round(v, 12)) for c, v in per_column.items()}
    return {"tolerance": tolerance, "text": text, "claims": claims, "structural": structural, "missing": missing}


def summary(found: dict, levels: list[str]) -> None:
    print("\nlargest |committed - rebuilt| over rows and levels (columns that differ; the rest identical):")
    identical = 0
    for name, columns in found["tolerance"].items():
        for column, value in columns.items():
            if value == 0.0:
                identical += 1
            else:
                print(f"  {name:32s} {column:28s} {'empty on one side' if value is None else f'{value:.6g}'}")
    print(f"  ({identical} of {sum(map(len, found['tolerance'].values()))} compared columns identical at every level)")
    print("\ncells differing in text, per CSV (" + ", ".join(levels) + "):")
    for name, counts in found["text"].items():
        if any(counts.values()):
            print(f"  {name:32s} " + " ".join(str(counts[level]) for level in levels))
    for name, per_level in found["claims"].items():
        for level, changed in per_level.items():
            print(f"claims: {name} {level}: " + ("; ".join(changed) if changed else "no verdict changed"))
    for line in found["structural"] + [f"missing: {m}" for m in found["missing"]]:
        print(f"note: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--targets", nargs="+", default=["all"], help="Snakemake targets (default: all)")
    parser.add_argument("--root", type=Path, default=REPO / "work" / "isa", help="clone and builds (git-ignored)")
    parser.add_argument("--levels", nargs="+", help="build only these levels (default: every one below this CPU's)")
    parser.add_argument("--reuse", action="store_true", help="keep the clone and the finished builds")
    parser.add_argument(
        "--against",
        type=Path,
        help="compare with these results (default: the clone's committed results/), e.g. a native rebuild's",
    )
    args = parser.parse_args()
    if not (VENV_BIN.parent / ".installed").is_file():
        raise SystemExit(f"{VENV_BIN.parent}: no installed venv; run `make install` in {REPO} first")
    load_start = os.getloadavg()
    root, clone = args.root.resolve(), args.root.resolve() / "clone"
    if clone.exists() and not args.reuse:
        shutil.rmtree(clone)
    if not clone.exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    commit = git_head(clone)
    if commit != git_head(REPO):
        print(
            f"note: the clone is at {commit[:9]}, the checkout's HEAD at {git_head(REPO)[:9]} (--reuse keeps the clone)"
        )
    results = args.against.resolve() if args.against else clone / "results"

    model, flags, vendor = cpu_info()
    native = native_level(flags)
    levels = emulated_levels(native, vendor)
    cpu = " ".join(cpu_features())
    cpus = committed_cpus(results)
    print(f"cpu: {model} ({cpu}); native level {LADDER[native][0]}; levels below it: {', '.join(levels)}")
    if args.against:
        print(f"the levels are compared with {results}, the native level's build")
    elif cpus == {cpu}:
        print(f"the committed results were trained with this CPU's instruction sets ({cpu}): the native level's build")
    else:
        print(
            f"the committed results were trained with {sorted(cpus) or 'unrecorded instruction sets'}, not {cpu}: "
            "building native too"
        )
        levels = {"native": {}} | levels
    if args.levels:
        unknown = set(args.levels) - set(levels)
        if unknown:
            raise SystemExit(f"--levels: {sorted(unknown)} not among {list(levels)}")
        levels = {name: levels[name] for name in args.levels}

    probes: dict[str, dict[str, str]] = {} if "native" in levels else {"native": probe(clone, {})}
    wall: dict[str, float] = {}
    for level, variables in levels.items():
        probes[level] = probe(clone, variables)
        print(f"{level}: in effect {probes[level]}", flush=True)
        if Path(probes[level].get("affrepro_repo_root", "")).resolve() != clone:
            raise SystemExit(f"{level}: the jobs would import affrepro from {probes[level].get('affrepro_repo_root')}")
        wall[level] = round(build(clone, root / level, level, variables, args), 1)

    found = compare(results, {level: root / level for level in levels})
    load_end = os.getloadavg()
    report = {
        "command": shlex.join(["python", "benchmarks/cross_isa_noise.py", *sys.argv[1:]]),
        "measured": {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "cpu": cpu,
            "native_level": LADDER[native][0],
            "committed_trained_on": sorted(cpus),
            "levels": levels,
            "in_effect": probes,
            "cores": args.cores,
            "targets": args.targets,
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in load_end],
            "wall_s": wall,
            "cells_differing_in_text": found["text"],
            "claims_verdict_changes": found["claims"],
            "empty_on_one_side": found["structural"],
            "missing": found["missing"],
        },
        "tolerance": found["tolerance"],
    }
    OUTPUT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    summary(found, list(levels))
    print(f"\nwall s per level: {wall}; load average {load_start} -> {load_end}")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
