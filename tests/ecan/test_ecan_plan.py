"""ECAN workflow plumbing: which runs the tables need, how runs are summarised, reduced budgets."""

import json
import re

import helpers
import numpy as np
import pytest
import yaml

from affrepro import jobconfig
from affrepro.config.resolve import effective_config
from affrepro.config.schema import validate_config
from affrepro.demo.expressions import write_fer2013
from affrepro.ecan import aggregate, plan
from affrepro.ecan import provenance as ecan_provenance
from affrepro.ecan.aggregate import nest, summarise
from affrepro.ecan.prepare import load_splits
from affrepro.ecan.stats import augmentation_flags
from affrepro.papers import load_paper
from affrepro.tables import build_rows


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
    for name in (
        "table2/rafdb/strong/ensc+mva",
        "table4/ecan",
        "figure3/lambda1/0.2",
        "figure3/lambda2/0.7",
        "figure4/V/5",
        "figure7/rafdb/ecan",
    ):
        assert plan.run_id(experiments[name][0]) == ecan_rafdb
    assert plan.run_id(experiments["figure3/lambda1/0.4"][0]) == "rafdb-strong-ensc+mva-l1_0.4-l2_0.7-V5-s0"
    assert plan.run_id(experiments["table5/baseline"][0]) == "fer2013-strong-ce-l1_0.2-l2_0.7-V5-s0"
    runs = plan.runs(config)
    # 12 (Table 2) + 3 (Table 3) + 4 (Figure 3) + 3 (Figure 4) with the demo sweeps, each for the demo's 3 seeds
    assert len(runs) == len(set(runs)) == 22 * 3 and {spec["seed"] for spec in runs.values()} == {0, 1, 2}
    # one training job per setting, its seeds in `ecan.seeds` order
    jobs = plan.setting_runs(config)
    assert len(jobs) == 22 and sum(map(len, jobs.values())) == 66
    assert jobs["rafdb-strong-ensc+mva-l1_0.2-l2_0.7-V5"] == [
        f"rafdb-strong-ensc+mva-l1_0.2-l2_0.7-V5-s{s}" for s in (0, 1, 2)
    ]
    assert sorted(plan.group_runs(config, "table3")) == sorted(["ce", "center", "supcon", "ensc", "ensc+mva"])
    # Figure 3's two sweeps meet at the defaults: that run is one input, not two
    figure3 = plan.group_run_ids(config, "figure3")
    assert len(figure3) == len(set(figure3)) == 5 * 3 and figure3.count(ecan_rafdb) == 1


def test_spec_fills_the_defaults_and_names_unknown_keys(config):
    assert plan.spec(config, dataset="rafdb") == {
        "dataset": "rafdb",
        "augment": "strong",
        "losses": "ensc+mva",
        "lambda1": 0.2,
        "lambda2": 0.7,
        "V": 5,
        "seed": 0,
    }
    with pytest.raises(ValueError, match="lamda1"):
        plan.spec(config, dataset="rafdb", lamda1=0.3)
    with pytest.raises(ValueError, match="needs a dataset"):
        plan.spec(config, losses="ce")


def test_the_bank_must_hold_v_minus_1_groups_for_every_planned_v():
    """K (ecan.model.bank_groups) is checked at start-up against the largest V planned, Figure 4's sweep included, paper and demo settings alike."""
    raw = helpers.repo_config()
    # K = 7 serves the paper's V = 1..8 and the demo's V = 1, 3, 5, 7
    assert plan.largest_V(raw) == (8, "figure4/V/8") and plan.bank_problems(raw) == []
    raw["ecan"]["model"]["bank_groups"] = 6  # enough for the demo sweep (V <= 7), not for the paper's (V = 8)
    [problem] = plan.bank_problems(raw)
    assert re.search(
        r"ecan.model.bank_groups = 6 .* less than V - 1 = 7 .*V = 8: figure4/V/8, from ecan.experiments.figure4.V",
        problem,
    )
    assert "on demo data" not in problem
    raw["ecan"]["model"]["bank_groups"] = 7
    raw["demo"]["overrides"]["ecan"]["experiments"]["figure4"]["V"] = [1, 9]
    assert plan.bank_problems(raw) == [
        "on demo data (demo.overrides.ecan applied): ecan.model.bank_groups = 7 (K, the memory bank's groups, Eq. 2) "
        "is less than V - 1 = 8 for the largest V the config plans (V = 9: figure4/V/9, from ecan.experiments.figure4.V); "
        "the MVA loss reads the V - 1 newest bank groups: set ecan.model.bank_groups >= 8"
    ]
    raw["demo"]["overrides"]["ecan"]["experiments"]["figure4"]["V"] = [1, 3]
    raw["ecan"]["defaults"]["V"] = 9  # every run's V, not only Figure 4's
    assert [p.split(" (V = ")[1].split(")")[0] for p in plan.bank_problems(raw)] == [
        "9: table2/rafdb/none/ce, from ecan.defaults.V"
    ]


def _metrics(run_id, accuracy, substitutes=()):
    scores = {"accuracy": accuracy, "mean_class_accuracy": accuracy / 2, "macro_f1": accuracy / 4}
    return {
        "run_id": run_id,
        "substitutes": list(substitutes),
        "best_epoch": 1,
        "test": scores,
        "val": scores,
        "test_confusion_matrix": [[1, 0], [0, 1]],
    }


def test_aggregate_matches_metrics_files_to_experiments_by_the_run_id_inside(config, tmp_path):
    config["ecan"]["seeds"] = [0]  # one metrics file per row
    runs = plan.group_runs(config, "table3")
    accuracy = {"ce": 0.5, "center": 0.6, "supcon": 0.7, "ensc": 0.8, "ensc+mva": 0.9}
    files = []
    for i, name in enumerate(reversed(sorted(runs))):  # file names say nothing and their order is not the plan's
        files.append(tmp_path / f"m{i}.json")
        files[-1].write_text(json.dumps(_metrics(runs[name][0], accuracy[name])))
    table3 = aggregate.aggregate(config, "table3", files)
    assert table3.pop("substitutes") == []
    table3.pop("environments", None)  # where the runs trained (none recorded in these files)
    assert {name: row["accuracy_pct"] for name, row in table3.items()} == pytest.approx(
        {name: 100 * a for name, a in accuracy.items()}
    )
    assert table3["ensc"]["runs"] == ["rafdb-strong-ensc-l1_0.2-l2_0.7-V5-s0"]
    with pytest.raises(ValueError, match="center: no metrics file among the inputs holds run"):
        aggregate.aggregate(config, "table3", files[:3] + files[4:])  # files[3] holds the center run


RANDOM_ENCODER = (
    "ecan.rafdb.weights is `random`: ResNet-18 trains from random init instead of the paper's MS-Celeb-1M pretraining"
)


def _group_files(config, group, tmp_path, substitutes):
    """One metrics file per run of the group; `substitutes(run_id)` says what each ran with."""
    files = []
    for i, run_id in enumerate(plan.group_run_ids(config, group)):
        files.append(tmp_path / f"{group}-{i}.json")
        files[-1].write_text(json.dumps(_metrics(run_id, 0.5, substitutes(run_id))))
    return files


def test_aggregate_carries_the_runs_substitutes_to_the_rows_that_read_them(config, tmp_path):
    """Each experiment lists its runs' substitutes, the group file their union at the top level, where affrepro.tables reads a row's."""

    def rafdb_only(run_id):  # the random encoder is a substitute on RAF-DB only; "x" stands for one every run shares
        return [RANDOM_ENCODER, "x"] if run_id.startswith("rafdb-") else ["x"]

    table2 = aggregate.aggregate(config, "table2", _group_files(config, "table2", tmp_path, rafdb_only))
    assert table2["rafdb"]["strong"]["ce"]["substitutes"] == [RANDOM_ENCODER, "x"] and table2["fer2013"]["strong"][
        "ce"
    ]["substitutes"] == ["x"]
    assert table2["substitutes"] == [
        RANDOM_ENCODER,
        "x",
    ]  # deduplicated, in first-seen order: every Table 2 row has RAF-DB cells
    out = tmp_path / "work/ecan/experiments/table3.json"
    out.parent.mkdir(parents=True)
    out.write_text(
        json.dumps(
            aggregate.aggregate(
                config, "table3", _group_files(config, "table3", tmp_path, lambda run_id: [RANDOM_ENCODER])
            )
        )
    )
    _, rows = build_rows(load_paper("ecan"), "table3", root=tmp_path)
    assert [row["note"] for row in rows] == [f"substitute: {RANDOM_ENCODER}"] * 5
    (tmp_path / "old.json").write_text(
        json.dumps({"run_id": "r"})
    )  # a run file from before runs named their substitutes
    with pytest.raises(ValueError, match="no substitutes; it was written by an older affrepro.ecan.train"):
        aggregate.by_run_id([tmp_path / "old.json"])


def test_summary_in_paper_units_and_std_over_seeds():
    results = [
        {
            "run_id": "a",
            "substitutes": ["s1"],
            "best_epoch": 3,
            "test": {"accuracy": 0.8, "mean_class_accuracy": 0.6, "macro_f1": 0.5},
            "val": {"accuracy": 0.7, "mean_class_accuracy": 0.5, "macro_f1": 0.4},
            "test_confusion_matrix": [[2, 1], [0, 3]],
        },
        {
            "run_id": "b",
            "substitutes": ["s2", "s1"],
            "best_epoch": 4,
            "test": {"accuracy": 0.9, "mean_class_accuracy": 0.7, "macro_f1": 0.6},
            "val": {"accuracy": 0.8, "mean_class_accuracy": 0.6, "macro_f1": 0.5},
            "test_confusion_matrix": [[1, 0], [1, 4]],
        },
    ]
    summary = summarise(results)
    assert summary["accuracy_pct"] == pytest.approx(85.0) and summary["accuracy_pct_std"] == pytest.approx(
        np.std([80, 90], ddof=1)
    )
    assert summary["macro_f1"] == pytest.approx(0.55) and summary["val_mean_class_accuracy_pct"] == pytest.approx(55.0)
    assert summary["test_confusion_matrix"] == [[3, 1], [1, 7]]
    assert summary["substitutes"] == ["s1", "s2"]  # the union over the seeds' runs
    assert summarise(results[:1])["accuracy_pct_std"] is None
    assert nest({"rafdb/strong/ce": 1, "rafdb/none/ce": 2}) == {"rafdb": {"strong": {"ce": 1}, "none": {"ce": 2}}}


def test_table1_flags_follow_the_config(config):
    flags = augmentation_flags(config["ecan"]["augment"])
    assert flags["FiveCrop"] == {
        "rafdb_none": 0,
        "rafdb_weak": 0,
        "rafdb_strong": 0,
        "fer2013_none": 0,
        "fer2013_weak": 0,
        "fer2013_strong": 1,
    }
    config["ecan"]["augment"]["rafdb"]["levels"]["weak"] = ["horizontal_flip"]
    assert augmentation_flags(config["ecan"]["augment"])["RandomErasing"]["rafdb_weak"] == 0


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
    profile_note = ecan_provenance.profile_note
    assert profile_note(config) == "ours: RAF-DB demo, FER2013 demo; demo budget (see provenance)"
    raw = helpers.repo_config()
    raw["datasets"]["fer2013"]["path"] = "fer2013.csv.gz"
    # Mixed: the demo overrides reach the demo RAF-DB only; FER2013 keeps the paper's settings (issue 13).
    assert (
        profile_note(effective_config(raw, "ecan"))
        == "ours: RAF-DB demo, FER2013 real; demo budget for RAF-DB, paper budget for the real data (see provenance)"
    )
    raw["datasets"]["rafdb"]["root"] = "rafdb"
    raw["ecan"]["rafdb"]["weights"] = "random"
    # real data at the paper's settings: RAF-DB still trains on 90% of its training split (the hold-out that
    # selects the epoch), which the budget records and the note calls reduced
    reduced = "ours: RAF-DB real, FER2013 real; reduced budget (see provenance)"
    assert profile_note(effective_config(raw, "ecan")) == reduced
    assert ecan_provenance.budget(effective_config(raw, "ecan"))["differs"] == {
        "rafdb": ["train_subset all, less a 0.1 stratified hold-out that selects the epoch (paper all)"]
    }
    raw["datasets"]["rafdb"]["root"] = None  # FER2013 alone at the paper's budget: no note on its rows' account
    assert "paper budget for the real data" in profile_note(effective_config(raw, "ecan"))


def test_the_papers_budget_comes_from_papers_yaml(config):
    paper = ecan_provenance.paper_budget()
    assert {d: (paper[d]["epochs"], paper[d]["input_size"]) for d in paper} == {
        "rafdb": (40, 224),
        "fer2013": (200, 48),
    }
    assert {paper[d]["batch_size"] for d in paper} == {256} and {paper[d]["lr"] for d in paper} == {0.1}
    demo = ecan_provenance.budget(config)
    assert demo["paper"] == paper and demo["reduced"]  # the demo's budget
    assert demo["used"]["fer2013"] | {"epochs": 200, "batch_size": 256, "lr": 0.1} == paper["fer2013"]
    raw = helpers.repo_config()
    raw["datasets"]["fer2013"]["path"] = "fer2013.csv.gz"
    raw["ecan"]["fer2013"]["epochs"] = 10
    real = ecan_provenance.budget(effective_config(raw, "ecan"))
    assert real["differs"]["fer2013"] == ["epochs 10 (paper 200)"] and real["reduced"]  # RAF-DB is the demo here


def test_snakemake_stops_at_startup_when_the_bank_is_too_small(tmp_path):
    raw = helpers.repo_config()
    raw["ecan"]["model"]["bank_groups"] = 6
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw))
    proc = helpers.snakemake_run(tmp_path, "-n", "ecan_tables")
    assert proc.returncode != 0 and "ecan.model.bank_groups = 6" in proc.stdout + proc.stderr


def test_real_rafdb_with_demo_fer2013_keeps_every_setting_the_user_gave(tmp_path):
    """Issue 13: on real RAF-DB with FER2013 left as the demo, the demo overrides reach FER2013 only.

    The user's RAF-DB epochs, precision and checkpoint stay, the run says so at start-up, and the
    real-data weights check still runs (a missing checkpoint stops start-up, naming the key).
    """
    rafdb = helpers.write_rafdb(tmp_path / "rafdb", helpers.rafdb_entries())
    (tmp_path / "r18.pth").write_bytes(b"a checkpoint")
    raw = helpers.repo_config()
    raw["datasets"]["rafdb"]["root"] = str(rafdb)
    raw["ecan"]["rafdb"] |= {"epochs": 1, "weights": str(tmp_path / "r18.pth")}
    raw["compute"]["precision"] = "fp32"
    resolved = effective_config(raw, "ecan")
    assert resolved["profile"] == "mixed"
    assert resolved["ecan"]["rafdb"] == raw["ecan"]["rafdb"]  # epochs 1, input 224, the checkpoint path: as given
    assert (
        resolved["compute"] == raw["compute"]
        and resolved["ecan"]["train"] == raw["ecan"]["train"]
        and resolved["ecan"]["model"] == raw["ecan"]["model"]
    )
    assert resolved["ecan"]["experiments"] == raw["ecan"]["experiments"]
    assert (
        resolved["ecan"]["fer2013"]["epochs"] == raw["demo"]["overrides"]["ecan"]["fer2013"]["epochs"] == 3
    )  # the demo dataset's own override
    rafdb_setting = next(setting for setting in plan.setting_runs(resolved) if setting.startswith("rafdb-"))
    _, job_view = jobconfig.view_file("ecan", "ecan.train", resolved, setting=rafdb_setting)  # what the job reads
    assert job_view["ecan"]["rafdb"]["epochs"] == 1 and job_view["compute"] == {"device": "auto", "precision": "fp32"}
    assert "fer2013" not in job_view["ecan"] and "fer2013" not in job_view["datasets"]
    assert (
        ecan_provenance.profile_note(resolved)
        == "ours: RAF-DB real, FER2013 demo; demo budget for FER2013, reduced budget for the real data (see provenance)"
    )

    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(raw))
    proc = helpers.snakemake(workdir, "results/ecan/table4.csv", dry_run=True)
    assert "Demo overrides applied to the demo data only: ecan.fer2013.epochs 200 -> 3" in proc.stderr
    assert "compute.precision = fp32" in proc.stderr and "ecan.rafdb.epochs = 1" in proc.stderr  # said, not replaced
    raw["ecan"]["rafdb"]["weights"] = str(tmp_path / "missing.pth")
    (workdir / "config.yaml").write_text(yaml.safe_dump(raw))
    proc = helpers.snakemake_run(workdir, "-n", "results/ecan/table4.csv")
    assert (
        proc.returncode != 0
        and f"ecan.rafdb.weights: {tmp_path / 'missing.pth'} does not exist" in proc.stdout + proc.stderr
    )
