"""Claims (affrepro.claims): papers/*.yaml follow their schema, and verdicts on hand-made tables and runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import helpers
import jsonschema
import pytest
import yaml
from helpers import REPO

from affrepro import claim_inputs, claims
from affrepro.papers import PAPER_SCHEMA_PATH, PAPERS, PaperFileError, load_paper

# ---------------------------------------------------------------- the schema


@pytest.mark.parametrize("key", PAPERS)
def test_paper_yaml_follows_the_schema(key):
    schema = yaml.safe_load(PAPER_SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    paper = yaml.safe_load((REPO / "papers" / f"{key}.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(paper)
    assert load_paper(key)["claims"]["tolerances"], f"papers/{key}.yaml checks no table"


@pytest.mark.parametrize("key", PAPERS)
def test_every_claim_names_existing_cells(key):
    """Every table, row and metric a claim names exists (the claims' own check, without any run file)."""
    paper = load_paper(key)
    for table, metrics in paper["claims"]["tolerances"].items():
        assert table in paper["tables"], f"papers/{key}.yaml claims.tolerances names no table {table!r}"
        assert set(metrics) <= set(paper["tables"][table]["metrics"]), (key, table, metrics)
    for ref in claim_inputs.text_cells(paper):
        claim_inputs.find_row(paper, ref["table"], ref["row"])
        assert ref["metric"] in paper["tables"][ref["table"]]["metrics"], ref


def _broken(tmp_path: Path, edit) -> Path:
    paper = yaml.safe_load((REPO / "papers" / "emi.yaml").read_text())
    edit(paper)
    (tmp_path / "emi.yaml").write_text(yaml.safe_dump(paper, allow_unicode=True))
    return tmp_path


def test_a_broken_paper_yaml_is_refused_naming_the_file_and_the_key(tmp_path):
    papers_dir = _broken(tmp_path, lambda p: p["claims"]["text"][0].update(kind="guess"))
    with pytest.raises(PaperFileError) as error:
        load_paper("emi", papers_dir)
    message = str(error.value)
    assert str(tmp_path / "emi.yaml") in message
    assert "claims.text.0" in message


def test_a_gain_without_its_paper_value_is_refused(tmp_path):
    papers_dir = _broken(tmp_path, lambda p: p["claims"]["text"][0].pop("paper"))
    with pytest.raises(PaperFileError, match="'paper' is a required property"):
        load_paper("emi", papers_dir)


def test_an_unknown_key_is_refused(tmp_path):
    papers_dir = _broken(tmp_path, lambda p: p["tables"]["table2"].update(colums=[]))
    with pytest.raises(PaperFileError, match="colums"):
        load_paper("emi", papers_dir)


def test_unreadable_yaml_is_refused_naming_the_file(tmp_path):
    (tmp_path / "va.yaml").write_text("paper: [unclosed\n")
    with pytest.raises(PaperFileError, match="va.yaml: not valid YAML"):
        load_paper("va", tmp_path)
    with pytest.raises(PaperFileError, match="ecan.yaml: cannot be read"):
        load_paper("ecan", tmp_path)


# ---------------------------------------------------------------- verdicts on hand-made inputs

# One table: another team's row (not rerun), and two rows of ours, A and B, over three seeds.
BUDGET = {
    "epochs": 10,
    "batch_size": 8,
    "lr": 0.001,
    "optimiser": {"name": "adam"},
    "schedule": "constant",
    "input_size": {"face": 112},
    "seq_len": 300,
    "train_subset": "all",
}
PAPER = {
    "paper": {"key": "emi", "title": "A hand-made paper"},
    "budget": {"hume_vidmimic2": BUDGET},
    "tables": {
        "table2": {
            "caption": "Scores.",
            "keys": ["Method"],
            "metrics": {"score": {}},
            "rows": [
                {"Method": "Other", "paper": {"score": 0.45}, "note": "another team's result; not rerun"},
                {
                    "Method": "A",
                    "paper": {"score": 0.50},
                    "ours": {"score": {"file": "work/runs/a.json", "value": "score.mean", "std": "score.std"}},
                },
                {
                    "Method": "B",
                    "paper": {"score": 0.80},
                    "ours": {"score": {"file": "work/runs/b.json", "value": "score.mean", "std": "score.std"}},
                },
            ],
        }
    },
    "claims": {
        "unit": "seeds",
        "per_seed": {"style": "seeds"},
        "tolerances": {"table2": {"score": {"abs": 0.01, "why": "a hundredth"}}},
        "text": [
            {
                "id": "a-beats-b",
                "kind": "ordering",
                "section": "§4",
                "text": "A beats B.",
                "comparisons": [
                    {
                        "greater": {"table": "table2", "row": "A", "metric": "score"},
                        "than": [{"table": "table2", "row": "B", "metric": "score"}],
                    }
                ],
            },
            {
                "id": "a-gain-over-other",
                "kind": "gain",
                "section": "§4",
                "text": "A beats the other team by 0.05.",
                "of": {"table": "table2", "row": "A", "metric": "score"},
                "over": {"table": "table2", "row": "Other", "metric": "score"},
                "paper": 0.05,
                "tolerance": {"abs": 0.01, "why": "a hundredth"},
            },
            {
                "id": "other-beats-a",
                "kind": "ordering",
                "section": "Table 2",
                "text": "The other team beats A.",
                "comparisons": [
                    {
                        "greater": {"table": "table2", "row": "Other", "metric": "score"},
                        "than": [{"table": "table2", "row": "A", "metric": "score"}],
                    }
                ],
            },
        ],
    },
}
SEEDS = {
    "a": [0.505, 0.506, 0.504],
    "b": [0.30, 0.31, 0.51],
}  # A beats B in seeds 0 and 1, not in 2; B is far from its paper value 0.80


def _write_inputs(
    tmp_path: Path, kind: str = "real", budget: dict | None = None, substitutes: dict | None = None
) -> tuple[list[Path], list[Path]]:
    """The table's CSV and provenance as affrepro.tables writes them, and the runs' per-seed files."""
    (tmp_path / "papers").mkdir(exist_ok=True)
    (tmp_path / "papers" / "emi.yaml").write_text(yaml.safe_dump(PAPER))
    runs = []
    summary = {}
    for name, values in SEEDS.items():
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
        summary[name] = (round(mean, 4), round(std, 4))
        path = tmp_path / "work" / "runs" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {"score": {"mean": mean, "std": std}, "seeds": {str(s): {"score": v} for s, v in enumerate(values)}}
            )
        )
        runs.append(Path("work/runs") / f"{name}.json")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Method", "score_paper", "score_ours", "score_std", "score_delta", "note"])
    writer.writerow(["Other", 0.45, "", "", "", "another team's result; not rerun"])
    writer.writerow(["A", 0.5, *summary["a"], round(summary["a"][0] - 0.5, 4), ""])
    writer.writerow(["B", 0.8, *summary["b"], round(summary["b"][0] - 0.8, 4), ""])
    results = tmp_path / "results" / "emi"
    results.mkdir(parents=True, exist_ok=True)
    (results / "table2.csv").write_text(buffer.getvalue())
    (results / "table2.json").write_text(json.dumps({"rows": {}}))
    provenance = {
        "profile": "demo" if kind == "demo" else "paper",
        "dataset": {"kind": kind},
        "seeds": [0, 1, 2],
        "budget": {"used": {"hume_vidmimic2": budget or BUDGET}},
        "substitutes": substitutes or {"A": [], "B": []},
    }
    (results / "table2.provenance.json").write_text(json.dumps({"provenance": provenance}))
    return [results / "table2.csv", results / "table2.json", results / "table2.provenance.json"], runs


def _claims(tmp_path: Path, monkeypatch, **kwargs) -> dict[str, dict]:
    tables, runs = _write_inputs(tmp_path, **kwargs)
    monkeypatch.chdir(tmp_path)  # run files are named relative to the repository root, as in papers/<key>.yaml
    out = tmp_path / "results" / "emi" / "claims.csv"
    claims.write_claims("emi", tables, runs, out, papers_dir=tmp_path / "papers")
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == [
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
    return {row["claim_id"]: row for row in rows}


def test_verdicts_on_real_data(tmp_path, monkeypatch):
    rows = _claims(tmp_path, monkeypatch)
    a, b = rows["table2/A/score"], rows["table2/B/score"]
    assert (a["verdict"], a["paper"], a["ours"]) == ("reproduced", "0.5000", "0.505 ± 0.001")
    assert a["tolerance"] == "0.0100 (abs): a hundredth"  # fixed in the YAML, whatever our std
    # 0.505 ± 0.001 over 3 seeds: t(0.975, 2) x 0.001 / sqrt(3) = 0.0025
    assert a["interval"] == "[0.5025, 0.5075] (95 %, t, n=3)"
    # B's seeds 0.30, 0.31, 0.51: mean 0.3733, sample std 0.1185; 0.80 is 0.43 away, far outside 0.01
    assert (b["verdict"], b["paper"], b["ours"]) == ("not reproduced", "0.8000", "0.3733 ± 0.1185")
    assert b["tolerance"] == "0.0100 (abs): a hundredth"
    assert b["outcome"] == "outside tolerance (ours - paper = -0.4267)"
    assert rows["table2/Other/score"]["verdict"] == "not rerun"
    assert "another team" in rows["table2/Other/score"]["note"]
    ordering = rows["a-beats-b"]
    assert ordering["verdict"] == "inconclusive (holds in 2/3 seeds)"
    assert ordering["outcome"] == "holds in 2/3 seeds"
    gain = rows["a-gain-over-other"]  # A per seed minus the other team's 0.45 (a constant: not rerun)
    assert gain["verdict"] == "reproduced"
    assert gain["ours"] == "0.0550 ± 0.0010"
    assert "gain positive in 3/3 seeds" in gain["outcome"]
    assert "Other: the paper's number (not rerun)" in gain["note"]
    assert rows["other-beats-a"]["verdict"] == "not rerun"


def test_demo_data_is_not_comparable_but_the_outcome_is_kept(tmp_path, monkeypatch):
    rows = _claims(tmp_path, monkeypatch, kind="demo")
    assert rows["table2/A/score"]["verdict"] == "not comparable (demo data)"
    assert rows["table2/A/score"]["outcome"].startswith("within tolerance")
    assert rows["a-beats-b"]["verdict"] == "not comparable (demo data)"
    assert rows["a-beats-b"]["outcome"] == "holds in 2/3 seeds"
    assert rows["table2/Other/score"]["verdict"] == "not rerun"
    assert rows["other-beats-a"]["verdict"] == "not rerun"


def test_a_budget_or_a_substitute_that_is_not_the_papers_is_not_comparable(tmp_path, monkeypatch):
    rows = _claims(tmp_path, monkeypatch, budget=BUDGET | {"epochs": 2, "schedule": "cosine"})
    assert rows["table2/A/score"]["verdict"] == (
        "not comparable (budget differs: epochs 2 (paper 10), schedule cosine (paper constant))"
    )
    rows = _claims(tmp_path, monkeypatch, budget=BUDGET | {"input_size": {"face": 112, "dino": 64}})
    assert rows["table2/A/score"]["verdict"] == "not comparable (budget differs: input_size.dino 64 (paper: none))"
    rows = _claims(tmp_path, monkeypatch, budget={k: v for k, v in BUDGET.items() if k != "lr"})
    assert rows["table2/A/score"]["verdict"] == "not comparable (provenance incomplete: budget.used.hume_vidmimic2.lr)"
    substitute = "extractor:au -> crop proxy"
    rows = _claims(tmp_path, monkeypatch, substitutes={"A": [substitute], "B": []})
    assert rows["a-beats-b"]["verdict"] == f"not comparable (substitute: {substitute})"
    assert rows["table2/B/score"]["verdict"] == "not reproduced"  # B ran with the paper's components
    rows = _claims(tmp_path, monkeypatch, substitutes={"B": []})
    assert rows["table2/A/score"]["verdict"] == "not comparable (provenance incomplete: substitutes.A)"


def test_a_run_file_not_given_is_an_error_naming_it(tmp_path, monkeypatch):
    tables, runs = _write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(claims.ClaimSpecError, match="work/runs/b.json: the claims need this run file"):
        claims.write_claims("emi", tables, runs[:1], tmp_path / "claims.csv", papers_dir=tmp_path / "papers")


def test_a_row_that_names_no_row_is_an_error():
    with pytest.raises(claims.ClaimSpecError, match="row 'C' names 0 rows"):
        claim_inputs.find_row(PAPER, "table2", "C")


def test_per_seed_numbers_of_runs_style_and_mixed_data(tmp_path, monkeypatch):
    """ECAN's layout: a summary lists its runs, each run's test score in its own file; a demo dataset of a mixed run."""
    monkeypatch.chdir(tmp_path)
    paper = {
        "paper": {"key": "ecan"},
        "budget": {"rafdb": BUDGET, "fer2013": BUDGET},
        "claims": {
            "per_seed": {"style": "runs", "file": "work/ecan/runs/{run}/metrics.json"},
            "datasets": {"table2": {"RAFDB": "rafdb", "FER2013": "fer2013"}},
        },
    }
    (tmp_path / "work/ecan/experiments").mkdir(parents=True)
    (tmp_path / "work/ecan/experiments/table2.json").write_text(
        json.dumps({"rafdb": {"strong": {"ce": {"runs": ["r-s0", "r-s1"]}}}})
    )
    for seed, accuracy in ((0, 0.8), (1, 0.9)):
        path = tmp_path / f"work/ecan/runs/r-s{seed}/metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"spec": {"seed": seed}, "test": {"accuracy": accuracy}}))
    runs = claims.Runs(
        [
            Path("work/ecan/experiments/table2.json"),
            Path("work/ecan/runs/r-s0/metrics.json"),
            Path("work/ecan/runs/r-s1/metrics.json"),
        ]
    )
    source = {"file": "work/ecan/experiments/table2.json", "value": "rafdb.strong.ce.accuracy_pct"}
    assert claims.per_seed(paper, source, runs) == {"0": pytest.approx(80.0), "1": pytest.approx(90.0)}
    cell = claims.Cell("table2", "ECAN", "FER2013_Strong", 73.73, 70.0, None, "70.0", "", 2)
    tables = {
        "table2": {
            "provenance": {
                "profile": "mixed",
                "datasets": {"rafdb": {"kind": "real"}, "fer2013": {"kind": "demo"}},
                "budget": {"used": {"rafdb": BUDGET, "fer2013": BUDGET | {"epochs": 3}}},
                "substitutes": {"ECAN": []},
            }
        }
    }
    assert claims.not_comparable(paper, tables, [cell]) == ["demo data: FER2013", "budget differs: epochs 3 (paper 10)"]
    cell.metric = "RAFDB_Strong"
    assert claims.not_comparable(paper, tables, [cell]) == []


# ---------------------------------------------------------------- the workflow's wiring


def test_the_claims_read_the_paper_targets_tables_and_the_runs_they_compare():
    paper = load_paper("emi")
    targets = [f"results/emi/table{n}.{ext}" for n in (1, 2, 3, 4) for ext in ("csv", "json", "provenance.json")] + [
        "results/table3.csv",
        "results/emi/claims.csv",
    ]
    files = claim_inputs.table_files(paper, targets)
    assert "results/table3.csv" not in files and "results/emi/claims.csv" not in files
    assert "results/emi/table3.provenance.json" in files
    runs = claim_inputs.run_files(paper, config={})
    assert (
        "work/emi/fusion/resnet18_aus_wav2vec2/metrics.json" in runs and "work/emi/runs/wav2vec2/metrics.json" in runs
    )
    with pytest.raises(claims.ClaimSpecError, match="table4"):
        claim_inputs.table_files(paper, [t for t in targets if "table4" not in t])


def test_claims_are_workflow_targets_and_dvc_outputs(tmp_path):
    """Each paper's target plans its claims verdict, its training curves and its tables; DVC tracks the verdicts."""
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(helpers.repo_config()))
    planned = helpers.snakemake(tmp_path, "all", dry_run=True).stdout
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    for key in PAPERS:
        for target in (f"results/{key}/claims.csv", f"results/{key}/curves/training.png", f"results/{key}/table1.csv"):
            assert target in planned
        assert {f"results/{key}/claims.csv": {"cache": False, "persist": True}} in dvc["stages"][key]["outs"]
