"""Where one cell of a table comes from, down to the function that computes it and the run files it read.

    affrepro trace results/ecan/table5.csv "ECAN (ours)" Accuracy_ours

The chain, each link read from the repository rather than described by hand:
the cell in the CSV; its entry in papers/<key>.yaml (the paper's number, and the
run file and key ours is read from); the table job (rule and command, from
a forced dry run of the table's target); the run file's value, the rule
and module that wrote it, and the function whose code writes that key (found by
the key's name in the sources of the module and every affrepro module it
imports); then the same for the files that job read, down to the training runs.
Run in the working directory of the workflow (values shown where the files exist).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from affrepro import registry
from affrepro.codeversion import closure, source_path
from affrepro.papers import load_paper
from affrepro.tables import dig, row_label, runinfo_path

SUFFIXES = ("_paper", "_ours", "_std", "_delta")
MODULE = re.compile(r"python -m (affrepro[\w.]*)")


class TraceError(ValueError):
    """The cell named cannot be found (file, row or column), with what exists."""


def locate(csv_path: Path) -> tuple[str, str]:
    """(paper key, table) of results/<key>/<table>.csv; results/<table>.csv is the headline paper's (affrepro.registry)."""
    parts = csv_path.with_suffix("").parts
    if len(parts) >= 2 and parts[-2] == "results":
        return registry.HEADLINE, parts[-1]
    if len(parts) >= 3 and parts[-3] == "results":
        return parts[-2], parts[-1]
    raise TraceError(f"{csv_path}: not a table under results/ (results/<paper>/<table>.csv)")


def find_row(spec: dict, label: str) -> tuple[int, dict]:
    """The row of a table spec named by its full label (key values joined by ' | ') or one key column's value."""
    for index, row in enumerate(spec["rows"]):
        if label == row_label(row, spec["keys"]) or label in (str(row[k]) for k in spec["keys"]):
            return index, row
    labels = "; ".join(row_label(row, spec["keys"]) for row in spec["rows"])
    raise TraceError(f"no row {label!r}; the rows are: {labels}")


def csv_cell(csv_path: Path, keys: list[str], row: dict, column: str) -> str | None:
    if not csv_path.is_file():
        return None
    with open(csv_path, newline="") as handle:
        for line in csv.DictReader(handle):
            if all(line[k] == str(row[k]) for k in keys):
                return line.get(column)
    return None


@cache
def summary(target: str, snakefile: Path, workdir: Path) -> dict[str, dict]:
    """output file -> {rule, inputs, command} for every job of `target`'s DAG, built or not (the jobs a forced
    dry run with --printshellcmds lists: rule, input, output and the command each would run)."""
    command = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir)]
    command += ["--cores", "1", "--dry-run", "--forceall", "--printshellcmds", target]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise TraceError(f"snakemake --dry-run {target} failed:\n{(proc.stdout + proc.stderr).strip()[-2000:]}")
    jobs, job = {}, None
    for line in proc.stdout.splitlines():
        rule = re.match(r"(?:local)?rule (\w+):$", line)
        if rule:
            job = {"rule": rule.group(1), "inputs": [], "outputs": [], "command": ""}
        elif job is not None and line.startswith(("    input: ", "    output: ")):
            field, files = line.strip().split(": ", 1)
            job[f"{field}s"] = [re.sub(r" \(.*\)$", "", f) for f in files.split(", ")]  # flags: (update), (report)
        elif job is not None and line.startswith("Shell command: "):
            job["command"] = line.removeprefix("Shell command: ")
            jobs |= dict.fromkeys(job["outputs"], job)
            job = None
    return jobs


@cache
def _string_sites(module: str) -> dict[str, list[str]]:
    """string constant -> ['module.function (file:line)'] for every function of `module` and its affrepro imports
    whose body holds it, or uses a module-level constant that holds it (e.g. a table of metric names)."""
    sites: dict[str, list[str]] = {}
    for name in sorted(closure(module)):
        path = source_path(name)
        tree = ast.parse(path.read_text())
        constants = {
            target.id: {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
                for used in (n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in constants):
                    found |= constants[used]
                where = f"{name}.{node.name} ({Path(path).relative_to(Path(path).parents[len(name.split('.'))])}:{node.lineno})"
                for text in found:
                    sites.setdefault(text, []).append(where)
    return sites


def computed_by(module: str, key: str) -> list[str]:
    """'name -> functions' for the last part of a dotted key (with the part before it where the last is only
    `mean`/`std`), as the module's code writes it; the shared metrics implementations first."""
    parts = key.split(".")
    names = parts[-2:] if len(parts) > 1 and parts[-1] in ("mean", "std") else parts[-1:]
    names += [n.removesuffix("_std") for n in names if n.endswith("_std")]
    found = []
    for name in names:
        sites = sorted(
            dict.fromkeys(_string_sites(module).get(name, [])), key=lambda s: not s.startswith("affrepro.metrics.")
        )
        if sites:
            found.append(f"'{name}' -> {', '.join(sites)}")
    return found


def run_key_candidates(key: str, run_file: Path) -> list[str]:
    """The keys of a run file whose name is part of the summary key (e.g. `accuracy` in `accuracy_pct`)."""
    last = key.split(".")[-1]
    if not run_file.is_file():
        return [re.sub(r"_(?:pct|std)$", "", last)]
    leaves: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for name, value in node.items():
                leaves.add(str(name))
                walk(value)

    walk(json.loads(run_file.read_text()))
    return sorted((name for name in leaves if len(name) > 2 and name in last), key=len, reverse=True)[:1]


def job_lines(file: str, jobs: dict[str, dict], indent: str = "  ") -> tuple[list[str], str | None]:
    """The rule and module that write `file`, and its command; (lines, module) with module None where unknown."""
    job = jobs.get(file)
    if job is None:
        return [f"{indent}not written by any rule of this workflow (a dataset file?)"], None
    module = MODULE.search(job["command"])
    lines = [f"{indent}written by rule {job['rule']}: {job['command'].split(' > ')[0]}"]
    return lines, module.group(1) if module else None


def run_lines(file: str, key: str, jobs: dict[str, dict], workdir: Path) -> list[str]:
    """The files the job that wrote `file` read from other rules' training or run jobs, with their computing functions."""
    lines = []
    upstream: dict[str, list[str]] = {}
    for source in jobs.get(file, {}).get("inputs", []):
        if source in jobs and not source.startswith("work/config/") and jobs[source]["rule"] != jobs[file]["rule"]:
            upstream.setdefault(jobs[source]["rule"], []).append(source)
    for rule, files in upstream.items():
        module = MODULE.search(jobs[files[0]]["command"])
        lines.append(
            f"read {len(files)} file(s) written by rule {rule} ({module.group(1) if module else '?'}), e.g. {files[0]}"
        )
        first = workdir / files[0]
        if first.suffix == ".csv":
            header = first.read_text().split("\n", 1)[0] if first.is_file() else "not built here"
            lines.append(f"  a table of values ({header}); the function above computes the number from them")
            continue
        for name in run_key_candidates(key, first) if module else []:
            lines += [f"  computed by {site}" for site in computed_by(module.group(1), name)]
    return lines


def built_lines(workdir: Path, key: str, table: str) -> list[str]:
    """Where and when the table was last built here: its run info (affrepro.tables.runinfo_path), untracked."""
    relative = runinfo_path(Path("results") / key / f"{table}.csv")
    path = workdir / relative
    if not path.is_file():
        return [f"built  {relative}: none here (the table was not built in this working directory)"]
    info = json.loads(path.read_text())
    job = info["table_job"]
    return [
        f"built  {info['written_utc']} at revision {info['git_revision']} on {info['host']} ({job['cpu']}, "
        f"{job['platform']}); its training runs on: {'; '.join(sorted({r.get('gpu') or r['cpu'] for r in info['training']})) or 'none'}"
    ]


def trace(
    csv_path: Path, label: str, column: str, workdir: Path = Path("."), snakefile: Path = Path("Snakefile")
) -> list[str]:
    """The chain of one cell, as lines; paths relative to the workflow's working directory `workdir`."""
    key, table = locate(csv_path)
    paper = load_paper(key)
    if table not in paper["tables"]:
        raise TraceError(f"{csv_path}: papers/{key}.yaml has no table {table!r} ({', '.join(paper['tables'])})")
    spec = paper["tables"][table]
    metric, part = next(((column[: -len(s)], s[1:]) for s in SUFFIXES if column.endswith(s)), (column, "ours"))
    if metric not in spec["metrics"]:
        raise TraceError(
            f"no column {column!r}; the metrics are {', '.join(spec['metrics'])} (+ _paper/_ours/_std/_delta)"
        )
    index, row = find_row(spec, label)
    value = csv_cell(workdir / csv_path, spec["keys"], row, f"{metric}_{part}")
    lines = [
        f"cell   {csv_path} | {row_label(row, spec['keys'])} | {metric}_{part} = {value if value is not None else '(not built here)'}"
    ]
    lines += built_lines(workdir, key, table)
    where = f"papers/{key}.yaml tables.{table}.rows[{index}]"
    paper_value = (row.get("paper") or {}).get(metric)
    source = (row.get("ours") or {}).get(metric)
    lines.append(
        f"yaml   {where}: paper {paper_value!r}; ours {json.dumps(source) if source else 'none (not rerun here)'}"
    )
    if part == "paper" or source is None:
        return lines + ["       the paper's number, typed from the paper text into the YAML; nothing computes it"]
    jobs = summary(str(csv_path), snakefile.resolve(), workdir.resolve())
    table_file = str(csv_path)
    while table_file in jobs and "affrepro.tables" not in jobs[table_file]["command"] and jobs[table_file]["inputs"]:
        copied = jobs[table_file]  # the headline copies results/emi/<table>.csv
        lines.append(f"copy   {table_file} is copied by rule {copied['rule']} from {copied['inputs'][0]}")
        table_file = copied["inputs"][0]
    table_lines, _ = job_lines(table_file, jobs, "table  ")
    lines += table_lines + [
        "       affrepro.tables.cell reads the key from the file and rounds it (delta = ours - paper)"
    ]
    dotted = source["std"] if part == "std" and "std" in source else source["value"]
    file = source["file"]
    path = workdir / file
    shown = dig(json.loads(path.read_text()), dotted, file) if path.is_file() else "(not built here)"
    lines.append(f"file   {file}: {dotted} = {shown}")
    file_lines, module = job_lines(file, jobs)
    lines += file_lines
    lines += [f"  computed by {site}" for site in computed_by(module, dotted)] if module else []
    runs = run_lines(file, dotted, jobs, workdir)
    return lines + [f"runs   {line}" if not line.startswith(" ") else f"     {line}" for line in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="affrepro trace", description=__doc__.strip().splitlines()[0])
    parser.add_argument("table", type=Path, help="a table CSV under results/, e.g. results/ecan/table5.csv")
    parser.add_argument("row", help="the row: its label as in the CSV's key columns, e.g. 'ECAN (ours)'")
    parser.add_argument("column", help="a column, e.g. Accuracy_ours (or Accuracy_paper, _std, _delta)")
    parser.add_argument("-d", "--directory", type=Path, default=Path("."), help="the workflow's working directory")
    parser.add_argument(
        "-s", "--snakefile", type=Path, default=Path("Snakefile"), help="the workflow (default Snakefile)"
    )
    args = parser.parse_args(argv)
    try:
        print("\n".join(trace(args.table, args.row, args.column, args.directory, args.snakefile)))
    except TraceError as error:
        print(f"affrepro trace: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
