"""ECAN workflow plumbing: which runs the tables need, how runs are summarised, reduced budgets."""

import json

import numpy as np
import pytest

import helpers
from affrepro.config import effective_config, validate_config
from affrepro.demo.expressions import write_fer2013
from affrepro.ecan import aggregate, plan, report
from affrepro.ecan.aggregate import nest, summarise
from affrepro.ecan.prepare import load_splits
from affrepro.ecan.stats import augmentation_flags


@pytest.fixture
def config():
    config = helpers.repo_config()
    validate_config(config)
    return effective_config(config, "ecan")


def test_experiments_vary_one_thing_from_the_defaults_and_share_runs(config):
    experiments = plan.experiments(config)
    ecan_rafdb = plan.run_id(experiments["table3/ensc+mva"][0])
    assert ecan_rafdb == "rafdb-strong-ensc+mva-l1_0.2-l2_0.7-V5-s0"
    # the same run fills Table 2 (strong), Table 3, Table 4, Figure 3 at the defaults, Figure 4 at V = 5 and Figure 7
    for name in ("table2/rafdb/strong/ensc+mva", "table4/ecan", "figure3/lambda1/0.2", "figure3/lambda2/0.7", "figure4/V/5", "figure7/rafdb/ecan"):
        assert plan.run_id(experiments[name][0]) == ecan_rafdb
    assert plan.run_id(experiments["figure3/lambda1/0.4"][0]) == "rafdb-strong-ensc+mva-l1_0.4-l2_0.7-V5-s0"
    assert plan.run_id(experiments["table5/baseline"][0]) == "fer2013-strong-ce-l1_0.2-l2_0.7-V5-s0"
    runs = plan.runs(config)
    assert len(runs) == len(set(runs)) == 22  # 12 (Table 2) + 3 (Table 3) + 4 (Figure 3) + 3 (Figure 4) with the demo sweeps
    assert sorted(plan.group_runs(config, "table3")) == sorted(["ce", "center", "supcon", "ensc", "ensc+mva"])
    # Figure 3's two sweeps meet at the defaults: that run is one input, not two
    figure3 = plan.group_run_ids(config, "figure3")
    assert len(figure3) == len(set(figure3)) == 5 and figure3.count(ecan_rafdb) == 1


def test_spec_fills_the_defaults_and_names_unknown_keys(config):
    assert plan.spec(config, dataset="rafdb") == {"dataset": "rafdb", "augment": "strong", "losses": "ensc+mva", "lambda1": 0.2, "lambda2": 0.7, "V": 5, "seed": 0}
    with pytest.raises(ValueError, match="lamda1"):
        plan.spec(config, dataset="rafdb", lamda1=0.3)
    with pytest.raises(ValueError, match="needs a dataset"):
        plan.spec(config, losses="ce")


def _metrics(run_id, accuracy):
    scores = {"accuracy": accuracy, "mean_class_accuracy": accuracy / 2, "macro_f1": accuracy / 4}
    return {"run_id": run_id, "best_epoch": 1, "test": scores, "val": scores, "test_confusion_matrix": [[1, 0], [0, 1]]}


def test_aggregate_matches_metrics_files_to_experiments_by_the_run_id_inside(config, tmp_path):
    runs = plan.group_runs(config, "table3")
    accuracy = {"ce": 0.5, "center": 0.6, "supcon": 0.7, "ensc": 0.8, "ensc+mva": 0.9}
    files = []
    for i, name in enumerate(reversed(sorted(runs))):  # file names say nothing and their order is not the plan's
        files.append(tmp_path / f"m{i}.json")
        files[-1].write_text(json.dumps(_metrics(runs[name][0], accuracy[name])))
    table3 = aggregate.aggregate(config, "table3", files)
    assert {name: row["accuracy_pct"] for name, row in table3.items()} == pytest.approx({name: 100 * a for name, a in accuracy.items()})
    assert table3["ensc"]["runs"] == ["rafdb-strong-ensc-l1_0.2-l2_0.7-V5-s0"]
    with pytest.raises(ValueError, match="center: no metrics file among the inputs holds run"):
        aggregate.aggregate(config, "table3", files[:3] + files[4:])  # files[3] holds the center run


def test_summary_in_paper_units_and_std_over_seeds():
    results = [
        {"run_id": "a", "best_epoch": 3, "test": {"accuracy": 0.8, "mean_class_accuracy": 0.6, "macro_f1": 0.5}, "val": {"accuracy": 0.7, "mean_class_accuracy": 0.5, "macro_f1": 0.4}, "test_confusion_matrix": [[2, 1], [0, 3]]},
        {"run_id": "b", "best_epoch": 4, "test": {"accuracy": 0.9, "mean_class_accuracy": 0.7, "macro_f1": 0.6}, "val": {"accuracy": 0.8, "mean_class_accuracy": 0.6, "macro_f1": 0.5}, "test_confusion_matrix": [[1, 0], [1, 4]]},
    ]
    summary = summarise(results)
    assert summary["accuracy_pct"] == pytest.approx(85.0) and summary["accuracy_pct_std"] == pytest.approx(np.std([80, 90], ddof=1))
    assert summary["macro_f1"] == pytest.approx(0.55) and summary["val_mean_class_accuracy_pct"] == pytest.approx(55.0)
    assert summary["test_confusion_matrix"] == [[3, 1], [1, 7]]
    assert summarise(results[:1])["accuracy_pct_std"] is None
    assert nest({"rafdb/strong/ce": 1, "rafdb/none/ce": 2}) == {"rafdb": {"strong": {"ce": 1}, "none": {"ce": 2}}}


def test_table1_flags_follow_the_config(config):
    flags = augmentation_flags(config)
    assert flags["FiveCrop"] == {"rafdb_none": 0, "rafdb_weak": 0, "rafdb_strong": 0, "fer2013_none": 0, "fer2013_weak": 0, "fer2013_strong": 1}
    config["ecan"]["augment"]["rafdb"]["levels"]["weak"] = ["horizontal_flip"]
    assert augmentation_flags(config)["RandomErasing"]["rafdb_weak"] == 0


def test_max_train_is_a_class_stratified_subset(config, tmp_path):
    params = dict(config["demo"]["fer2013"], n_train=140, n_public_test=35, n_private_test=35, min_per_class=5)
    path = tmp_path / "fer2013.csv.gz"
    write_fer2013(path, params)
    ecan = config["ecan"]
    full, val, test = load_splits("fer2013", str(path), ecan)
    ecan["fer2013"]["max_train"] = 70
    half, val2, test2 = load_splits("fer2013", str(path), ecan)
    assert len(half[1]) == pytest.approx(70, abs=4)
    assert np.array_equal(val[1], val2[1]) and np.array_equal(test[1], test2[1])  # only training is reduced
    full_share = np.bincount(full[1], minlength=7) / len(full[1])
    half_share = np.bincount(half[1], minlength=7) / len(half[1])
    assert np.abs(full_share - half_share).max() < 0.05
    assert np.array_equal(half[1], load_splits("fer2013", str(path), ecan)[0][1])  # deterministic


def test_rows_say_which_data_are_real(config):
    profile_note = report.profile_note
    assert profile_note(config) == "ours: RAF-DB demo, FER2013 demo; demo budget (see provenance)"
    raw = helpers.repo_config()
    raw["datasets"]["fer2013"]["path"] = "fer2013.csv.gz"
    assert profile_note(effective_config(raw, "ecan")) == "ours: RAF-DB demo, FER2013 real; demo budget (see provenance)"
    raw["datasets"]["rafdb"]["root"] = "rafdb"
    raw["ecan"]["rafdb"]["weights"] = "random"
    assert profile_note(effective_config(raw, "ecan")) == ""  # real data, the paper's budget
    raw["ecan"]["fer2013"]["max_train"] = 3000
    assert profile_note(effective_config(raw, "ecan")) == "ours: RAF-DB real, FER2013 real; reduced budget (see provenance)"


def test_the_papers_budget_comes_from_papers_yaml(config):
    assert report.paper_budget() == {"rafdb": {"epochs": 40, "input_size": 224}, "fer2013": {"epochs": 200, "input_size": 48}, "batch_size": 256, "lr": 0.1}
    assert report.budget(config)["paper"] == report.paper_budget() and report.budget(config)["reduced"]
