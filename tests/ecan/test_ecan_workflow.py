"""The ECAN workflow end to end on a tiny demo, as a user runs it (Snakemake in a fresh working directory)."""

import json

import pandas as pd
import pytest

import helpers


def tiny_ecan_config() -> dict:
    config = helpers.repo_config()
    config["demo"]["rafdb"].update(n_train=120, n_test=60, min_per_class=6)
    config["demo"]["fer2013"].update(n_train=100, n_public_test=50, n_private_test=50, min_per_class=5)
    ecan = config["demo"]["overrides"]["ecan"]
    ecan["train"].update(batch_size=32)
    ecan["rafdb"].update(epochs=1, input_size=32)
    ecan["fer2013"] = {"epochs": 1, "input_size": 32}
    ecan["experiments"] = {"figure3": {"dataset": "rafdb", "lambda1": [0.2], "lambda2": [0.7]}, "figure4": {"dataset": "rafdb", "V": [5]}}
    return config


@pytest.mark.slow
def test_tiny_ecan_demo_tables_and_figures(tmp_path):
    helpers.run_in(tmp_path / "ecan", tiny_ecan_config(), "ecan_tables")
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
    assert table4.loc["ECAN (ours)", "Accuracy_ours"] == table3.set_index("Loss Function").loc["MVA + ENSC", "Accuracy_ours"]
    table5 = pd.read_csv(out / "table5.csv").set_index("Method")
    assert table5.loc["ECAN (ours)", "Macro_F1_ours"] <= 1
    figure6 = pd.read_csv(out / "figure6.csv")
    raf = figure6[figure6["dataset"] == "rafdb"].set_index("class")["train_images"]
    assert raf.sum() == 120 and raf.idxmax() == "Happiness" and raf.min() >= 6  # the real set's imbalance, scaled
    figure7 = pd.read_csv(out / "figure7.csv")
    assert len(figure7) == 2 * 2 * 49
    assert figure7.groupby(["dataset", "method"])["count"].sum().to_dict() == {("fer2013", "baseline"): 50, ("fer2013", "ecan"): 50, ("rafdb", "baseline"): 60, ("rafdb", "ecan"): 60}
    for figure in ("figure3", "figure4", "figure6", "figure7"):
        assert (out / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    provenance = json.loads((out / "table2.json").read_text())["provenance"]
    assert provenance["datasets"]["fer2013"]["kind"] == "demo" and provenance["budget"]["reduced"]
    # A Table 3 cell traced back: the aggregate names its run, whose metrics file names itself and its spec.
    ensc_run = "rafdb-strong-ensc-l1_0.2-l2_0.7-V5-s0"
    assert json.loads((tmp_path / "ecan/work/ecan/experiments/table3.json").read_text())["ensc"]["runs"] == [ensc_run]
    metrics = json.loads((tmp_path / f"ecan/work/ecan/runs/{ensc_run}/metrics.json").read_text())
    assert metrics["run_id"] == ensc_run and metrics["spec"]["losses"] == "ensc"
    assert table3.set_index("Loss Function").loc["ENSC", "Accuracy_ours"] == pytest.approx(round(100 * metrics["test"]["accuracy"], 2))
