"""The VA workflow end to end on demo data, as a user runs it (Snakemake in a fresh working directory)."""

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import jobs_planned, run_in, run_tiny_config, tiny_config, views_within_dvc_params

VA_TARGETS = [
    f"results/va/{table}.{ext}" for table in ("table1", "table2", "table2_nested") for ext in ("csv", "json")
] + [
    "results/va/curves/training.csv"  # the folds' per-epoch histories: deterministic too
]
PROTOCOL_TABLES = {"paper": "table2", "nested": "table2_nested"}  # how each table's epochs were selected


def tiny_va_config() -> dict:
    """The tiny demo of .test/config_va.yaml over the repository's config."""
    return tiny_config("va")


def assert_fold_table(workdir: Path, protocol: str) -> None:
    """A Table 2 (paper protocol) or table2_nested: each fold row is its fold job's output, the mean row their aggregate."""
    table = pd.read_csv(workdir / f"results/va/{PROTOCOL_TABLES[protocol]}.csv")
    assert table["Val Set"].tolist() == [f"fold-{k}" for k in range(6)] + ["mean"]
    assert table[["Valence_ours", "Arousal_ours", "P_ours"]].notna().all().all()
    assert table["Valence_paper"].iloc[:6].tolist() == [0.5121, 0.5789, 0.5547, 0.5743, 0.5971, 0.6123]
    assert table["P_ours"].iloc[6] > 0.2  # the planted signal is recovered even on this tiny budget
    for k in range(6):
        fold = json.loads((workdir / f"work/va/folds/{protocol}/fold{k}/metrics.json").read_text())
        assert (
            fold["protocol"] == protocol and fold["substitutes"] == []
        )  # the demo's stand-ins are named by the demo note
        assert table.loc[k, "P_ours"] == round(fold["p"], 4)
        chooser = {"paper": k, "nested": (k + 1) % 6}[protocol]
        assert fold["selection_fold"] == chooser and f"epoch selected on fold-{chooser}" in table.loc[k, "note"]
        if protocol == "paper":  # selection on the reported fold: the score is that fold's best epoch
            assert fold["p"] == fold["selection_p"] and fold["trials"]["selection"] == fold["trials"]["held_out"]
        else:
            assert not set(fold["trials"]["selection"]) & set(fold["trials"]["held_out"])
        assert not set(fold["trials"]["training"]) & set(fold["trials"]["held_out"] + fold["trials"]["selection"])
    cv = json.loads((workdir / f"work/va/folds/{protocol}/cv.json").read_text())
    assert cv["protocol"] == protocol and cv["substitutes"] == []
    assert table.loc[6, "P_ours"] == round(cv["mean"]["p"], 4) and table.loc[6, "P_std"] == round(
        cv["mean"]["p_std"], 4
    )


def assert_tables(workdir: Path) -> None:
    for protocol in PROTOCOL_TABLES:
        assert_fold_table(workdir, protocol)
    paper_folds, nested_folds = (
        [json.loads((workdir / f"work/va/folds/{p}/fold{k}/metrics.json").read_text()) for k in range(6)]
        for p in PROTOCOL_TABLES
    )
    for paper, nested in zip(
        paper_folds, nested_folds
    ):  # the same scored trials; the paper's protocol trains on one fold more
        assert paper["trials"]["held_out"] == nested["trials"]["held_out"]
        assert len(paper["trials"]["training"]) > len(nested["trials"]["training"])
    table1 = pd.read_csv(workdir / "results/va/table1.csv")
    assert table1["Dimension_ours"].tolist() == [128, 39, 512]
    assert list(json.loads((workdir / "results/va/table2_nested.json").read_text())) == [
        "rows"
    ]  # the metrics file holds numbers only
    sidecar = json.loads((workdir / "results/va/table2_nested.provenance.json").read_text())
    assert [e["device"] for e in sidecar["environment"]["training"]] == ["cpu"]
    curves = pd.read_csv(workdir / "results/va/curves/training.csv")
    assert (
        sorted(set(curves["run"])) == sorted(f"{p}/fold{k}" for p in PROTOCOL_TABLES for k in range(6))
        and curves["lr"].notna().all()
    )
    provenance = sidecar["provenance"]
    assert provenance["dataset"]["kind"] == "demo" and provenance["dataset"]["root"] == "work/data/affwild2"
    assert provenance["folds"]["n"] == 6
    assert provenance["selection"]["table2"].startswith("paper: ") and provenance["selection"][
        "table2_nested"
    ].startswith("nested: ")


def assert_planted_faults_reached_the_pipeline(workdir: Path) -> None:
    """-5 rows shortened trials, missing crops were filled, the two people of a video share a fold."""
    folds = json.loads((workdir / "work/va/folds.json").read_text())
    assert folds["assignment"]["pair-video_left"] == folds["assignment"]["pair-video_right"]
    assert sorted(folds["assignment"]) == sorted(f"demo-{i:03d}" for i in range(6)) + [
        "pair-video_left",
        "pair-video_right",
    ]
    planted = json.loads((workdir / "work/data/affwild2/planted.json").read_text())["trials"]
    manifests = [json.loads(m.read_text()) for m in sorted(workdir.glob("work/va/prepare/shard*.json"))]
    prepared = {k: v for m in manifests for k, v in m["trials"].items()}
    for name, info in planted.items():
        assert prepared[name]["ignored_rows"] == info["ignored_rows"]
        assert prepared[name]["length"] == info["n_frames"] - info["ignored_rows"]
        assert prepared[name]["missing_crops"] <= info["missing_crops"]
        assert (workdir / prepared[name]["trial"]).is_file() and (workdir / prepared[name]["audio"]).is_file()
    assert sum(v["missing_crops"] for v in prepared.values()) > 0


@pytest.mark.slow
def test_tiny_va_demo_six_folds_deterministic(tmp_path):
    """Tables 1-2 and table2_nested from the demo (.test/config_va.yaml, run as the catalog runs it); a second
    run in a fresh folder, with the same config written as one file, writes them byte for byte again."""
    runs = [tmp_path / "first", tmp_path / "second"]
    run_tiny_config(runs[0], "va", *VA_TARGETS)
    run_in(runs[1], tiny_va_config(), *VA_TARGETS)
    assert_tables(runs[0])
    assert_planted_faults_reached_the_pipeline(runs[0])
    for target in VA_TARGETS:
        assert (runs[0] / target).read_bytes() == (runs[1] / target).read_bytes(), f"{target} differs"
    # A changed config value reruns the jobs that read it and what they feed, no other (issue 21.1): a new
    # seed retrains every fold, and nothing before training reruns.
    planned = jobs_planned(run_tiny_config(runs[0], "va", "-n", *VA_TARGETS, "--config", "va={seed: 1}").stdout)
    folds = tiny_va_config()["va"]["cv"]["folds"]
    assert planned["va_train_fold"] == 2 * folds and planned["va_aggregate"] == 2  # both selection protocols
    assert not {"va_demo_data", "va_prepare", "va_features", "va_folds", "va_pack"} & set(planned), planned
    assert views_within_dvc_params(runs[0], "va", tiny_va_config()) == []
