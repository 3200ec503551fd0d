"""The ECAN workflow end to end on a tiny demo, as a user runs it (Snakemake in a fresh working directory)."""

import json

import helpers
import pandas as pd
import pytest

from affrepro.config.resolve import effective_config
from affrepro.ecan import plan
from affrepro.papers import load_paper


def tiny_ecan_config() -> dict:
    """The tiny demo of .test/config_ecan.yaml over the repository's config."""
    return helpers.tiny_config("ecan")


@pytest.mark.slow
def test_tiny_ecan_demo_tables_and_figures(tmp_path):
    helpers.run_tiny_config(tmp_path / "ecan", "ecan", "ecan_tables")  # as the catalog runs .test/config_ecan.yaml
    out = tmp_path / "ecan/results/ecan"
    table1 = pd.read_csv(out / "table1.csv").set_index("Augmentation")
    assert (table1.filter(like="_delta") == 0).all().all()  # the code applies exactly the paper's Table 1
    assert table1.loc["FiveCrop", "FER2013_Strong_ours"] == 1 and table1.loc["FiveCrop", "RAFDB_Strong_ours"] == 0
    table2 = pd.read_csv(out / "table2.csv").set_index("Method")
    assert table2.filter(like="_ours").notna().all().all()
    assert pd.isna(table2.loc["ECAN", "RAFDB_Weak_paper"]) and table2.loc["ECAN", "FER2013_Strong_paper"] == 73.73
    table3 = pd.read_csv(out / "table3.csv")
    assert table3["Loss Function"].tolist() == ["Cross-Entropy", "Center", "SupCon", "ENSC", "MVA + ENSC"]
    assert table3["Accuracy_ours"].between(0, 100).all()
    table4 = pd.read_csv(out / "table4.csv").set_index("Method")
    assert table4["Accuracy_ours"].notna().tolist() == [False] * 8 + [True, True]
    # Table 4's ECAN row and Table 3's MVA + ENSC row are the same run
    assert (
        table4.loc["ECAN (ours)", "Accuracy_ours"]
        == table3.set_index("Loss Function").loc["MVA + ENSC", "Accuracy_ours"]
    )
    table5 = pd.read_csv(out / "table5.csv").set_index("Method")
    assert table5.loc["ECAN (ours)", "Macro_F1_ours"] <= 1
    figure6 = pd.read_csv(out / "figure6.csv")
    raf = figure6[figure6["dataset"] == "rafdb"].set_index("class")["train_images"]
    assert raf.sum() == 120 and raf.idxmax() == "Happiness" and raf.min() >= 6  # the real set's imbalance, scaled
    figure7 = pd.read_csv(out / "figure7.csv")
    assert len(figure7) == 2 * 2 * 49
    assert figure7.groupby(["dataset", "method"])["count"].sum().to_dict() == {
        ("fer2013", "baseline"): 50,
        ("fer2013", "ecan"): 50,
        ("rafdb", "baseline"): 60,
        ("rafdb", "ecan"): 60,
    }
    for figure in ("figure3", "figure4", "figure6", "figure7"):
        assert (out / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(json.loads((out / "table2.json").read_text())) == ["rows"]  # the metrics file holds numbers only
    sidecar = json.loads((out / "table2.provenance.json").read_text())
    # every run trained on the CPU in the demo's precision (demo.overrides.compute: fp32)
    assert [(e["device"], e["precision"]) for e in sidecar["environment"]["training"]] == [("cpu", "fp32")]
    curves = pd.read_csv(out / "curves/training.csv")
    assert list(curves.columns) == ["run", "epoch", "train_loss", "valid_score", "test_score", "lr", "collapse"]
    assert curves[["lr", "test_score"]].notna().all().all() and curves["collapse"].isin([0, 1]).all()
    provenance = sidecar["provenance"]
    assert provenance["datasets"]["fer2013"]["kind"] == "demo" and provenance["budget"]["reduced"]
    # A Table 3 cell traced back: the aggregate names its run, whose metrics file names itself and its spec.
    ensc_run = "rafdb-strong-ensc-l1_0.2-l2_0.7-V5-s0"
    assert json.loads((tmp_path / "ecan/work/ecan/experiments/table3.json").read_text())["ensc"]["runs"] == [ensc_run]
    metrics = json.loads((tmp_path / f"ecan/work/ecan/runs/{ensc_run}/metrics.json").read_text())
    assert metrics["run_id"] == ensc_run and metrics["spec"]["losses"] == "ensc"
    assert table3.set_index("Loss Function").loc["ENSC", "Accuracy_ours"] == pytest.approx(
        round(100 * metrics["test"]["accuracy"], 2)
    )

    # A changed config value reruns the jobs that read it and what they feed, no other (issue 21.1): RAF-DB's
    # epochs retrain the RAF-DB settings, not FER2013's, and the data and their statistics stay.
    config = tiny_ecan_config()
    planned = helpers.jobs_planned(
        helpers.run_tiny_config(
            tmp_path / "ecan", "ecan", "-n", "ecan_tables", "--config", "ecan={rafdb: {epochs: 2}}"
        ).stdout
    )
    rafdb_settings = [s for s in plan.setting_runs(effective_config(config, "ecan")) if s.startswith("rafdb-")]
    assert (
        planned["ecan_train"] == len(rafdb_settings) and planned["ecan_aggregate"] == len(plan.GROUPS) - 1
    )  # not table5
    assert not {"ecan_demo_rafdb", "ecan_demo_fer2013", "ecan_stats"} & set(planned), planned
    assert helpers.views_within_dvc_params(tmp_path / "ecan", "ecan", config) == []

    # The Snakemake report shows each figure with the paper's caption, and the tables rendered.
    helpers.run_tiny_config(tmp_path / "ecan", "ecan", "--report", str(tmp_path / "report.html"), "ecan_tables")
    report = (tmp_path / "report.html").read_text()
    for figure, spec in load_paper("ecan")["figures"].items():
        assert f"{figure}.png" in report and spec["caption"] in report
    pages = helpers.embedded_pages(report)  # each table as HTML, shown in the report's main pane
    assert all('<th class="paper">Accuracy_paper</th>' in pages[f"{table}.html"] for table in ("table3", "table4"))
