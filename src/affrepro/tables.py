"""Paper tables from papers/<key>.yaml and the metrics files our runs wrote.

For each table the YAML lists rows: key columns, the paper's values, and for
each metric either where our value comes from (`file` + dotted `value`, and
optionally `std`) or nothing plus a `note` saying why (another team's
result, an organiser baseline we cannot rerun). Output columns are the keys,
then for each metric M: M_paper, M_ours, M_std, M_delta (ours - paper), then
`note`. Nothing here is typed by hand: paper values come from the YAML, ours
from the run files. Three files per table: the CSV; the JSON, which holds the
numbers only (`rows`: a DVC metrics file, so `dvc metrics diff` compares numbers);
and the provenance sidecar <table>.provenance.json (caption, columns, the run's
provenance, and what of the table job's and the training jobs' environments decides
the numbers). Where and when the table was computed (git revision, host, CPU model,
time) changes with every rebuild, so it goes to work/runinfo/<key>/<table>.json,
untracked: a fresh clone's rebuild of identical numbers leaves `git status` clean.

    python -m affrepro.tables --paper emi --table table3 --csv results/emi/table3.csv --json results/emi/table3.json \
        --sidecar results/emi/table3.provenance.json \
        --provenance stats=work/emi/dataset_stats.json resnet18=work/emi/features/resnet18/shard0.json ...
"""

from __future__ import annotations

import csv
import io
import platform
from datetime import UTC, datetime
from pathlib import Path

from affrepro import environment, jobs, papers
from affrepro.files import read_json, write_json, write_text
from affrepro.papers import load_paper
from affrepro.provenance import git_revision, left_out_note


class TableSpecError(ValueError):
    """papers/<key>.yaml does not describe a table correctly."""


def parse_paper_value(value, fmt: str | None):
    """Paper values as printed; `h:mm:ss` durations become seconds."""
    if value is None or fmt is None:
        return value
    if fmt == "h:mm:ss":
        hours, minutes, seconds = (int(p) for p in str(value).split(":"))
        return hours * 3600 + minutes * 60 + seconds
    raise TableSpecError(f"unknown paper_format {fmt!r}")


def dig(obj, dotted: str, source: str, error: type[Exception] | None = None):
    """obj["a"]["b"] for "a.b"; a missing key raises `error` (default TableSpecError) naming `source`."""
    node = obj
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise (error or TableSpecError)(f"{source} has no '{dotted}'")
        node = node[part]
    return node


def _round(value, decimals: int):
    value = round(float(value), decimals)
    return int(value) if decimals == 0 else value


def _read_metrics(path: Path) -> dict:
    if not path.is_file():
        raise TableSpecError(
            f"{path}: missing; it is written by the workflow (run `snakemake --cores 8 {path}` or the table's target)"
        )
    return read_json(path)


def input_files(paper: dict, table: str) -> list[str]:
    """Every run file a table reads (for the workflow's dependencies)."""
    files = set(paper["tables"][table].get("requires", []))
    for row in paper["tables"][table]["rows"]:
        for source in (row.get("ours") or {}).values():
            files.add(source["file"])
    return sorted(files)


def cell(source: dict, options: dict, paper_value, data: dict) -> dict:
    """ours, std and delta of one metric of one row, from the run file's `value` (and `std`) keys."""
    decimals = options.get("decimals", 4)
    ours = _round(dig(data, source["value"], source["file"]), decimals)
    std = dig(data, source["std"], source["file"]) if "std" in source else None
    return {
        "ours": ours,
        "std": None if std is None else _round(std, decimals),
        "delta": None if paper_value is None else _round(ours - paper_value, decimals),
    }


def build_rows(paper: dict, table: str, root: Path = Path(".")) -> tuple[list[str], list[dict]]:
    """Rows of a table; a row whose run files record substitutes (real data, allow_substitutes) names them in its note."""
    spec = paper["tables"][table]
    keys, metrics = spec["keys"], spec["metrics"]
    columns = list(keys) + [f"{m}_{part}" for m in metrics for part in ("paper", "ours", "std", "delta")] + ["note"]
    cache: dict[str, dict] = {}
    rows = []
    for row_spec in spec["rows"]:
        row, ours, substituted, unrecorded = {k: row_spec[k] for k in keys}, row_spec.get("ours") or {}, [], False
        for metric, options in metrics.items():
            options = options or {}
            paper_value = parse_paper_value((row_spec.get("paper") or {}).get(metric), options.get("paper_format"))
            values = {"ours": None, "std": None, "delta": None}
            if metric in ours:
                source = ours[metric]
                if source["file"] not in cache:
                    cache[source["file"]] = _read_metrics(root / source["file"])
                values = cell(source, options, paper_value, cache[source["file"]])
                recorded = cache[source["file"]].get("substitutes")
                if recorded is None:  # a run file that does not say: nothing is proven (affrepro.claims)
                    unrecorded = True
                substituted += [s for s in recorded or [] if s not in substituted]
            row |= {f"{metric}_paper": paper_value} | {f"{metric}_{part}": value for part, value in values.items()}
        row["note"] = "; ".join(
            [n for n in [row_spec.get("note", "")] if n] + [f"substitute: {s}" for s in substituted]
        )
        # Not a column: the sidecar's structured record (affrepro.claims reads it); None where a run file is silent.
        row["substitutes"] = None if unrecorded else substituted
        rows.append(row)
    return columns, rows


def render_csv(columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in columns})
    return buffer.getvalue()


def row_label(row: dict, keys: list[str]) -> str:
    return " | ".join(str(row[k]) for k in keys)


def sidecar_path(json_path: str | Path) -> Path:
    """results/<key>/<table>.json -> results/<key>/<table>.provenance.json (where the table's provenance lives)."""
    path = Path(json_path)
    return path.with_name(path.name.removesuffix(".json") + ".provenance.json")


def training_environments(paper: dict, table: str, root: Path = Path(".")) -> list[dict]:
    """Where the runs of a table trained: the distinct `environment(s)` of the JSON run files it reads (affrepro.environment)."""
    files = [f for f in input_files(paper, table) if f.endswith(".json") and (root / f).is_file()]
    return environment.distinct(record for f in files for record in environment.of_run_file(read_json(root / f)))


# Of an environment record (affrepro.environment), the fields that say where a job ran but not what it computed:
# they leave the tracked sidecar for the run info. The Python version stays as major.minor.
WHERE_FIELDS = ("platform", "cpu")


def numbers_environment(record: dict) -> dict:
    """What of `record` decides the numbers: device, GPU, precision, CPU instruction sets, packages, Python x.y."""
    kept = {k: v for k, v in record.items() if k not in WHERE_FIELDS}
    if "python" in kept:
        kept["python"] = ".".join(str(kept["python"]).split(".")[:2])
    return kept


def runinfo_path(table_csv: Path) -> Path:
    """work/runinfo/<key>/<table>.json for results/<key>/<table>.csv (relative to the working directory)."""
    return Path("work") / "runinfo" / table_csv.parent.name / f"{table_csv.stem}.json"


def _computed(row: dict, columns: list[str]) -> bool:
    """A row with a number of ours."""
    return any(row[c] is not None for c in columns if c.endswith("_ours"))


def write_table(
    paper_key: str, table: str, config: dict, outputs: dict[str, Path], provenance_inputs: dict[str, Path]
) -> None:
    """Write the table's CSV (outputs["csv"]), its numbers (outputs["json"], a DVC metrics file) and its provenance
    (outputs["provenance"], the sidecar: caption, columns, the run's provenance, the software and machines);
    provenance_inputs name the files its provenance reads."""
    paper = load_paper(paper_key)
    spec = paper["tables"][table]
    columns, rows = build_rows(paper, table)
    paper_provenance = papers.provenance(paper_key)
    # Which rows of ours ran with a stand-in, by row label ([] for none): claims read this, never the notes' text.
    provenance = paper_provenance.provenance(config, provenance_inputs) | {
        "substitutes": {row_label(r, spec["keys"]): r["substitutes"] for r in rows if _computed(r, columns)}
    }
    notes = [n for n in (paper_provenance.profile_note(config), left_out_note(provenance)) if n]
    for row in rows:
        if notes and _computed(row, columns):
            row["note"] = "; ".join(n for n in (row["note"], *notes) if n)
    write_text(outputs["csv"], render_csv(columns, rows))
    # Numbers only: DVC lists every leaf of a metrics file; notes are in the CSV, the rest in the sidecar.
    numbers = {
        row_label(r, spec["keys"]): {
            c: r[c] for c in columns if c not in spec["keys"] and c != "note" and r[c] is not None
        }
        for r in rows
    }
    write_json(outputs["json"], {"rows": numbers})
    table_job, training = environment.record("cpu"), training_environments(paper, table)
    write_json(
        outputs.get("provenance") or sidecar_path(outputs["json"]),
        {
            "paper": paper["paper"]["title"],
            "table": table,
            "caption": spec["caption"],
            "columns": columns,
            "provenance": provenance,
            # The table job runs on the CPU; `training`: the environments of the runs it reads.
            "environment": {
                "table_job": numbers_environment(table_job),
                "training": environment.distinct(numbers_environment(r) for r in training),
            },
        },
    )
    write_json(
        outputs.get("runinfo") or runinfo_path(outputs["csv"]),
        {
            "table": str(outputs["csv"]),
            "git_revision": git_revision(),
            "written_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "host": platform.node(),
            "table_job": table_job,
            "training": training,
        },
    )


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(
        __doc__,
        None,
        argv,
        paper=jobs.one_of(papers.PAPERS),
        table=jobs.TEXT,
        csv=jobs.PATH,
        json=jobs.PATH,
        sidecar={"type": Path, "help": "the provenance sidecar (default: beside --json, <table>.provenance.json)"},
        runinfo={"type": Path, "help": "where and when it was computed (default: work/runinfo/<key>/<table>.json)"},
        provenance=jobs.NAMED_PATHS,
    )
    config = jobs.paper_config(args.config, args.paper)
    outputs = {
        "csv": args.csv,
        "json": args.json,
        "provenance": args.sidecar or sidecar_path(args.json),
        "runinfo": args.runinfo or runinfo_path(args.csv),
    }
    write_table(args.paper, args.table, config, outputs, jobs.named_paths(args.provenance))


if __name__ == "__main__":
    main()
