"""The workflow end to end on demo data, as a user runs it (Snakemake in a fresh working directory)."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

TABLES = ["table1", "table2", "table3", "table4"]
EMI_TARGETS = [f"results/{t}.{ext}" for t in TABLES for ext in ("csv", "json")] + ["results/emi/submission_test.csv"]


def snakemake(repo: Path, workdir: Path, *targets: str, dry_run: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "2"]
    proc = subprocess.run(cmd + (["-n"] if dry_run else []) + list(targets), capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def tiny_config(repo: Path) -> dict:
    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["demo"]["hume_vidmimic2"].update(n_train=6, n_valid=6, n_test=2, duration_s=[1.0, 1.2], faceless_samples=1, silent_samples=1)
    config["demo"]["overrides"]["preprocess"]["shards"] = 2
    config["demo"]["overrides"]["emi"]["seeds"] = [0, 1]
    config["demo"]["overrides"]["emi"]["train"].update(epochs=3)
    return config


def run_in(repo: Path, workdir: Path, config: dict, *targets: str) -> subprocess.CompletedProcess:
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return snakemake(repo, workdir, *targets)


@pytest.mark.slow
def test_tiny_demo_end_to_end_is_complete_idempotent_and_deterministic(repo, tmp_path):
    config = tiny_config(repo)
    first, second = tmp_path / "first", tmp_path / "second"
    run_in(repo, first, config, *EMI_TARGETS)

    table3 = pd.read_csv(first / "results/table3.csv")
    assert table3["Features"].tolist() == ["ViT+Wav2Vec2.0(baseline)", "ViT+Wav2Vec2.0(ours)", "ResNet18+Wav2Vec2.0", "AUs+Wav2Vec2.0", "ResNet18+AUs+Wav2Vec2.0"]
    assert table3["rho_ours"].isna().tolist() == [True, False, False, False, False]
    assert (table3["rho_delta"].dropna() == (table3["rho_ours"] - table3["rho_paper"]).dropna().round(4)).all()
    table1 = pd.read_csv(first / "results/table1.csv")
    assert table1["Samples_ours"].tolist() == [6, 6, 2, 14]
    assert table1["Samples_paper"].tolist() == [8072, 4588, 4586, 17246]
    table2 = pd.read_csv(first / "results/emi/table2.csv")
    assert table2["rho_ours"].notna().sum() == 5
    submission = pd.read_csv(first / "results/emi/submission_test.csv")
    assert len(submission) == 2 and submission.columns[0] == "Filename"
    provenance = yaml.safe_load((first / "results/table3.json").read_text())["provenance"]
    assert provenance["dataset"]["kind"] == "demo" and provenance["seeds"] == [0, 1]
    assert provenance["extractors"]["resnet18"]["weights"].startswith("random-init")
    assert "Nothing to be done" in snakemake(repo, first, *EMI_TARGETS, dry_run=True).stdout

    # The planted faults reached the pipeline: frames without a face were dropped, the silent track flagged.
    planted = json.loads((first / "work/data/hume_vidmimic2/planted.json").read_text())["samples"]
    faces = {k: v for m in sorted(first.glob("work/emi/faces/shard*.json")) for k, v in json.loads(m.read_text())["samples"].items()}
    audio = {k: v for m in sorted(first.glob("work/emi/audio/shard*.json")) for k, v in json.loads(m.read_text())["samples"].items()}
    faceless = [k for k, v in planted.items() if v["faceless_frames"]]
    silent = [k for k, v in planted.items() if v["silent_audio"]]
    assert faceless and silent
    for key in faceless:
        assert faces[key]["n_faces"] < faces[key]["n_frames"]
    assert sorted(k for k, v in audio.items() if v["silent"]) == sorted(silent)
    assert all(v["n_faces"] >= 0.95 * v["n_frames"] for k, v in faces.items() if k not in faceless)

    run_in(repo, second, config, *EMI_TARGETS)
    for table in TABLES:
        for ext in ("csv", "json"):
            assert (first / f"results/{table}.{ext}").read_bytes() == (second / f"results/{table}.{ext}").read_bytes(), f"{table}.{ext} differs"


def tiny_va_config(repo: Path) -> dict:
    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["demo"]["affwild2"].update(n_train=6, n_valid=2, n_test=0, duration_s=[12.0, 16.0], trials_with_missing_crops=2, trials_with_ignored_rows=2)
    config["demo"]["overrides"]["va"]["train"].update(epochs=8, window=32, hop=16, eval_hop=16)
    return config


@pytest.mark.slow
def test_tiny_va_demo_six_folds_deterministic(repo, tmp_path):
    config = tiny_va_config(repo)
    targets = [f"results/va/table{n}.{ext}" for n in (1, 2) for ext in ("csv", "json")]
    first, second = tmp_path / "first", tmp_path / "second"
    run_in(repo, first, config, *targets)
    table2 = pd.read_csv(first / "results/va/table2.csv")
    assert table2["Val Set"].tolist() == [f"fold-{k}" for k in range(6)] + ["mean"]
    assert table2[["Valence_ours", "Arousal_ours", "P_ours"]].notna().all().all()
    assert table2["Valence_paper"].iloc[:6].tolist() == [0.5121, 0.5789, 0.5547, 0.5743, 0.5971, 0.6123]
    assert table2["P_ours"].iloc[6] > 0.2  # the planted signal is recovered even on this tiny budget
    table1 = pd.read_csv(first / "results/va/table1.csv")
    assert table1["Dimension_ours"].tolist() == [128, 39, 512]
    folds = json.loads((first / "work/va/folds.json").read_text())
    assert folds["assignment"]["pair-video_left"] == folds["assignment"]["pair-video_right"]
    assert sorted(folds["assignment"]) == sorted(f"demo-{i:03d}" for i in range(6)) + ["pair-video_left", "pair-video_right"]
    # The planted faults reached the pipeline: -5 rows shortened trials, missing crops were filled.
    planted = json.loads((first / "work/data/affwild2/planted.json").read_text())["trials"]
    prepared = {k: v for m in sorted(first.glob("work/va/prepare/shard*.json")) for k, v in json.loads(m.read_text())["trials"].items()}
    for name, info in planted.items():
        assert prepared[name]["ignored_rows"] == info["ignored_rows"]
        assert prepared[name]["length"] == info["n_frames"] - info["ignored_rows"]
        assert prepared[name]["missing_crops"] <= info["missing_crops"]
    assert sum(v["missing_crops"] for v in prepared.values()) > 0
    provenance = json.loads((first / "results/va/table2.json").read_text())["provenance"]
    assert provenance["dataset"]["kind"] == "demo" and provenance["folds"]["n"] == 6

    run_in(repo, second, config, *targets)
    for target in targets:
        assert (first / target).read_bytes() == (second / target).read_bytes(), f"{target} differs"


def tiny_ecan_config(repo: Path) -> dict:
    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["demo"]["rafdb"].update(n_train=120, n_test=60, min_per_class=6)
    config["demo"]["fer2013"].update(n_train=100, n_public_test=50, n_private_test=50, min_per_class=5)
    ecan = config["demo"]["overrides"]["ecan"]
    ecan["train"].update(batch_size=32)
    ecan["rafdb"].update(epochs=1, input_size=32)
    ecan["fer2013"] = {"epochs": 1, "input_size": 32}
    ecan["experiments"] = {"figure3": {"dataset": "rafdb", "lambda1": [0.2], "lambda2": [0.7]}, "figure4": {"dataset": "rafdb", "V": [5]}}
    return config


@pytest.mark.slow
def test_tiny_ecan_demo_tables_and_figures(repo, tmp_path):
    config = tiny_ecan_config(repo)
    run_in(repo, tmp_path / "ecan", config, "ecan_tables")
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


@pytest.mark.slow
def test_headline_demo_fusion_beats_each_modality(repo, tmp_path):
    """The default demo (what `make reproduce` runs): fused ResNet18+AUs+Wav2Vec2 beats its unimodal rows."""
    config = yaml.safe_load((repo / "config.yaml").read_text())
    run_in(repo, tmp_path / "demo", copy.deepcopy(config), "results/table3.csv", "results/table2.csv")
    table2 = pd.read_csv(tmp_path / "demo/results/table2.csv").set_index("Features")
    table3 = pd.read_csv(tmp_path / "demo/results/table3.csv").set_index("Features")
    fused = table3.loc["ResNet18+AUs+Wav2Vec2.0", "rho_ours"]
    assert fused > table2.loc["ResNet18+AUs", "rho_ours"]
    assert fused > table2.loc["Wav2Vec2.0(ours)", "rho_ours"]


def test_dvc_lists_the_table_numbers(repo):
    if not (repo / ".git").exists():
        pytest.skip("dvc metrics needs the git checkout")
    proc = subprocess.run([sys.executable, "-m", "dvc", "metrics", "show", "--json"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)
    data = next(iter(metrics.values()))["data"]
    table3 = data["results/emi/table3.json"]["data"]["rows"]
    assert table3["V+A | ResNet18+AUs+Wav2Vec2.0"]["rho_paper"] == 0.3288
    assert "rho_ours" in table3["V+A | ResNet18+AUs+Wav2Vec2.0"]
    assert "rho_ours" in data["results/emi/table2.json"]["data"]["rows"]["ResNet18+AUs | V"]
    va = data["results/va/table2.json"]["data"]["rows"]
    assert va["fold-0"]["Valence_paper"] == 0.5121 and "P_ours" in va["fold-5"] and "P_std" in va["mean"]
    ecan = data["results/ecan/table3.json"]["data"]["rows"]
    assert ecan["MVA + ENSC"]["Accuracy_paper"] == 89.77 and "Avg_Accuracy_ours" in ecan["Cross-Entropy"]
