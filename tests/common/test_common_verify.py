"""`make verify` judges a rebuild as a rebuild: identical on the same machine, within the measured
cross-processor noise on another, never within our spread over seeds.

The planted errors are the ones a std-based tolerance let through (issue 19): each must be `different`.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from helpers import REPO

from affrepro.verify import compare_file, main, read_noise

TABLE5 = "results/ecan/table5.csv"
TABLE3 = "results/emi/table3.csv"
BASELINE = "Baseline (Strong Augment)"
FUSED = "ResNet18+AUs+Wav2Vec2.0"


@pytest.fixture
def rebuild(tmp_path):
    """A rebuild equal to the committed results (their copy), to plant errors into."""
    shutil.copytree(REPO / "results", tmp_path / "build" / "results")
    return tmp_path / "build"


def edit(build, name: str, row: str, column: str, change) -> None:
    """Replace one cell of a results CSV (the row whose values include `row`) by change(its text)."""
    path = build / name
    with path.open() as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    found = [r for r in rows if row in r.values()]
    assert len(found) == 1, (name, row)
    found[0][column] = change(found[0][column])
    with path.open("w") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def shifted(by: float, decimals: int):
    return lambda text: f"{float(text) + by:.{decimals}f}"


def verify(build, *extra: str) -> int:
    return main(["--built", str(build), "--results", str(REPO / "results"), *extra])


def test_a_true_rebuild_on_the_same_machine_is_identical(rebuild, capsys):
    assert verify(rebuild) == 0
    out = capsys.readouterr().out
    assert "same training environment: every cell must be identical" in out
    assert " 0 within tolerance, 0 different" in out


@pytest.mark.parametrize(
    ("name", "row", "column", "change"),
    [
        (TABLE5, BASELINE, "Accuracy_ours", shifted(7, 2)),  # the baseline's accuracy + 7 points
        (TABLE3, FUSED, "rho_ours", shifted(-0.034, 4)),  # the fused rho - 0.034
        (TABLE3, FUSED, "note", lambda note: note.replace("ours: demo data and demo budget (see provenance)", "")),
        (TABLE3, FUSED, "rho_paper", shifted(0.0001, 4)),  # a paper value
    ],
    ids=["accuracy+7", "rho-0.034", "demo-flag", "paper-value"],
)
def test_each_planted_error_is_different(rebuild, capsys, name, row, column, change):
    before = (rebuild / name).read_text()
    edit(rebuild, name, row, column, change)
    assert (rebuild / name).read_text() != before
    assert verify(rebuild) == 1
    out = capsys.readouterr().out
    assert f"different  {name} |" in out
    assert " 1 different" in out


def test_a_changed_verdict_a_figure_or_a_missing_file_is_different(rebuild, capsys):
    claims = rebuild / "results/emi/claims.csv"
    rows = list(csv.DictReader(claims.open()))
    rows[0]["verdict"] = "reproduced"
    with claims.open("w") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert verify(rebuild) == 1
    assert "different  results/emi/claims.csv |" in capsys.readouterr().out
    shutil.copy(REPO / "results/emi/claims.csv", claims)
    figure = rebuild / "results/ecan/figure7.csv"
    lines = figure.read_text().splitlines()
    last = lines[-1].split(",")  # ...,count,row_percent
    last[-2] = str(int(last[-2]) + 1)
    figure.write_text("\n".join([*lines[:-1], ",".join(last)]) + "\n")
    assert verify(rebuild) == 1
    assert "different  results/ecan/figure7.csv |" in capsys.readouterr().out
    figure.unlink()
    assert verify(rebuild) == 1
    assert "different  results/ecan/figure7.csv | * | *" in capsys.readouterr().out


def _another_machine(rebuild) -> None:
    for sidecar in (rebuild / "results").rglob("table*.provenance.json"):
        data = json.loads(sidecar.read_text())
        for env in data.get("environment", {}).get("training", []):
            env["cpu_features"] = [*env.get("cpu_features", []), "avx512_bf16"]  # another machine's kernels
        sidecar.write_text(json.dumps(data))


def test_another_machine_may_differ_by_the_measured_noise_only(rebuild, tmp_path, capsys):
    _another_machine(rebuild)
    noise = tmp_path / "noise.json"
    noise.write_text(
        json.dumps(
            {
                "command": "python benchmarks/cross_isa_noise.py",
                "measured": {"date": "2026-12-06"},
                "tolerance": {TABLE5: {"Accuracy_ours": 0.5, "Accuracy_delta": 0.5}},
            }
        )
    )
    edit(rebuild, TABLE5, BASELINE, "Accuracy_ours", shifted(0.3, 2))
    edit(rebuild, TABLE5, BASELINE, "Accuracy_delta", shifted(0.3, 2))
    assert verify(rebuild, "--noise", str(noise)) == 0
    out = capsys.readouterr().out
    assert "another training environment" in out and " 2 within tolerance, 0 different" in out
    edit(rebuild, TABLE5, BASELINE, "Accuracy_ours", shifted(7, 2))  # + 7 points: far beyond 0.5
    assert verify(rebuild, "--noise", str(noise)) == 1
    shutil.copy(REPO / TABLE5, rebuild / TABLE5)
    edit(rebuild, TABLE5, BASELINE, "Accuracy_std", shifted(0.1, 2))  # std: no noise measured for it
    assert verify(rebuild, "--noise", str(noise)) == 1


def test_text_cells_are_exact_and_numbers_are_compared_as_numbers(tmp_path):
    header = "Method,score_paper,score_ours,score_std,score_delta,note\n"
    committed = tmp_path / "a.csv"
    committed.write_text(header + "A,0.5,0.5050,0.0010,0.0050,demo\n")
    rebuilt = tmp_path / "b.csv"
    rebuilt.write_text(header + "A,0.5,0.5051,0.0010,0.0051,demo\n")
    verdicts = {v["cell"]: v["verdict"] for v in compare_file(committed, rebuilt, "t", {"score_ours": 0.0002})}
    assert verdicts == {
        "Method": "identical",
        "score_paper": "identical",
        "score_ours": "within tolerance",
        "score_std": "identical",
        "score_delta": "different",  # no noise measured for it: 0
        "note": "identical",
    }
    assert {v["verdict"] for v in compare_file(committed, rebuilt, "t", None)} == {"identical", "different"}


def test_without_a_measured_noise_file_every_number_must_be_identical(tmp_path, capsys):
    assert read_noise(tmp_path / "cross_isa_noise.json") == {}
    assert "every number must be identical" in capsys.readouterr().out


def test_across_machines_a_verdict_may_quote_other_numbers_but_not_change(tmp_path):
    header = "claim_id,kind,ours,interval,outcome,verdict\n"
    committed = tmp_path / "a" / "claims.csv"
    rebuilt = tmp_path / "b" / "claims.csv"
    committed.parent.mkdir()
    rebuilt.parent.mkdir()
    committed.write_text(header + "t/A/s,value,0.50 ± 0.02,,,inconclusive (std 0.02 > tolerance 0.01)\n")
    rebuilt.write_text(header + "t/A/s,value,0.51 ± 0.03,,,inconclusive (std 0.03 > tolerance 0.01)\n")
    assert {v["verdict"] for v in compare_file(committed, rebuilt, "c", {})} == {"identical"}
    assert "different" in {v["verdict"] for v in compare_file(committed, rebuilt, "c", None)}  # same machine
    rebuilt.write_text(header + "t/A/s,value,0.51 ± 0.003,,,reproduced\n")
    assert "different" in {v["verdict"] for v in compare_file(committed, rebuilt, "c", {})}
