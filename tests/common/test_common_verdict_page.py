"""The verdict page (affrepro.verdict_page, results/index.html) in a real headless browser, and the Snakemake report
that shows it, the tables and each paper's claims in its main pane and leads its landing page with the counts.

The counts are checked against counts this test makes from the claims CSVs with the csv module and from
papers/<key>.yaml on its own; a hand-made pair of tiny papers checks rows, colours and intervals by value.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import yaml
from helpers import REPO, embedded_pages, rendered_dom, repo_config, snakemake

from affrepro import verdict_page
from affrepro.claims import COLUMNS as CLAIM_COLUMNS
from affrepro.papers import PAPERS

VERDICT_WORDS = ("reproduced", "not reproduced", "inconclusive", "not comparable", "not rerun")


class Dom(HTMLParser):
    """The rows of a rendered page: each <tr data-claim> (attributes, cell texts), each summary count, each chart line."""

    def __init__(self, text: str):
        super().__init__()
        self.rows: dict[str, dict] = {}
        self.counts: dict[str, int] = {}
        self.charted: dict[str, set[str]] = {}
        self.sections: list[str] = []
        self.sources: list[str] = []
        self._row = self._cell = self._count = self._group = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-claim" in attrs:
            self._row = {"attrs": attrs, "cells": []}
            self.rows[attrs["data-claim"]] = self._row
        elif tag == "td" and self._row is not None:
            self._cell = []
            self._row["cells"].append(self._cell)
        elif tag == "td" and "data-count" in attrs:
            self._count = (attrs["data-count"], [])
        elif tag == "section" and "data-paper" in attrs:
            self.sections.append(attrs["data-paper"])
        elif tag == "div" and "data-source" in attrs:
            self.sources.append(attrs["data-source"])
        elif tag == "g" and "data-claim" in attrs:
            self._group = self.charted.setdefault(attrs["data-claim"], set())
        elif self._group is not None and attrs.get("class"):
            self._group.add(attrs["class"])

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self._row["text"] = ["".join(c).strip() for c in self._row["cells"]]
            self._row = self._cell = None
        elif tag == "td" and self._count is not None:
            self.counts[self._count[0]] = int("".join(self._count[1]))
            self._count = None
        elif tag == "g":
            self._group = None

    def handle_data(self, data):
        if self._cell is not None and self._row is not None:
            self._cell.append(data)
        if self._count is not None:
            self._count[1].append(data)


# ---------------------------------------------------------------- counted here, independently of the module


def tables_named(entry) -> set[str]:
    """Every `table:` anywhere in a claim's entry of papers/<key>.yaml."""
    if isinstance(entry, dict):
        found = {entry["table"]} if isinstance(entry.get("table"), str) else set()
        return found.union(*(tables_named(v) for v in entry.values()))
    if isinstance(entry, list):
        return set().union(*(tables_named(v) for v in entry))
    return set()


def expected_counts(claims: dict[str, Path], papers: dict[str, Path]) -> Counter:
    counts = Counter()
    for key, path in claims.items():
        spec = yaml.safe_load(papers[key].read_text())["claims"]
        entries = {e["id"]: e for e in spec.get("derived", []) + spec.get("text", [])}
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                verdict = next((w for w in VERDICT_WORDS if row["verdict"].split(" (")[0] == w), "other")
                read = (
                    {row["claim_id"].split("/")[0]}
                    if row["kind"] == "value"
                    else tables_named(entries.get(row["claim_id"]))
                )
                if read and read <= set(spec.get("independent_of_data", [])):
                    basis = "data-independent"
                elif read and read <= set(spec.get("independent_of_training", [])):
                    basis = "dataset facts"
                else:
                    basis = "learned"
                # the verdict's reasons, each "(a; b)" entry split: what affrepro.claims says of the claim's dataset
                reasons = [r.strip() for r in row["verdict"].partition("(")[2].rstrip(")").split(";")]
                if not row["ours"]:
                    data = "none"
                elif basis == "data-independent":
                    data = "any"
                elif any(r.startswith("demo data") for r in reasons):
                    data = "demo"
                elif any(
                    r.startswith(("provenance incomplete: dataset.", "provenance incomplete: datasets."))
                    for r in reasons
                ):
                    data = "unknown"
                else:
                    data = "real"
                for name in (f"paper|{key}|{verdict}", f"basis|{basis}|{verdict}", f"data|{data}|{verdict}"):
                    counts[name] += 1
                for name in (f"paper|{key}|total", f"basis|{basis}|total", f"data|{data}|total"):
                    counts[name] += 1
    return counts


def committed() -> tuple[dict[str, Path], dict[str, Path]]:
    return (
        {key: REPO / "results" / key / "claims.csv" for key in PAPERS},
        {key: REPO / "papers" / f"{key}.yaml" for key in PAPERS},
    )


def test_the_committed_page_is_the_committed_claims_rendered(tmp_path):
    claims, papers = committed()
    out = tmp_path / "index.html"
    verdict_page.main(
        [
            "--claims",
            *(f"{k}={p}" for k, p in claims.items()),
            "--papers",
            *(f"{k}={p}" for k, p in papers.items()),
            "--out",
            str(out),
        ]
    )
    assert out.read_bytes() == (REPO / "results" / "index.html").read_bytes(), (
        "results/index.html is stale: python -m affrepro.verdict_page --claims emi=results/emi/claims.csv ... "
        "(or make tables)"
    )


def test_the_page_loads_every_paper_and_its_counts_match_the_csvs():
    page = REPO / "results" / "index.html"
    text = page.read_text(encoding="utf-8")
    assert (
        '<meta charset="utf-8">' in text
        and "<script" not in text
        and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        and "https://" not in text
    )
    dom = Dom(rendered_dom(page))
    claims, papers = committed()
    assert dom.sections == list(PAPERS)  # each paper's table, in the registry's order
    for key, path in claims.items():
        title = yaml.safe_load(papers[key].read_text())["paper"]["title"]
        assert f"{key}: {title}" in text
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            shown = dom.rows[row["claim_id"]]
            assert shown["text"][0] == row["claim"] and shown["text"][4] == row["verdict"]
        assert {r["source"] for r in rows} <= set(dom.sources)
    expected = expected_counts(claims, papers)
    assert {k: v for k, v in dom.counts.items() if v} == dict(expected)
    # the committed demo run: ECAN Table 1 and VA Table 1 are the only claims reproduced, all data-independent
    assert expected["basis|data-independent|reproduced"] == expected["data|any|reproduced"] == 57
    assert expected["basis|learned|reproduced"] == 0 and expected["data|real|total"] == 0


def write_tiny_paper(root: Path, key: str, title: str, rows: list[dict], independent: list[str]) -> tuple[Path, Path]:
    claims = root / f"{key}.csv"
    with open(claims, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CLAIM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in CLAIM_COLUMNS} for r in rows)
    paper = root / f"{key}.yaml"
    paper.write_text(
        yaml.safe_dump({"paper": {"key": key, "title": title}, "claims": {"independent_of_data": independent}})
    )
    return claims, paper


def test_a_hand_made_pair_of_papers_shows_each_rows_colour_interval_and_counts(tmp_path):
    alpha = [
        {
            "claim_id": "table1/a/acc",
            "kind": "value",
            "claim": "a: acc = 0.45",
            "source": "Table 1",
            "paper": "0.45",
            "ours": "0.4500 ± 0.0100",
            "interval": "[0.4252, 0.4748] (95 %, t, n=3)",
            "tolerance": "0.01 (abs): why",
            "outcome": "within tolerance (ours - paper = 0)",
            "verdict": "reproduced",
            "note": "ours: real data",
        },
        {
            "claim_id": "table1/b/acc",
            "kind": "value",
            "claim": "b: acc = 0.6",
            "source": "Table 1",
            "paper": "0.6",
            "ours": "0.3",
            "tolerance": "0.01 (abs): why",
            "outcome": "outside tolerance (ours - paper = -0.3)",
            "verdict": "not reproduced",
            "note": "ours: real data",
        },
        {
            "claim_id": "beats",
            "kind": "ordering",
            "claim": "a beats b",
            "source": "§4",
            "paper": "acc: 0.6 > 0.45",
            "ours": "b 0.3 > a 0.45",
            "tolerance": "strict >",
            "outcome": "holds in 0/3 seeds",
            "verdict": "not reproduced (holds in 0/3 seeds)",
        },
    ]
    beta = [
        {
            "claim_id": "table2/w/Dimension",
            "kind": "value",
            "claim": "w: Dimension = 128",
            "source": "Table 2",
            "paper": "128",
            "ours": "128",
            "tolerance": "0 (abs)",
            "outcome": "within tolerance (ours - paper = 0)",
            "verdict": "reproduced (1 seed: spread not measured)",
            "note": "ours: demo data and demo budget (see provenance)",
        },
        {
            "claim_id": "table3/x/rho",
            "kind": "value",
            "claim": "x: rho = 0.25",
            "source": "Table 3",
            "paper": "0.25",
            "ours": "0.5 ± 0.2",
            "interval": "[0.0032, 0.9968] (95 %, t, n=3)",
            "tolerance": "0.01 (abs)",
            "outcome": "within tolerance, but std 0.2 > tolerance 0.01",
            "verdict": "inconclusive (std 0.2 > tolerance 0.01)",
            "note": "ours: RAF-DB real, FER2013 demo; demo budget for FER2013, paper budget for the real data",
        },
        {
            "claim_id": "table3/y/rho",
            "kind": "value",
            "claim": "y: rho = 0.3",
            "source": "Table 3",
            "paper": "0.3",
            "verdict": "not rerun",
            "note": "another team's result",
        },
        {
            "claim_id": "table3/z/rho",
            "kind": "value",
            "claim": "z: rho = 0.2",
            "source": "Table 3",
            "paper": "0.2",
            "ours": "0.7",
            "verdict": "not comparable (demo data)",
            "note": "",
        },
        {
            "claim_id": "table3/v/rho",
            "kind": "value",
            "claim": "v: rho = 0.2",
            "source": "Table 3",
            "paper": "0.2",
            "ours": "0.6",
            "verdict": "not comparable (provenance incomplete: dataset.kind ('x' is neither real nor demo))",
            "note": "",
        },
    ]
    a_csv, a_yaml = write_tiny_paper(tmp_path, "alpha", "Alpha <paper> & co", alpha, [])
    b_csv, b_yaml = write_tiny_paper(tmp_path, "beta", "Beta", beta, ["table2"])
    out, summary = tmp_path / "page.html", tmp_path / "summary.html"
    verdict_page.main(
        [
            "--claims",
            f"alpha={a_csv}",
            f"beta={b_csv}",
            "--papers",
            f"alpha={a_yaml}",
            f"beta={b_yaml}",
            "--out",
            str(out),
            "--summary",
            str(summary),
        ]
    )
    dom = Dom(rendered_dom(out))
    assert dom.sections == ["alpha", "beta"] and dom.sources == ["Table 1", "§4", "Table 2", "Table 3"]
    assert "<h2>alpha: Alpha &lt;paper&gt; &amp; co</h2>" in out.read_text()

    row = dom.rows["table1/a/acc"]
    assert row["attrs"]["class"] == "v-reproduced" and "background:#d7f0d9" in row["attrs"]["style"]
    assert row["text"] == [
        "a: acc = 0.45",
        "0.45",
        "0.4500 ± 0.0100[0.4252, 0.4748] (95 %, t, n=3)",
        "0.01 (abs): why",
        "reproduced",
        "within tolerance (ours - paper = 0); ours: real data",
    ]
    assert (row["attrs"]["data-basis"], row["attrs"]["data-data"]) == ("learned", "real")
    assert dom.rows["table1/b/acc"]["attrs"]["class"] == "v-not-reproduced"
    assert "background:#f9d6d5" in dom.rows["beats"]["attrs"]["style"]
    one_seed = dom.rows["table2/w/Dimension"]["attrs"]
    assert (one_seed["class"], one_seed["data-basis"], one_seed["data-data"]) == (
        "v-reproduced",
        "data-independent",
        "any",
    )
    wide = dom.rows["table3/x/rho"]
    assert wide["attrs"]["class"] == "v-inconclusive" and wide["text"][2] == "0.5 ± 0.2[0.0032, 0.9968] (95 %, t, n=3)"
    # a mixed run's note names a demo dataset, but this claim's own dataset is real (the verdict's reasons say so)
    assert wide["attrs"]["data-data"] == "real" and dom.rows["table3/z/rho"]["attrs"]["data-data"] == "demo"
    assert dom.rows["table3/v/rho"]["attrs"]["data-data"] == "unknown"
    assert (dom.rows["table3/y/rho"]["attrs"]["class"], dom.rows["table3/y/rho"]["attrs"]["data-data"]) == (
        "v-not-rerun",
        "none",
    )
    assert dom.rows["table3/z/rho"]["attrs"]["class"] == "v-not-comparable"

    # charts: numeric claims only; ours with its interval bar where there is one, the paper alone where ours is missing
    assert dom.charted["table1/a/acc"] == {"paper", "ours", "interval"}
    assert dom.charted["table1/b/acc"] == {"paper", "ours"} and dom.charted["table3/y/rho"] == {"paper"}
    assert "beats" not in dom.charted

    assert {k: v for k, v in dom.counts.items() if v} == {
        "paper|alpha|reproduced": 1,
        "paper|alpha|not reproduced": 2,
        "paper|alpha|total": 3,
        "paper|beta|reproduced": 1,
        "paper|beta|inconclusive": 1,
        "paper|beta|not comparable": 2,
        "paper|beta|not rerun": 1,
        "paper|beta|total": 5,
        "basis|learned|reproduced": 1,
        "basis|learned|not reproduced": 2,
        "basis|learned|inconclusive": 1,
        "basis|learned|not comparable": 2,
        "basis|learned|not rerun": 1,
        "basis|learned|total": 7,
        "basis|data-independent|reproduced": 1,
        "basis|data-independent|total": 1,
        "data|real|reproduced": 1,
        "data|real|not reproduced": 2,
        "data|real|inconclusive": 1,
        "data|real|total": 4,
        "data|demo|not comparable": 1,
        "data|demo|total": 1,
        "data|unknown|not comparable": 1,
        "data|unknown|total": 1,
        "data|any|reproduced": 1,
        "data|any|total": 1,
        "data|none|not rerun": 1,
        "data|none|total": 1,
    }
    assert dom.counts == Dom(summary.read_text()).counts  # the report's landing page shows the same counts
    assert expected_counts({"alpha": a_csv, "beta": b_csv}, {"alpha": a_yaml, "beta": b_yaml}) == Counter(
        {k: v for k, v in dom.counts.items() if v}
    )


def test_the_report_shows_the_pages_in_its_main_pane_and_leads_with_the_counts(tmp_path):
    """The committed results in a scratch working directory: the page rules run (no training: --allowed-rules),
    then `snakemake --report`: the verdict page, every table and every paper's claims are HTML results (the
    report's main pane), and the landing page's description starts with the verdict counts."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump(repo_config()))
    shutil.copytree(REPO / "results", work / "results")
    (work / "results" / "index.html").unlink()
    snakemake(work, "--allowed-rules", "verdicts", "report_table", "paper_verdicts", "all", "--", "all")
    assert (work / "results" / "index.html").read_bytes() == (REPO / "results" / "index.html").read_bytes()
    snakemake(work, "--report", str(tmp_path / "report.html"), "all")
    report = (tmp_path / "report.html").read_text()
    pages = embedded_pages(report)
    assert {"index.html", "claims.html", "table1.html", "table2.html", "table2_nested.html"} <= set(pages)
    assert '<th class="paper">rho_paper</th>' in pages["table3.html"]  # EMI's Table 3, rendered
    assert 'data-claim="table1/Train/Samples"' in pages["claims.html"] and "Multimodal results of late fusion" in report
    description = re.search(r"var workflow_desc = (.*);\n", report)
    assert description, "no workflow description in the report"
    landing = json.loads(description.group(1))
    assert landing.index("data-count") < landing.index("Each paper") < landing.index("rule graph")
    counts = Dom(landing).counts
    assert counts == Dom((REPO / "results" / "index.html").read_text()).counts
