import json

import yaml

from affrepro.papers import load_paper
from affrepro.tables import build_rows, input_files, parse_paper_value, render_csv

PAPER = {
    "tables": {
        "t": {
            "keys": ["Features"],
            "metrics": {"rho": {}},
            "rows": [
                {"Features": "theirs", "paper": {"rho": 0.25}, "note": "organisers' baseline"},
                {
                    "Features": "ours",
                    "paper": {"rho": 0.3288},
                    "ours": {"rho": {"file": "m.json", "value": "score.mean", "std": "score.std"}},
                },
            ],
        }
    }
}


def test_rows_join_paper_values_and_run_metrics(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"score": {"mean": 0.512345678, "std": 0.0432101}}))
    columns, rows = build_rows(PAPER, "t", root=tmp_path)
    assert columns == ["Features", "rho_paper", "rho_ours", "rho_std", "rho_delta", "note"]
    assert render_csv(columns, rows) == (
        "Features,rho_paper,rho_ours,rho_std,rho_delta,note\n"
        "theirs,0.25,,,,organisers' baseline\n"
        "ours,0.3288,0.5123,0.0432,0.1835,\n"
    )
    assert input_files(PAPER, "t") == ["m.json"]


def test_duration_paper_values_become_seconds():
    assert parse_paper_value("15:07:03", "h:mm:ss") == 15 * 3600 + 7 * 60 + 3
    assert parse_paper_value(0.1, None) == 0.1


def test_emi_yaml_covers_the_papers_tables(repo):
    paper = load_paper("emi", repo / "papers")
    tables = paper["tables"]
    assert sorted(tables) == ["table1", "table2", "table3", "table4"]
    features = [r["Features"] for r in tables["table3"]["rows"]]
    assert features == [
        "ViT+Wav2Vec2.0(baseline)",
        "ViT+Wav2Vec2.0(ours)",
        "ResNet18+Wav2Vec2.0",
        "AUs+Wav2Vec2.0",
        "ResNet18+AUs+Wav2Vec2.0",
    ]
    assert [r["paper"]["rho"] for r in tables["table2"]["rows"]] == [0.09, 0.10, 0.1236, 0.1352, 0.1479, 0.24, 0.2808]
    for table in tables.values():
        for row in table["rows"]:
            # a row either names the run that fills it or says why it cannot be filled
            assert row.get("ours") or row.get("note"), row
    config = yaml.safe_load((repo / "config.yaml").read_text())
    fusions = {f"work/emi/fusion/{name}/metrics.json" for name in config["emi"]["fusions"]}
    assert set(input_files(paper, "table3")) == fusions


def test_a_row_names_the_substitutes_its_run_files_record(tmp_path):
    substitute = "extractors.openface.bin is null: the crop-based AU approximation runs instead of OpenFace 2.0"
    (tmp_path / "m.json").write_text(json.dumps({"score": {"mean": 0.5, "std": 0.1}, "substitutes": [substitute]}))
    _, rows = build_rows(PAPER, "t", root=tmp_path)
    assert rows[0]["note"] == "organisers' baseline"  # not computed by us: nothing substituted
    assert rows[1]["note"] == f"substitute: {substitute}"
    assert (rows[0]["substitutes"], rows[1]["substitutes"]) == ([], [substitute])  # the sidecar's structured record
