"""A verdict per claim of a paper: results/<key>/claims.csv from the paper's tables and the runs' per-seed numbers.

A claim is either a number the paper reports in a table we reproduce (a value claim: one per cell with a paper
value, of the tables `claims.tolerances` in papers/<key>.yaml lists) or an ordering or a gain its text asserts
(`claims.text`). Value claims read ours (mean and std) from the table CSV; orderings and gains need each seed's
number, read from the run files the table cells name (papers/<key>.yaml `claims.per_seed` says where the
per-seed numbers are). Nothing is typed by hand: paper values come from the table CSVs and the YAML, ours from
the tables and the run files, comparability from the tables' provenance (JSON).

Columns: claim_id, kind, claim, source (where the paper says it), paper, ours, tolerance, outcome (what the
comparison gives, whatever the data), verdict, note. Verdicts:

    reproduced / not reproduced          a value or a gain within / outside its tolerance
    ordering holds in k/n seeds          an ordering, counted per seed (per run for VA, whose folds run once)
    not rerun                            a row of another team or an organisers' baseline (no number of ours)
    not comparable (<why>)               demo data, a reduced budget or a substituted component: `outcome`
                                         still says what the comparison gives

    python -m affrepro.claims --paper emi --tables results/emi/table1.csv results/emi/table1.json ... \\
        --runs work/emi/runs/vit/metrics.json ... --out results/emi/claims.csv
"""

from __future__ import annotations

import csv
import importlib
import io
import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from affrepro import jobs, papers
from affrepro.io import read_json, write_text
from affrepro.papers import load_paper
from affrepro.tables import dig, row_label

log = logging.getLogger(__name__)

COLUMNS = ["claim_id", "kind", "claim", "source", "paper", "ours", "tolerance", "outcome", "verdict", "note"]
DATASET_NAMES = {"rafdb": "RAF-DB", "fer2013": "FER2013", "hume_vidmimic2": "Hume-Vidmimic2", "affwild2": "Aff-Wild2"}


class ClaimSpecError(ValueError):
    """papers/<key>.yaml names a claim, a cell or an input that does not exist."""


@dataclass
class Cell:
    """One table cell a claim reads: the paper's number, ours (from the table), and ours per seed (from the runs)."""

    table: str
    label: str
    metric: str
    paper: float | None
    ours: float | None
    std: float | None
    text: str  # ours as the table prints it ("0.4232 ± 0.0408")
    note: str
    decimals: int
    seeds: dict[str, float] = field(default_factory=dict)

    @property
    def rerun(self) -> bool:
        return self.ours is not None

    @property
    def name(self) -> str:
        return f"{self.table}/{self.label}/{self.metric}"


# ---------------------------------------------------------------- inputs


def _number(text: str) -> float | None:
    return None if text in ("", None) else float(text)


def read_tables(paths: list[Path]) -> dict[str, dict]:
    """{table: {"rows": CSV rows, "provenance": its provenance}} from each table's CSV and its JSON files.

    The provenance is read from <table>.provenance.json (the sidecar) or, for tables rendered before the
    sidecar existed, from the `provenance` key of <table>.json; a numbers-only <table>.json adds nothing.
    """
    tables: dict[str, dict] = {}
    for path in map(Path, paths):
        if path.name.endswith(".provenance.json"):
            entry = tables.setdefault(path.name.removesuffix(".provenance.json"), {})
            entry["provenance"] = read_json(path).get("provenance") or {}
        elif path.suffix == ".json":
            entry = tables.setdefault(path.stem, {})
            data = read_json(path)
            if "provenance" in data and "provenance" not in entry:
                entry["provenance"] = data["provenance"] or {}
        elif path.suffix == ".csv":
            tables.setdefault(path.stem, {})["rows"] = list(
                csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
            )
        else:
            raise ClaimSpecError(
                f"{path}: a table is given as its .csv and its .provenance.json (or a .json holding its provenance)"
            )
    for table, entry in tables.items():
        if "rows" not in entry:
            raise ClaimSpecError(f"table {table}: its .csv is missing from --tables")
        if "provenance" not in entry:
            raise ClaimSpecError(
                f"table {table}: no provenance given: pass {table}.provenance.json (or a {table}.json that holds it) with --tables"
            )
    return tables


class Runs:
    """The run files given on the command line, read once each; a file not given is an error naming it."""

    def __init__(self, paths: list[Path], root: Path = Path(".")):
        self.allowed = {Path(p).as_posix() for p in paths}
        self.root = root
        self.cache: dict[str, dict] = {}

    def read(self, name: str) -> dict:
        if Path(name).as_posix() not in self.allowed:
            raise ClaimSpecError(
                f"{name}: the claims need this run file; pass it with --runs (the workflow does: affrepro.claims.run_files)"
            )
        if name not in self.cache:
            path = self.root / name
            if not path.is_file():
                raise ClaimSpecError(
                    f"{path}: missing; it is written by the workflow (run the paper's target, e.g. `snakemake --cores 8 emi_tables`)"
                )
            self.cache[name] = read_json(path)
        return self.cache[name]


# ---------------------------------------------------------------- cells


def find_row(paper: dict, table: str, ref: str) -> int:
    """Index of the row of `table` whose label (key columns joined by ' | ') or one key column equals `ref`."""
    if table not in paper["tables"]:
        raise ClaimSpecError(
            f"no table {table!r} in papers/{paper['paper']['key']}.yaml (tables: {', '.join(paper['tables'])})"
        )
    spec = paper["tables"][table]
    found = [
        i
        for i, row in enumerate(spec["rows"])
        if ref == row_label(row, spec["keys"]) or any(str(row[k]) == ref for k in spec["keys"])
    ]
    if len(found) != 1:
        labels = "; ".join(row_label(r, spec["keys"]) for r in spec["rows"])
        raise ClaimSpecError(f"{table}: row {ref!r} names {len(found)} rows, not one (rows: {labels})")
    return found[0]


def per_seed(paper: dict, source: dict, runs: Runs) -> dict[str, float]:
    """Our number of one cell in each seed (by seed id), from the run files (papers/<key>.yaml claims.per_seed)."""
    style = paper["claims"]["per_seed"]
    data = runs.read(source["file"])
    if style["style"] == "single":
        return {"0": float(dig(data, source["value"], source["file"], ClaimSpecError))}
    if style["style"] == "seeds":
        stem = source["value"].removesuffix(".mean")
        seeds = dig(data, "seeds", source["file"], ClaimSpecError)
        return {
            str(s): float(dig(entry, stem, f"{source['file']} seeds.{s}", ClaimSpecError)) for s, entry in seeds.items()
        }
    # style runs: the summary lists its runs; each run's test scores, in the summary's units (affrepro.ecan.aggregate)
    from affrepro.ecan.aggregate import SUMMARY_METRICS

    parent, _, leaf = source["value"].rpartition(".")
    scales = {name: (metric, scale) for metric, scale, name in SUMMARY_METRICS}
    if leaf not in scales:
        raise ClaimSpecError(f"{source['file']}: no per-run score for '{leaf}' (known: {', '.join(scales)})")
    metric, scale = scales[leaf]
    values = {}
    for run_id in dig(data, f"{parent}.runs" if parent else "runs", source["file"], ClaimSpecError):
        run = runs.read(style["file"].format(run=run_id))
        values[str(run["spec"]["seed"])] = scale * float(run["test"][metric])
    return values


def cell(paper: dict, tables: dict, ref: dict, runs: Runs | None) -> Cell:
    """A claim's cell: the paper's value and ours from the table CSV, ours per seed from the runs (when `runs`)."""
    table, metric = ref["table"], ref["metric"]
    if table not in tables:
        raise ClaimSpecError(f"table {table}: not given with --tables")
    spec = paper["tables"][table]
    if metric not in spec["metrics"]:
        raise ClaimSpecError(f"{table}: no metric {metric!r} (metrics: {', '.join(spec['metrics'])})")
    index = find_row(paper, table, ref["row"])
    row_spec, label = spec["rows"][index], row_label(spec["rows"][index], spec["keys"])
    rows = [r for r in tables[table]["rows"] if row_label(r, spec["keys"]) == label]
    if len(rows) != 1:
        raise ClaimSpecError(f"{table}: the table CSV has {len(rows)} rows '{label}' (re-render the table)")
    row = rows[0]
    ours, std = _number(row[f"{metric}_ours"]), _number(row[f"{metric}_std"])
    text = "" if ours is None else row[f"{metric}_ours"] + ("" if std is None else f" ± {row[f'{metric}_std']}")
    found = Cell(
        table=table,
        label=label,
        metric=metric,
        paper=_number(row[f"{metric}_paper"]),
        ours=ours,
        std=std,
        text=text,
        note=row.get("note", ""),
        decimals=(spec["metrics"][metric] or {}).get("decimals", 4),
    )
    source = (row_spec.get("ours") or {}).get(metric)
    if runs is not None and found.rerun and source is not None:
        found.seeds = per_seed(paper, source, runs)
    return found


# ---------------------------------------------------------------- comparability


def dataset_of(paper: dict, table: str, metric: str) -> str | None:
    """The dataset a cell reports (claims.datasets: per table, or per column prefix), or None (one dataset)."""
    entry = paper["claims"].get("datasets", {}).get(table)
    if isinstance(entry, dict):
        matches = [d for prefix, d in entry.items() if metric.startswith(prefix)]
        return matches[0] if matches else None
    return entry


def not_comparable(paper: dict, tables: dict, cells: list[Cell]) -> list[str]:
    """Why our cells cannot be compared with the paper's (demo data, reduced budget, substitutes); [] when they can."""
    reasons: list[str] = []
    independent = set(paper["claims"].get("independent_of_data", []))

    def add(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    for c in cells:
        if not c.rerun or c.table in independent:
            continue
        prov = tables[c.table]["provenance"]
        dataset = dataset_of(paper, c.table, c.metric)
        if dataset is not None and dataset in prov.get("datasets", {}):
            demo = prov["datasets"][dataset].get("kind") == "demo"
            what = (
                f"demo data: {DATASET_NAMES.get(dataset, dataset)}" if prov.get("profile") == "mixed" else "demo data"
            )
        else:
            demo = (prov.get("dataset") or {}).get(
                "kind", "demo" if prov.get("profile") == "demo" else "real"
            ) == "demo"
            what = "demo data"
        if demo:
            add(what)
        elif (prov.get("budget") or {}).get("reduced"):
            add("reduced budget")
        for part in c.note.split("; "):
            if part.startswith("substitute: "):
                add(part)
    return reasons


# ---------------------------------------------------------------- verdicts


def tolerance(spec: dict, paper_value: float, std: float | None) -> tuple[float, str]:
    """The largest of abs, rel x |paper| and std x our std, and which one it is."""
    options = [(spec.get("abs", 0.0), "abs")]
    if "rel" in spec:
        options.append((spec["rel"] * abs(paper_value), f"{spec['rel']:g} x paper"))
    if "std" in spec and std:
        options.append((spec["std"] * std, f"{spec['std']:g} std"))
    return max(options, key=lambda o: o[0])


def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "?"
    value = round(value, decimals)
    return str(int(value)) if decimals == 0 else f"{value:.{decimals}f}"


def _tol_text(tol: float, why: str, decimals: int) -> str:
    return f"{_fmt(tol, decimals)} ({why})"


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def _verdict(outcome_verdict: str, reasons: list[str]) -> str:
    return f"not comparable ({'; '.join(reasons)})" if reasons else outcome_verdict


def value_claims(paper: dict, tables: dict) -> list[dict]:
    """One claim per paper number of the tables claims.tolerances lists."""
    out = []
    for table, metric_tolerances in paper["claims"]["tolerances"].items():
        spec = paper["tables"][table]
        for metric in metric_tolerances:
            if metric not in spec["metrics"]:
                raise ClaimSpecError(f"claims.tolerances.{table}: no metric {metric!r} in {table}")
        for row_spec in spec["rows"]:
            label = row_label(row_spec, spec["keys"])
            for metric, tol_spec in metric_tolerances.items():
                c = cell(paper, tables, {"table": table, "row": label, "metric": metric}, None)
                if c.paper is None:
                    continue  # the paper reports no (legible) number here: no claim
                claim = {
                    "claim_id": c.name,
                    "kind": "value",
                    "claim": f"{label}: {metric} = {_fmt(c.paper, c.decimals)}",
                    "source": f"Table {table.removeprefix('table')}",
                    "paper": _fmt(c.paper, c.decimals),
                    "ours": c.text,
                }
                if not c.rerun:
                    out.append(claim | {"tolerance": "", "outcome": "", "verdict": "not rerun", "note": c.note})
                    continue
                tol, why = tolerance(tol_spec, c.paper, c.std)
                within = abs(c.ours - c.paper) <= tol + 1e-9
                delta = f"ours - paper = {_fmt(c.ours - c.paper, c.decimals)}"
                out.append(
                    claim
                    | {
                        "tolerance": _tol_text(tol, why, c.decimals),
                        "outcome": f"{'within' if within else 'outside'} tolerance ({delta})",
                        "verdict": _verdict(
                            "reproduced" if within else "not reproduced", not_comparable(paper, tables, [c])
                        ),
                        "note": c.note,
                    }
                )
    return out


def _side(c: Cell) -> str:
    return f"{c.label} {c.text}" if c.rerun else f"{c.label} {_fmt(c.paper, c.decimals)} (paper, not rerun)"


def _paired(cells: list[Cell], claim_id: str) -> list[str]:
    """The seeds every rerun cell has (pairing seed s with seed s)."""
    rerun = [c for c in cells if c.rerun]
    if not rerun:
        return []
    seeds = set(rerun[0].seeds)
    for c in rerun[1:]:
        seeds &= set(c.seeds)
    if not seeds:
        raise ClaimSpecError(
            f"claim {claim_id}: its cells share no seed ({'; '.join(f'{c.name}: {sorted(c.seeds)}' for c in rerun)})"
        )
    return sorted(seeds, key=lambda s: (len(s), s))


def _at(c: Cell, seed: str) -> float:
    return c.seeds[seed] if c.rerun else c.paper


def _constants_note(cells: list[Cell]) -> str:
    constants = list(dict.fromkeys(c.label for c in cells if not c.rerun))
    return f"{', '.join(constants)}: the paper's number (not rerun)" if constants else ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def ordering_claim(paper: dict, tables: dict, spec: dict, runs: Runs, unit: str) -> dict:
    comparisons = [
        (cell(paper, tables, comp["greater"], runs), [cell(paper, tables, ref, runs) for ref in comp["than"]])
        for comp in spec["comparisons"]
    ]
    cells = [c for greater, than in comparisons for c in (greater, *than)]
    for c in cells:
        if not c.rerun and c.paper is None:
            raise ClaimSpecError(f"claim {spec['id']}: {c.name} has neither our number nor the paper's")
    metric = " and ".join(dict.fromkeys(greater.metric for greater, _ in comparisons))
    paper_text = "; ".join(
        f"{_fmt(g.paper, g.decimals)} > {', '.join(_fmt(t.paper, t.decimals) for t in than)}" for g, than in comparisons
    )
    ours_text = "; ".join(f"{_side(g)} > {', '.join(_side(t) for t in than)}" for g, than in comparisons)
    claim = {
        "claim_id": spec["id"],
        "kind": "ordering",
        "claim": spec["text"],
        "source": spec["section"],
        "paper": f"{metric}: {paper_text}",
        "tolerance": "strict >",
    }
    if spec.get("rerun") is False or not all(g.rerun for g, _ in comparisons):
        return claim | {"ours": "", "outcome": "", "verdict": "not rerun", "note": spec.get("note", "")}
    seeds = _paired(cells, spec["id"])
    held = [s for s in seeds if all(_at(g, s) > _at(t, s) for g, than in comparisons for t in than)]
    return claim | {
        "ours": ours_text,
        "outcome": f"holds in {len(held)}/{len(seeds)} {unit}",
        "verdict": _verdict(f"ordering holds in {len(held)}/{len(seeds)} {unit}", not_comparable(paper, tables, cells)),
        "note": _join(spec.get("note", ""), _constants_note(cells)),
    }


def gain_claim(paper: dict, tables: dict, spec: dict, runs: Runs, unit: str) -> dict:
    of, over = cell(paper, tables, spec["of"], runs), cell(paper, tables, spec["over"], runs)
    decimals = of.decimals
    claim = {
        "claim_id": spec["id"],
        "kind": "gain",
        "claim": spec["text"],
        "source": spec["section"],
        "paper": f"{of.metric}: {_fmt(spec['paper'], decimals)} ({of.label} - {over.label})",
    }
    if spec.get("rerun") is False or not of.rerun:
        return claim | {
            "ours": "",
            "tolerance": "",
            "outcome": "",
            "verdict": "not rerun",
            "note": spec.get("note", ""),
        }
    if not over.rerun and over.paper is None:
        raise ClaimSpecError(f"claim {spec['id']}: {over.name} has neither our number nor the paper's")
    seeds = _paired([of, over], spec["id"])
    gains = [_at(of, s) - _at(over, s) for s in seeds]
    mean, std = _mean_std(gains)
    tol, why = tolerance(spec["tolerance"], spec["paper"], std)
    within = abs(mean - spec["paper"]) <= tol + 1e-9
    positive = sum(g > 0 for g in gains)
    delta = _fmt(mean - spec["paper"], decimals)
    return claim | {
        "ours": _fmt(mean, decimals) + ("" if std is None else f" ± {_fmt(std, decimals)}"),
        "tolerance": _tol_text(tol, why, decimals),
        "outcome": f"{'within' if within else 'outside'} tolerance (ours - paper = {delta}); gain positive in {positive}/{len(seeds)} {unit}",
        "verdict": _verdict("reproduced" if within else "not reproduced", not_comparable(paper, tables, [of, over])),
        "note": _join(spec.get("note", ""), _constants_note([of, over])),
    }


def build_claims(paper: dict, tables: dict, runs: Runs) -> list[dict]:
    """Every claim of a paper with ours, the tolerance, the outcome and the verdict."""
    if "claims" not in paper:
        raise ClaimSpecError(f"papers/{paper['paper']['key']}.yaml has no claims section")
    unit = paper["claims"]["unit"]
    rows = value_claims(paper, tables)
    for spec in paper["claims"].get("text", []):
        rows.append((ordering_claim if spec["kind"] == "ordering" else gain_claim)(paper, tables, spec, runs, unit))
    ids = [r["claim_id"] for r in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ClaimSpecError(f"papers/{paper['paper']['key']}.yaml: claim ids used twice: {', '.join(duplicates)}")
    return rows


def render_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in COLUMNS} for row in rows)
    return buffer.getvalue()


# ---------------------------------------------------------------- workflow wiring (pure, used by the rules)


def _text_cells(paper: dict) -> list[dict]:
    refs = []
    for spec in paper.get("claims", {}).get("text", []):
        if spec["kind"] == "ordering":
            refs += [ref for comp in spec["comparisons"] for ref in (comp["greater"], *comp["than"])]
        else:
            refs += [spec["of"], spec["over"]]
    return refs


def claim_tables(paper: dict) -> list[str]:
    """The tables a paper's claims read, in the order of papers/<key>.yaml."""
    used = set(paper.get("claims", {}).get("tolerances", {})) | {ref["table"] for ref in _text_cells(paper)}
    return [t for t in paper["tables"] if t in used]


def table_files(paper: dict, targets: list[str]) -> list[str]:
    """The files of the paper's targets that belong to a table the claims read (its .csv, .json, .provenance.json)."""
    key, tables = paper["paper"]["key"], claim_tables(paper)
    names = {f"results/{key}/{table}.{ext}" for table in tables for ext in ("csv", "json", "provenance.json")}
    found = [t for t in targets if t in names]
    missing = [t for t in tables if f"results/{key}/{t}.csv" not in found]
    if missing:
        raise ClaimSpecError(
            f"the claims of {key} read table(s) {', '.join(missing)}, which are not among the paper's targets"
        )
    return found


def run_files(paper: dict, config: dict) -> list[str]:
    """The run files holding the per-seed numbers of the cells the text claims compare (the claims rule's inputs)."""
    style = paper.get("claims", {}).get("per_seed", {"style": "single"})
    files: list[str] = []
    for ref in _text_cells(paper):
        row = paper["tables"][ref["table"]]["rows"][find_row(paper, ref["table"], ref["row"])]
        source = (row.get("ours") or {}).get(ref["metric"])
        if source is None:
            continue
        files.append(source["file"])
        if style["style"] == "runs":
            plan = importlib.import_module(f"affrepro.{paper['paper']['key']}.plan")
            files += [style["file"].format(run=r) for r in plan.group_run_ids(config, Path(source["file"]).stem)]
    return list(dict.fromkeys(files))


def write_claims(
    paper_key: str, table_paths: list[Path], run_paths: list[Path], out: Path, papers_dir: Path = papers.PAPERS_DIR
) -> list[dict]:
    paper = load_paper(paper_key, papers_dir)
    rows = build_claims(paper, read_tables(table_paths), Runs(run_paths))
    write_text(out, render_csv(rows))
    counts = Counter(row["verdict"] for row in rows)
    log.info("%s: %d claims; %s", out, len(rows), "; ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())))
    return rows


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(
        __doc__,
        None,
        argv,
        paper=jobs.one_of(papers.PAPERS),
        tables=jobs.PATHS,
        runs={"type": Path, "nargs": "*", "default": []},
        out=jobs.PATH,
    )
    try:
        write_claims(args.paper, args.tables, args.runs, args.out)
    except (ClaimSpecError, papers.PaperFileError) as error:
        raise SystemExit(f"affrepro.claims: {error}") from error


if __name__ == "__main__":
    main()
