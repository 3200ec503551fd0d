"""Render docs/performance.md from the benchmarks' records (benchmarks/records/<script>.json).

    python benchmarks/performance_doc.py           # write docs/performance.md
    python benchmarks/performance_doc.py --check   # exit 1 if the committed doc differs from the render

Each benchmark script run with `--record` writes its figures, stamped with the command, commit,
date, CPU and load average (benchmarks/stamp.py), to benchmarks/records/<script>.json. This
script turns those records into the doc: per benchmark a fixed paragraph (what it measures, the
command) and, per recorded command, its stamp and its figures' tables. No figure is typed here:
every number in the doc's tables comes from a record (`stray_numbers` checks it; so does
tests/common/test_common_performance_doc.py), and a benchmark with no record says how to make one.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORDS = REPO / "benchmarks" / "records"
DOC = REPO / "docs" / "performance.md"

INTRO = (
    "The figures on this page are only what the benchmark scripts recorded: each script run with "
    "`--record` writes its figures to `benchmarks/records/<script>.json`, stamped with the command, the "
    "commit, the date, the CPU, its cores and the load averages (one-, five- and fifteen-minute) before "
    "and after; a shared machine stretches wall times, CPU times show the work. This page is rendered "
    "from those records by `python benchmarks/performance_doc.py` (`--check` says whether it is up to "
    "date, and a test checks it), so no figure here is typed by hand and none can outlive its record. "
    "To bring a section up to date, run the command given with it (or above one of its records) on "
    "your machine, then rerun `python benchmarks/performance_doc.py`. The scripts print their figures "
    "and assert nothing. Figures measured by hand before the records existed, on another machine, are "
    "in the git history of this page. Back to the [README](../README.md)."
)

# (script, title, what it measures, the command that records it). Prose only: no figures.
SECTIONS = [
    (
        "demo_budget",
        "The demo budget",
        "The demo's time budget as a new user meets it: in a fresh clone of HEAD that uses this checkout's "
        "virtual environment, `make reproduce` (EMI Table 3 from nothing), then `make tables` (every other "
        "table and figure), then a no-op `make tables`, each with its wall time, the CPU seconds of the "
        "whole process tree and the load average at its end (the targets are in the script's docstring).",
        "python benchmarks/demo_budget.py --record",
    ),
    (
        "peak_memory",
        "Peak memory of a process tree",
        "The peak of the summed resident memory of a command and every process it starts (a workflow run "
        "and its jobs side by side), sampled from /proc at an interval, with the processes alive at the "
        "peak and the wall time. Sampling can miss a peak shorter than the interval.",
        "python benchmarks/peak_memory.py --record -- make reproduce",
    ),
    (
        "faces",
        "Face detection",
        "The `faces` command and the workflow's faces stage do not run MTCNN's full image pyramid on every "
        "frame: once a frame has a face, the next frame searches only the scales of faces near its size, "
        "with the full pyramid whenever that finds nothing, after a face cut by the frame's edge and at a "
        "fixed interval (`preprocess.mtcnn.tracking`; `--full-search` turns it off). The benchmark "
        "compares this fast path with the naive loop (stock facenet-pytorch MTCNN, one `detect` per "
        "frame, one thread) on the fixture videos and videos derived from them (other sizes, codecs and "
        "frame rates, a face entering, leaving and panned out of view; `--quick` makes fewer): frames "
        "per second, CPU milliseconds per frame (with ffmpeg's), and how far the two agree (frames on "
        "which both find a face or both none; landmarks within the tolerance of the naive loop's).",
        "python benchmarks/faces.py --record",
    ),
    (
        "extractors",
        "Feature extractors",
        "Throughput of the per-frame and per-image stages: MTCNN detection and alignment on a video, and "
        "ResNet-18, IResNet-50 and DINO ViT-S/16 feature extraction on random face-sized crops through "
        "the extractors' own `extract` (crops normalised in one pass, channels-last, one autocast region), "
        "in each precision asked for (`--precision`; on a CPU without AVX512-BF16 or AMX, bf16 runs far "
        "slower than fp32), in frames per wall second and per CPU second, and the peak resident memory.",
        "python benchmarks/extractors.py --record",
    ),
    (
        "ecan_fer2013",
        "ECAN training on FER2013",
        "A reduced-budget training of the baseline (ResNet-18 + CE) and of ECAN (CE + ENSC + MVA, two "
        "views) on a class-stratified subset of FER2013's Training split, evaluated on PublicTest: "
        "accuracy, mean class accuracy, macro-F1 and the training throughput of the whole run, evaluation "
        "included. It reads a FER2013 csv: the real one, or with `--demo` the demo one, which it first "
        "writes to the path given (the config's `demo.fer2013`, a few hundred images: its figures say "
        "that the code trains, not what the real data reaches).",
        "python benchmarks/ecan_fer2013.py /path/to/fer2013.csv.gz --epochs 2 --precision fp32 --record",
    ),
    (
        "ecan_precision",
        "ECAN accuracy in fp32 and bf16",
        "The demo ECAN configuration trained once per seed and precision on the demo FER2013 and RAF-DB, "
        "as the workflow runs it: each run's test accuracy (epoch selected on validation) and throughput, "
        "then the mean and standard deviation over seeds, to see whether bf16 stays within seed noise "
        "of fp32 (`--precisions` picks which are run).",
        "python benchmarks/ecan_precision.py --record",
    ),
]

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
BF16_FEATURES = {"avx512_bf16", "amx_bf16"}


def paragraph(text: str, width: int = 100) -> str:
    """text wrapped at `width`, never inside a `code span`."""
    protected = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", "\0"), text)
    wrapped = textwrap.fill(protected, width, break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\0", " ")


def cell(value) -> str:
    """A record's value as a table cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " / ".join(cell(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(columns: list, rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def short_commit(commit: str) -> str:
    head, dirty, _ = commit.partition("-dirty")
    return head[:7] + ("-dirty" if dirty else "")


def stamp_table(stamp: dict) -> tuple[list, list[list]]:
    """The stamp as one table row: commit, date, CPU, cores, bf16 in hardware, load before and after."""
    columns = ["commit", "date (UTC)", "CPU", "cores", "bf16 in hardware", "load before", "load after"]
    bf16 = bool(BF16_FEATURES & set(stamp.get("cpu_features", [])))
    date = stamp["date"].replace("+00:00", "")
    row = [short_commit(stamp["commit"]), date, stamp["cpu"], stamp["cores"], bf16]
    return columns, [row + [stamp["load_before"], stamp["load_after"]]]


def load_records(folder: Path = RECORDS) -> dict[str, dict]:
    """script -> {command: record} for every benchmarks/records/<script>.json."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def record_tables(record: dict) -> list[tuple[str | None, list, list[list]]]:
    """(title, columns, rows) of every table a record renders to: its stamp, then its figures."""
    found: list[tuple[str | None, list, list[list]]] = [(None, *stamp_table(record["stamp"]))]
    for title, figures in record["figures"].items():
        found.append((title, figures["columns"], figures["rows"]))
    return found


def render(records: dict[str, dict]) -> str:
    lines = ["# Performance", "", paragraph(INTRO), ""]
    known = {script for script, *_ in SECTIONS}
    sections = SECTIONS + [
        (script, f"`{script}.py`", "Recorded by a benchmark this page has no paragraph for.", f"python {script}")
        for script in sorted(set(records) - known)
    ]
    for script, title, prose, command in sections:
        lines += [f"## {title}", "", paragraph(prose), ""]
        runs = records.get(script, {})
        if not runs:
            lines += [f"No record yet: run `{command}`.", ""]
            continue
        lines += [paragraph(f"To record: `{command}`; the command above each record below reruns that one."), ""]
        for run_command, record in sorted(runs.items()):
            lines += [f"### `{run_command}`", ""]
            for title_, columns, rows in record_tables(record):
                if title_ is not None:
                    lines += [f"{title_}:", ""]
                lines += [*table(columns, rows), ""]
            for name, value in sorted(record.get("settings", {}).items()):
                lines.append(f"- {name}: {cell(value)}")
            if record.get("settings"):
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def table_numbers(doc: str) -> list[str]:
    """Every number-looking token in the doc's table rows."""
    return [token for line in doc.splitlines() if line.startswith("|") for token in NUMBER.findall(line)]


def record_numbers(records: dict[str, dict]) -> set[str]:
    """Every number-looking token of every table cell a record holds."""
    tokens = set()
    for runs in records.values():
        for record in runs.values():
            for _, columns, rows in record_tables(record):
                for value in [*columns, *(v for row in rows for v in row)]:
                    tokens.update(NUMBER.findall(cell(value)))
    return tokens


def stray_numbers(doc: str, records: dict[str, dict]) -> list[str]:
    """The numbers in the doc's tables that no record holds (typed by hand): none, for a rendered doc."""
    known = record_numbers(records)
    return [token for token in table_numbers(doc) if token not in known]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/performance.md is not the render")
    args = parser.parse_args()
    records = load_records()
    doc = render(records)
    stray = stray_numbers(doc, records)
    if stray:
        raise SystemExit(f"numbers in the tables that no record holds: {stray}")
    if args.check:
        if DOC.read_text() != doc:
            print(f"{DOC.relative_to(REPO)} differs from the records' render: run python benchmarks/performance_doc.py")
            sys.exit(1)
        print(f"{DOC.relative_to(REPO)} is the render of {RECORDS.relative_to(REPO)}")
        return
    DOC.write_text(doc)
    print(f"wrote {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
