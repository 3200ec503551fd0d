"""A verdict per claim of a paper: results/<key>/claims.csv from the paper's tables and the runs' per-seed numbers.

A claim is a number the paper reports in a table we reproduce (a value claim: one per cell with a paper value,
of the tables `claims.tolerances` in papers/<key>.yaml lists), a number derived from several of the paper's
(`claims.derived`: e.g. the mean of its fold rows), or an ordering or a gain its text asserts (`claims.text`).
Value claims read ours (mean and std) from the table CSV; orderings and gains need each seed's number, read
from the run files the table cells name (`claims.per_seed`). Nothing is typed by hand: paper values come from
the table CSVs and the YAML, ours from the tables and the run files, comparability from the tables' provenance.

The rules are fixed before any run (papers/<key>.yaml) and no verdict is stronger than the evidence:

    reproduced             |ours - paper| <= the tolerance (fixed in the YAML with its reason, never our std),
                           our std over seeds <= the tolerance, and for a gain the paper's sign; an ordering
                           holds in every one of at least MIN_SEEDS seeds. From one seed (the papers' own
                           protocol) it reads "reproduced (1 seed: spread not measured)"
    not reproduced (...)   ours outside the tolerance, a gain of the other sign, an ordering that holds in no seed
    inconclusive (...)     ours within the tolerance but our std larger than it; an ordering that holds in some
                           seeds only, or counted over fewer than MIN_SEEDS
    not comparable (...)   the provenance does not prove real, whole data, no substitute and the paper's budget on
                           every key of papers/<key>.yaml `budget` (a missing key: provenance incomplete), or
                           the rows are not the paper's (claims.incomparable_rows); `outcome` still says what
                           the comparison gives
    not rerun              a row of another team or an organisers' baseline (no number of ours)

Columns: claim_id, kind, claim, source (where the paper says it), paper, ours, interval (our 95 % interval
over seeds, Student's t), tolerance (value, basis and reason), outcome, verdict, note.

    python -m affrepro.claims --paper emi --tables results/emi/table1.csv results/emi/table1.json ... \\
        --runs work/emi/runs/vit/metrics.json ... --out results/emi/claims.csv
"""

from __future__ import annotations

import csv
import io
import logging
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scipy.stats import t as student_t

from affrepro import jobs, papers, registry
from affrepro.claim_inputs import ClaimSpecError, find_row
from affrepro.files import read_json, write_text
from affrepro.papers import load_paper
from affrepro.provenance import budget_differences
from affrepro.tables import dig, row_label

log = logging.getLogger(__name__)

COLUMNS = [
    "claim_id",
    "kind",
    "claim",
    "source",
    "paper",
    "ours",
    "interval",
    "tolerance",
    "outcome",
    "verdict",
    "note",
]
MIN_SEEDS = 3  # an ordering needs at least this many seeds (runs) to be reproduced or not


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
                f"{name}: the claims need this run file; pass it with --runs (the workflow does: affrepro.claim_inputs.run_files)"
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
    # style runs: the summary lists its runs; each run's test scores, in the summary's units (the registry's run_scores)
    parent, _, leaf = source["value"].rpartition(".")
    scales = registry.paper(paper["paper"]["key"]).run_scores()
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


class _Incomplete(LookupError):
    """A key comparability needs is missing from a table's provenance."""


def _lookup(provenance: dict, dotted: str):
    node, parts = provenance, dotted.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            raise _Incomplete(".".join(parts[: i + 1]))
        node = node[part]
    return node


def dataset_of(paper: dict, table: str, metric: str) -> str:
    """The dataset a cell reports: claims.datasets (per table, or per column prefix), else the paper's one dataset."""
    entry = paper["claims"].get("datasets", {}).get(table)
    if isinstance(entry, dict):
        matches = [d for prefix, d in entry.items() if metric.startswith(prefix)]
        entry = matches[0] if matches else None
    if entry is not None:
        return entry
    datasets = list(paper["budget"])
    if len(datasets) != 1:
        raise ClaimSpecError(
            f"papers/{paper['paper']['key']}.yaml: claims.datasets names no dataset for {table}/{metric} "
            f"(budget has {', '.join(datasets)})"
        )
    return datasets[0]


def _data_reasons(paper: dict, provenance: dict, dataset: str) -> list[str]:
    """[] when the provenance says the dataset is real and whole; "demo data" when it is the demo; samples left
    out (datasets.<name>.on_unreadable: skip) make a real dataset another one; incomplete otherwise."""
    where = f"datasets.{dataset}.kind" if "datasets" in provenance else "dataset.kind"
    kind = _lookup(provenance, where)
    if kind == "real":
        left_out = provenance.get("skipped", {}).get(dataset, {})
        return [f"unreadable samples left out: {len(left_out)}"] if left_out else []
    if kind != "demo":
        raise _Incomplete(f"{where} ({kind!r} is neither real nor demo)")
    if provenance.get("profile") == "mixed":
        return [f"demo data: {registry.dataset_titles().get(dataset, dataset)}"]
    return ["demo data"]


def _budget_reasons(paper: dict, provenance: dict, dataset: str) -> list[str]:
    """[] when our budget equals the paper's (papers/<key>.yaml, fixed before the run) on every budget key."""
    used = _lookup(provenance, f"budget.used.{dataset}")
    differs, missing = budget_differences(paper["budget"][dataset], used if isinstance(used, dict) else {})
    if missing:
        raise _Incomplete(f"budget.used.{dataset}.{missing[0]}")
    return [f"budget differs: {', '.join(differs)}"] if differs else []


def _substitute_reasons(provenance: dict, label: str) -> list[str]:
    found = _lookup(provenance, "substitutes")
    if not isinstance(found, dict) or not isinstance(found.get(label), list):  # None: a run file did not say
        raise _Incomplete(f"substitutes.{label}")
    return [f"substitute: {s}" for s in found[label]]


def cell_reasons(paper: dict, provenance: dict, c: Cell) -> list[str]:
    """Why one of our cells cannot be compared with the paper's; [] only when the provenance proves real data,
    no substitute and the paper's budget (papers/<key>.yaml claims.independent_of_training skips the budget)."""
    spec = paper["claims"]
    reasons = [
        entry["why"]
        for entry in spec.get("incomparable_rows", [])
        if entry["table"] == c.table and c.label in entry["rows"]
    ]
    dataset = dataset_of(paper, c.table, c.metric)
    try:
        reasons += _data_reasons(paper, provenance, dataset)
        if c.table not in spec.get("independent_of_training", []):
            reasons += _budget_reasons(paper, provenance, dataset)
        reasons += _substitute_reasons(provenance, c.label)
    except _Incomplete as missing:
        reasons.append(f"provenance incomplete: {missing.args[0]}")
    return reasons


def not_comparable(paper: dict, tables: dict, cells: list[Cell]) -> list[str]:
    """Why our cells cannot be compared with the paper's, each reason once; [] when they can."""
    reasons: list[str] = []
    independent = set(paper["claims"].get("independent_of_data", []))
    for c in cells:
        if c.rerun and c.table not in independent:
            reasons += [r for r in cell_reasons(paper, tables[c.table]["provenance"], c) if r not in reasons]
    return reasons


# ---------------------------------------------------------------- verdicts


def tolerance(spec: dict, paper_value: float) -> tuple[float, str]:
    """The largest of abs and rel x |paper| (fixed in papers/<key>.yaml), and which one it is."""
    options = [(spec.get("abs", 0.0), "abs")]
    if "rel" in spec:
        options.append((spec["rel"] * abs(paper_value), f"{spec['rel']:g} x paper"))
    return max(options, key=lambda o: o[0])


def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "?"
    value = round(value, decimals)
    return str(int(value)) if decimals == 0 else f"{value:.{decimals}f}"


def _tol_text(spec: dict, paper_value: float, decimals: int) -> str:
    tol, basis = tolerance(spec, paper_value)
    return f"{_fmt(tol, decimals)} ({basis}): {spec['why']}"


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def interval(mean: float | None, std: float | None, n: int | None, decimals: int) -> str:
    """Our 95 % interval for the mean over n seeds (Student's t), or '' with fewer than two seeds."""
    if mean is None or std is None or not n or n < 2:
        return ""
    half = float(student_t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return f"[{_fmt(mean - half, decimals)}, {_fmt(mean + half, decimals)}] (95 %, t, n={n})"


def judge(difference: float, spec: dict, paper_value: float, std: float | None, decimals: int) -> tuple[str, str]:
    """(outcome, verdict) of ours - paper against a fixed tolerance; a spread over seeds wider than the tolerance
    cannot confirm the paper's number, so a mean within it is then inconclusive, never reproduced."""
    tol, _ = tolerance(spec, paper_value)
    delta = f"ours - paper = {_fmt(difference, decimals)}"
    if abs(difference) > tol + 1e-9:
        return f"outside tolerance ({delta})", "not reproduced"
    if std is not None and std > tol + 1e-9:
        why = f"std {_fmt(std, decimals)} > tolerance {_fmt(tol, decimals)}"
        return f"within tolerance ({delta}), but {why}", f"inconclusive ({why})"
    return f"within tolerance ({delta})", "reproduced"


def _one_seed(verdict: str) -> str:
    """A number from one seed (the papers' own protocol) says nothing of the spread: the verdict says so."""
    return f"{verdict} (1 seed: spread not measured)" if verdict == "reproduced" else verdict


def _verdict(outcome_verdict: str, reasons: list[str]) -> str:
    return f"not comparable ({'; '.join(reasons)})" if reasons else outcome_verdict


def _seed_count(paper: dict, tables: dict, table: str) -> int | None:
    """How many seeds a table's mean is over (its provenance's seeds), when the claims count seeds."""
    if paper["claims"]["unit"] != "seeds":
        return None
    seeds = tables[table]["provenance"].get("seeds")
    return len(seeds) if isinstance(seeds, list) else None


def _value_claim(paper: dict, tables: dict, c: Cell, spec: dict, claim: dict, ours: tuple) -> dict:
    """A claim of one number: `ours` is (mean, its std over seeds or None, the text shown)."""
    mean, std, text = ours
    claim |= {"paper": _fmt(claim["paper_value"], c.decimals), "ours": text}
    if mean is None:
        return claim | {"verdict": "not rerun", "note": c.note}
    seed_std = std if paper["claims"]["unit"] == "seeds" else None
    seeds = _seed_count(paper, tables, c.table)
    outcome, verdict = judge(mean - claim["paper_value"], spec, claim["paper_value"], seed_std, c.decimals)
    if paper["claims"]["unit"] == "seeds" and (seeds or 1) < 2:
        verdict = _one_seed(verdict)
    return claim | {
        "interval": interval(mean, seed_std, seeds, c.decimals),
        "tolerance": _tol_text(spec, claim["paper_value"], c.decimals),
        "outcome": outcome,
        "verdict": _verdict(verdict, not_comparable(paper, tables, [c])),
        "note": c.note,
    }


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
                    "paper_value": c.paper,
                }
                out.append(_value_claim(paper, tables, c, tol_spec, claim, (c.ours, c.std, c.text)))
    return out


def derived_claim(paper: dict, tables: dict, spec: dict) -> dict:
    """A number the paper gives through several of its rows (their mean or sample std) against one cell of ours."""
    of, ours = spec["of"], spec["ours"]
    parts = [cell(paper, tables, {"table": of["table"], "row": r, "metric": of["metric"]}, None) for r in of["rows"]]
    missing = [p.label for p in parts if p.paper is None]
    if missing:
        raise ClaimSpecError(f"claim {spec['id']}: the paper gives no {of['metric']} for {', '.join(missing)}")
    values = [p.paper for p in parts]
    paper_value = statistics.fmean(values) if of["statistic"] == "mean" else statistics.stdev(values)
    c = cell(paper, tables, ours, None)
    value = c.ours if ours["column"] == "ours" else c.std
    claim = {
        "claim_id": spec["id"],
        "kind": "derived",
        "claim": spec["text"],
        "source": f"Table {of['table'].removeprefix('table')} ({of['statistic']} of {len(values)} rows, derived)",
        "paper_value": paper_value,
    }
    text = "" if value is None else f"{_fmt(value, c.decimals)} ({c.label} {ours['column']})"
    return _value_claim(paper, tables, c, spec["tolerance"], claim, (value, None, text))


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
    outcome = f"holds in {len(held)}/{len(seeds)} {unit}"
    return claim | {
        "ours": ours_text,
        "outcome": outcome,
        "verdict": _verdict(ordering_verdict(len(held), len(seeds), unit), not_comparable(paper, tables, cells)),
        "note": _join(spec.get("note", ""), _constants_note(cells)),
    }


def ordering_verdict(held: int, n: int, unit: str) -> str:
    """An ordering is reproduced when it holds in every one of at least MIN_SEEDS seeds, not reproduced when it
    holds in none of them, and inconclusive otherwise (in some seeds only, or too few seeds to tell)."""
    counted = f"holds in {held}/{n} {unit}"
    if n < MIN_SEEDS:
        return f"inconclusive ({counted}; an ordering needs at least {MIN_SEEDS} {unit})"
    if held == n:
        return f"reproduced ({counted})"
    return f"not reproduced ({counted})" if held == 0 else f"inconclusive ({counted})"


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
    seed_std = std if unit == "seeds" else None
    positive = sum(g > 0 for g in gains)
    if math.copysign(1.0, mean) != math.copysign(1.0, spec["paper"]) or mean == 0:
        outcome = f"sign differs from the paper's (ours {_fmt(mean, decimals)}, paper {_fmt(spec['paper'], decimals)})"
        verdict = "not reproduced (the gain's sign differs from the paper's)"
    else:
        outcome, verdict = judge(mean - spec["paper"], spec["tolerance"], spec["paper"], seed_std, decimals)
        verdict = _one_seed(verdict) if unit == "seeds" and len(seeds) < 2 else verdict
    return claim | {
        "ours": _fmt(mean, decimals) + ("" if std is None else f" ± {_fmt(std, decimals)}"),
        "interval": interval(mean, seed_std, len(seeds), decimals),
        "tolerance": _tol_text(spec["tolerance"], spec["paper"], decimals),
        "outcome": f"{outcome}; gain positive in {positive}/{len(seeds)} {unit}",
        "verdict": _verdict(verdict, not_comparable(paper, tables, [of, over])),
        "note": _join(spec.get("note", ""), _constants_note([of, over])),
    }


def build_claims(paper: dict, tables: dict, runs: Runs) -> list[dict]:
    """Every claim of a paper with ours, the tolerance, the outcome and the verdict."""
    if "claims" not in paper:
        raise ClaimSpecError(f"papers/{paper['paper']['key']}.yaml has no claims section")
    unit = paper["claims"]["unit"]
    rows = value_claims(paper, tables)
    rows += [derived_claim(paper, tables, spec) for spec in paper["claims"].get("derived", [])]
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


def write_claims(
    paper_key: str, table_paths: list[Path], run_paths: list[Path], out: Path, papers_dir: Path | None = None
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
