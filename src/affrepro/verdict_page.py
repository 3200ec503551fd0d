"""One verdict page: every claim of every paper, its verdict coloured, a paper-vs-ours chart per table, counts on top.

Reads each paper's results/<key>/claims.csv (affrepro.claims) and papers/<key>.yaml (its title, and which tables
its claims mark as not learned), and writes one self-contained HTML page: inline CSS and SVG, no script, no
network, and nothing of the machine or the time, so the same inputs give the same bytes.

    python -m affrepro.verdict_page --claims KEY=results/KEY/claims.csv ... --papers KEY=papers/KEY.yaml ... \\
        --out results/index.html [--summary work/report/summary.html]

`--summary` also writes the counts alone (an HTML fragment with inline styles) for the Snakemake report's
landing page (workflow/report/workflow.rst). The workflow writes results/index.html over every registered
paper (rule `verdicts`) and work/report/<key>/claims.html over one (rule `paper_verdicts`, for the report).

How the summary counts:

- verdict: the claim's verdict up to its parenthesis, one of VERDICTS (affrepro.claims's vocabulary:
  "reproduced (1 seed: spread not measured)" counts as reproduced); anything else as "other".
- basis: `data-independent` when every table the claim reads is in the paper's `claims.independent_of_data`
  (what the code applies or what the extractors output: ECAN Table 1's augmentation flags, VA Table 1's
  widths), `dataset facts` when in `claims.independent_of_training` (counts and durations of the data: EMI
  Table 1), otherwise `learned`. The tables a claim reads: a value claim's id starts with its table; a derived
  or text claim's are those its entry in papers/<key>.yaml names.
- data: `none` when the claim has no number of ours (not rerun); `any` for a data-independent claim (its
  number is the same on any data); otherwise what the verdict's reasons say of the claim's own dataset,
  which affrepro.claims reads from the provenance per dataset: `demo` for "demo data", `unknown` for
  "provenance incomplete: dataset(s)...", `real` otherwise. The notes are not read: a row's note names
  every dataset of a mixed run (RAF-DB real, FER2013 demo), not the one the claim reports.
"""

from __future__ import annotations

import csv
import html
import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from affrepro import jobs
from affrepro.claim_inputs import tables_of_claim
from affrepro.config.reading import read_yaml
from affrepro.files import write_text

log = logging.getLogger(__name__)

# affrepro.claims: the verdicts, by the words they start with (each may be followed by a parenthesis).
VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not comparable", "not rerun")
OTHER = "other"
COLOURS = {  # background, border
    "reproduced": ("#d7f0d9", "#2e7d32"),
    "not reproduced": ("#f9d6d5", "#c62828"),
    "inconclusive": ("#fdf0c8", "#b26a00"),
    "not comparable": ("#e4e8f0", "#4a5a78"),
    "not rerun": ("#f0f0f0", "#8a8a8a"),
    OTHER: ("#ffffff", "#000000"),
}
BASES = ("learned", "dataset facts", "data-independent")
DATA = ("real", "demo", "unknown", "any", "none")
DATA_TITLES = {
    "real": "real data",
    "demo": "demo data",
    "unknown": "data not recorded",
    "any": "any data (data-independent)",
    "none": "no number of ours",
}
PAPER_MARK, OURS_MARK = "#111111", "#1f5fbf"


@dataclass(frozen=True)
class Claim:
    row: dict  # the claims.csv row
    verdict: str  # one of VERDICTS or OTHER
    basis: str  # one of BASES
    data: str  # one of DATA


@dataclass(frozen=True)
class PaperClaims:
    key: str
    title: str
    claims: list[Claim]


# ---------------------------------------------------------------- reading and classifying


def verdict_class(verdict: str) -> str:
    for name in VERDICTS:
        if verdict == name or verdict.startswith(name + " "):
            return name
    return OTHER


def basis_of(row: dict, spec: dict) -> str:
    tables = tables_of_claim(spec, row["claim_id"], row["kind"])
    if tables and tables <= set(spec.get("independent_of_data", [])):
        return "data-independent"
    if tables and tables <= set(spec.get("independent_of_training", [])):
        return "dataset facts"
    return "learned"


DEMO_DATA = re.compile(r"\bdemo data\b")
DATA_NOT_RECORDED = re.compile(r"provenance incomplete: datasets?\.")


def data_of(row: dict, basis: str) -> str:
    if not row["ours"].strip():
        return "none"
    if basis == "data-independent":
        return "any"
    if DEMO_DATA.search(row["verdict"]):
        return "demo"
    return "unknown" if DATA_NOT_RECORDED.search(row["verdict"]) else "real"


def read_claims(key: str, claims_csv: Path, paper_yaml: Path) -> PaperClaims:
    paper = read_yaml(paper_yaml)
    spec = paper.get("claims", {})
    rows = list(csv.DictReader(io.StringIO(Path(claims_csv).read_text(encoding="utf-8"))))
    missing = {"claim_id", "kind", "claim", "source", "paper", "ours", "verdict", "note"} - set(rows[0] if rows else {})
    if rows and missing:
        raise SystemExit(f"{claims_csv}: not a claims file (no column {', '.join(sorted(missing))}); rerun its rule")
    claims = []
    for r in rows:
        basis = basis_of(r, spec)
        claims.append(Claim(r, verdict_class(r["verdict"]), basis, data_of(r, basis)))
    return PaperClaims(key=key, title=paper["paper"]["title"], claims=claims)


# ---------------------------------------------------------------- numbers in the cells

NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")
INTERVAL = re.compile(r"\[\s*(-?[\d.eE+-]+)\s*,\s*(-?[\d.eE+-]+)\s*\]")


def number(text: str) -> float | None:
    """The number a cell starts with ("0.4752 ± 0.0519" -> 0.4752); None when it holds no number of its own."""
    found = NUMBER.match(text or "")
    if not found or not re.fullmatch(r"\s*-?[\d.eE+-]+\s*(±.*|\(.*\))?\s*", text):
        return None
    value = float(found.group(1))
    return value if math.isfinite(value) else None


def interval_bounds(text: str) -> tuple[float, float] | None:
    found = INTERVAL.search(text or "")
    return (float(found.group(1)), float(found.group(2))) if found else None


def fmt(value: float) -> str:
    return f"{value:.6g}"


# ---------------------------------------------------------------- HTML

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#111;max-width:1400px}
h1{font-size:1.6em}h2{font-size:1.35em;margin-top:2em;border-bottom:2px solid #333}h3{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top}
th{background:#eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.claims td{font-size:13px}table.claims td:first-child{min-width:16em}table.claims td.why{max-width:34em}
.interval{display:block;color:#333;font-size:12px}
.legend span{display:inline-block;padding:2px 8px;margin:2px;border:1px solid}
svg{display:block;margin:.5em 0 1em}svg text{font:11px sans-serif}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def verdict_style(verdict: str) -> str:
    background, border = COLOURS[verdict]
    return f"background:{background};border-left:4px solid {border}"


def counts_table(rows: list[tuple[str, str, Counter]], caption: str, dimension: str) -> str:
    """A table of verdict counts: one row per (key, title, Counter of verdicts), a column per verdict, a total."""
    present = [v for v in (*VERDICTS, OTHER) if v != OTHER or any(c[OTHER] for _, _, c in rows)]
    head = "".join(f'<th style="{verdict_style(v)}">{esc(v)}</th>' for v in present)
    out = [f'<table class="summary" data-dimension="{esc(dimension)}"><caption>{esc(caption)}</caption>']
    out.append(f"<tr><th>{esc(dimension)}</th>{head}<th>total</th></tr>")
    for key, title, counter in rows:
        cells = "".join(
            f'<td class="n" data-count="{esc(dimension)}|{esc(key)}|{esc(v)}">{counter[v]}</td>' for v in present
        )
        total = sum(counter.values())
        out.append(
            f'<tr><th>{esc(title)}</th>{cells}<td class="n" data-count="{esc(dimension)}|{esc(key)}|total">{total}</td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)


def summary(papers: list[PaperClaims]) -> str:
    claims = [c for p in papers for c in p.claims]
    every = Counter(c.verdict for c in claims)
    by_paper = [(p.key, p.key, Counter(c.verdict for c in p.claims)) for p in papers]
    by_basis = [(b, b, Counter(c.verdict for c in claims if c.basis == b)) for b in BASES]
    by_data = [(d, DATA_TITLES[d], Counter(c.verdict for c in claims if c.data == d)) for d in DATA]
    learned_demo = Counter(c.verdict for c in claims if c.basis == "learned" and c.data == "demo")
    learned_real = Counter(c.verdict for c in claims if c.basis == "learned" and c.data == "real")
    lines = [
        '<section id="summary">',
        f"<p><strong>{len(claims)} claims</strong> of {len(papers)} paper(s): "
        + ", ".join(f'<span data-total="{esc(v)}">{every[v]} {esc(v)}</span>' for v in (*VERDICTS, OTHER) if every[v])
        + ".</p>",
        f"<p>Learned claims (numbers a trained model produces): {sum(learned_real.values())} on real data"
        f" ({learned_real['reproduced']} reproduced), {sum(learned_demo.values())} on demo data"
        f" ({learned_demo['reproduced']} reproduced). A learned claim on demo data is never comparable: the demo"
        " shows the pipeline runs, not that a paper holds. Data-independent claims (what the code applies, what an"
        " extractor outputs) are checked on any data; dataset facts (counts, durations) need the real data.</p>",
        counts_table(by_paper, "Verdicts per paper", "paper"),
        counts_table(by_basis, "Verdicts by kind of claim", "basis"),
        counts_table(by_data, "Verdicts by the data our number comes from", "data"),
        "</section>",
    ]
    return "\n".join(lines)


def scale_key(c: Claim) -> str:
    """Lines of one chart share a scale when they report the same metric (a value claim's id ends with it)."""
    return c.row["claim_id"].rsplit("/", 1)[-1] if c.row["kind"] == "value" else c.row["claim_id"]


CHART = {"label_w": 300, "plot_w": 420, "row_h": 24, "top": 30}


def chart_scales(points: list[tuple]) -> dict[str, tuple[float, float]]:
    """One (low, high) per metric (scale_key) over the paper values, ours and our intervals, padded by 6 %."""
    spans: dict[str, list[float]] = {}
    for c, paper, ours, bounds in points:
        spans.setdefault(scale_key(c), []).extend(
            [paper] + ([ours] if ours is not None else []) + (list(bounds) if bounds else [])
        )
    scales = {}
    for key, values in spans.items():
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.06 or (abs(hi) * 0.05 or 1.0)
        scales[key] = (max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)
    return scales


def chart_row(point: tuple, y: float, scale: tuple[float, float], width: int) -> list[str]:
    """One claim's line: its label, the scale's ends, our interval, the paper's diamond and our dot."""
    c, paper, ours, bounds = point
    lo, hi = scale
    row_h, plot_w = CHART["row_h"], CHART["plot_w"]
    x0 = CHART["label_w"] + 60

    def x(v: float) -> float:
        return round(x0 + (v - lo) / (hi - lo) * plot_w, 2)

    label = c.row["claim"] if len(c.row["claim"]) <= 48 else c.row["claim"][:47] + "…"
    background, border = COLOURS[c.verdict]
    out = [
        f'<g data-claim="{esc(c.row["claim_id"])}">',
        f'<rect x="0" y="{y - row_h / 2 + 1}" width="{width}" height="{row_h - 2}" fill="{background}"/>',
        f'<text x="4" y="{y + 4}">{esc(label)}</text>',
        f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">{esc(fmt(lo))}</text>',
        f'<text x="{x0 + plot_w + 6}" y="{y + 4}">{esc(fmt(hi))}</text>',
        f'<line x1="{x0}" y1="{y}" x2="{x0 + plot_w}" y2="{y}" stroke="#999" stroke-width="1"/>',
    ]
    if bounds:
        out.append(
            f'<line class="interval" x1="{x(bounds[0])}" y1="{y}" x2="{x(bounds[1])}" y2="{y}" '
            f'stroke="{OURS_MARK}" stroke-width="4" stroke-opacity="0.45"/>'
        )
    px = x(paper)
    out.append(
        f'<path class="paper" d="M{px},{y - 6} l6,6 l-6,6 l-6,-6 z" fill="{PAPER_MARK}">'
        f"<title>paper {esc(c.row['paper'])}</title></path>"
    )
    if ours is not None:
        out.append(
            f'<circle class="ours" cx="{x(ours)}" cy="{y}" r="5" fill="{OURS_MARK}" stroke="{border}">'
            f"<title>ours {esc(c.row['ours'])}</title></circle>"
        )
    return out + ["</g>"]


def chart(claims: list[Claim]) -> str:
    """Paper vs ours for a table's numeric claims, one line each: the paper's value a black diamond, ours a blue dot
    with its 95 % interval as a bar. The lines of one metric share a scale; a table's metrics (counts, seconds,
    scores) each have their own, written at both ends of every line."""
    points = []
    for c in claims:
        paper = number(c.row["paper"])
        if paper is None:
            continue
        ours = number(c.row["ours"])
        bounds = interval_bounds(c.row.get("interval", "")) if ours is not None else None
        points.append((c, paper, ours, bounds))
    if not points:
        return ""
    scales = chart_scales(points)
    row_h, top = CHART["row_h"], CHART["top"]
    height = top + row_h * len(points) + 8
    width = CHART["label_w"] + 60 + CHART["plot_w"] + 70
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="paper versus ours">',
        f'<path d="M10,6 l6,6 l-6,6 l-6,-6 z" fill="{PAPER_MARK}"/><text x="20" y="16">paper</text>',
        f'<line x1="64" y1="12" x2="92" y2="12" stroke="{OURS_MARK}" stroke-width="4" stroke-opacity="0.45"/>',
        f'<circle cx="78" cy="12" r="5" fill="{OURS_MARK}"/><text x="98" y="16">ours, its 95 % interval as a bar;'
        " each line from its left value to its right one (one scale per metric)</text>",
    ]
    for i, point in enumerate(points):
        out += chart_row(point, top + row_h * i + row_h / 2, scales[scale_key(point[0])], width)
    out.append("</svg>")
    return "\n".join(out)


def claims_table(claims: list[Claim]) -> str:
    out = [
        '<table class="claims"><tr><th>claim</th><th>paper</th><th>ours (95 % interval)</th><th>tolerance</th>'
        "<th>verdict</th><th>reason</th></tr>"
    ]
    for c in claims:
        r = c.row
        interval = f'<span class="interval">{esc(r["interval"])}</span>' if r.get("interval") else ""
        reason = "; ".join(part for part in (r.get("outcome", ""), r.get("note", "")) if part)
        out.append(
            f'<tr class="v-{slug(c.verdict)}" data-claim="{esc(r["claim_id"])}" data-basis="{esc(c.basis)}" '
            f'data-data="{esc(c.data)}" style="{verdict_style(c.verdict)}">'
            f'<td>{esc(r["claim"])}</td><td class="n">{esc(r["paper"])}</td>'
            f'<td class="n ours">{esc(r["ours"])}{interval}</td><td>{esc(r.get("tolerance", ""))}</td>'
            f'<td class="verdict">{esc(r["verdict"])}</td><td class="why">{esc(reason)}</td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)


def paper_section(paper: PaperClaims) -> str:
    groups: dict[str, list[Claim]] = {}
    for c in paper.claims:
        groups.setdefault(c.row["source"], []).append(c)
    counts = Counter(c.verdict for c in paper.claims)
    out = [
        f'<section class="paper" id="paper-{esc(slug(paper.key))}" data-paper="{esc(paper.key)}">',
        f"<h2>{esc(paper.key)}: {esc(paper.title)}</h2>",
        f"<p>{len(paper.claims)} claims: "
        + ", ".join(f"{counts[v]} {esc(v)}" for v in (*VERDICTS, OTHER) if counts[v])
        + ".</p>",
    ]
    for source, claims in groups.items():
        out.append(f'<div class="source" data-source="{esc(source)}"><h3>{esc(source)}</h3>')
        out += [claims_table(claims), chart(claims), "</div>"]
    out.append("</section>")
    return "\n".join(out)


def legend() -> str:
    return (
        '<p class="legend">'
        + "".join(f'<span style="{verdict_style(v)}">{esc(v)}</span>' for v in VERDICTS)
        + " (the verdicts and their rules: docs/tables-and-claims.md)</p>"
    )


def render(papers: list[PaperClaims]) -> str:
    title = "Verdicts: " + ", ".join(p.key for p in papers)
    body = [
        f"<h1>{esc(title)}</h1>",
        "<p>Every claim of each paper (papers/&lt;key&gt;.yaml) with the paper's number, ours with its 95 % interval"
        " over seeds, the tolerance fixed before any run, and the verdict with its reason, from"
        " results/&lt;key&gt;/claims.csv. Papers: "
        + ", ".join(f'<a href="#paper-{esc(slug(p.key))}">{esc(p.key)}</a>' for p in papers)
        + ".</p>",
        summary(papers),
        legend(),
        *(paper_section(p) for p in papers),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def summary_fragment(papers: list[PaperClaims]) -> str:
    """The counts alone, for the Snakemake report's landing page (styles inline: the report's CSS is its own)."""
    return f'<div class="affrepro-verdicts">\n{summary(papers)}\n</div>\n'


def write(claims: dict[str, Path], paper_files: dict[str, Path], out: Path, summary_out: Path | None = None) -> None:
    unknown = sorted(set(claims) - set(paper_files))
    if unknown:
        raise SystemExit(f"no papers/<key>.yaml given for {', '.join(unknown)} (--papers KEY=PATH)")
    papers = [read_claims(key, path, paper_files[key]) for key, path in claims.items()]
    write_text(out, render(papers))
    if summary_out is not None:
        write_text(summary_out, summary_fragment(papers))
    total = Counter(c.verdict for p in papers for c in p.claims)
    log.info("%s: %s", out, "; ".join(f"{n} {v}" for v, n in sorted(total.items())))


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(
        __doc__,
        None,
        argv,
        claims=jobs.NAMED_PATHS | {"nargs": "+"},
        papers=jobs.NAMED_PATHS | {"nargs": "+"},
        out=jobs.PATH,
        summary={"type": Path},
    )
    write(jobs.named_paths(args.claims), jobs.named_paths(args.papers), args.out, args.summary)


if __name__ == "__main__":
    main()
