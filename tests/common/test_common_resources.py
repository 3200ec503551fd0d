"""What jobs ask the scheduler for: every rule declares threads, mem_mb and runtime, the figures are
affrepro.resources' models, and a job's torch threads are the rule's {threads}."""

import copy
import re

import pytest
import yaml
from helpers import REPO, repo_config, snakemake

from affrepro import jobs, resources
from affrepro.config.resolve import effective_config
from affrepro.ecan import costs as ecan_costs
from affrepro.emi import costs as emi_costs
from affrepro.emi import plan as emi_plan
from affrepro.va import costs as va_costs
from affrepro.va import plan as va_plan

RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))
# Jobs of seconds run where Snakemake runs (the login node under SLURM), not as cluster jobs.
LOCAL_RULES = {
    "emi_demo_data",
    "emi_aggregate",
    "emi_submission",
    "emi_headline_table",
    "paper_table",
    "paper_curves",
    "paper_claims",
    "va_demo_data",
    "va_folds",
    "va_aggregate",
    "ecan_demo",
    "ecan_aggregate",
    "ecan_stats",
    "ecan_figure",
    "report_table",
    "paper_verdicts",
    "verdicts",
}


def rule_blocks() -> dict[str, str]:
    """rule name -> its text, for every rule with a command in workflow/rules/ (the demo generators' loop: `ecan_demo`)."""
    blocks = {}
    for path in RULE_FILES:
        parts = re.split(r"\n\s*rule(?: (\w+))?:\n", path.read_text())
        for name, body in zip(parts[1::2], parts[2::2]):
            body = re.split(r"\n(?=\S)", body, maxsplit=1)[0]  # up to the next top-level statement
            name = name or re.search(r'f"(\w+?)_\{', body).group(1)
            if "shell:" in body:
                blocks[name] = body
    return blocks


def test_every_rule_with_a_command_declares_threads_memory_and_runtime():
    blocks = rule_blocks()
    assert {
        "emi_prepare",
        "emi_features",
        "emi_train",
        "va_train_fold",
        "ecan_train",
        "paper_table",
        "ecan_demo",
    } <= set(blocks)
    for name, body in blocks.items():
        assert "threads: 1" in body, name
        assert "runtime=" in body, name
        assert "mem_mb=" in body, name
        assert ("localrule: True" in body) == (name in LOCAL_RULES), name


def test_jobs_take_their_torch_threads_from_the_rule(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(repo_config()))
    config, _ = jobs.parse("doc", "emi", ["--config", str(tmp_path / "config.yaml"), "--threads", "3"])
    assert config["compute"]["threads"] == 3
    config, _ = jobs.parse("doc", "emi", ["--config", str(tmp_path / "config.yaml")])
    assert config["compute"]["threads"] == repo_config()["compute"]["threads"]  # outside Snakemake: compute.threads


def test_memory_and_runtime_models():
    assert resources.mem_mb(865) == 1100  # x 1.2, rounded up to 100 MB
    assert resources.runtime(1) == resources.MIN_RUNTIME
    assert resources.runtime(3600) == 3 * 60
    assert resources.with_slurm_wrappers(1100, on_cluster=True) == 1500
    assert resources.with_slurm_wrappers(1100, on_cluster=False) == 1100
    demo = effective_config(repo_config(), "emi")
    real = repo_config()
    real["datasets"]["hume_vidmimic2"]["root"] = "/data/hume"
    real = effective_config(real, "emi")
    # per-sample jobs: the demo's models and the paper's are measured apart; time grows with the shard
    assert resources.per_frame_mem_mb("emi.features:wav2vec2", demo) == resources.mem_mb(995)
    assert resources.per_frame_mem_mb("emi.features:wav2vec2", real) == resources.mem_mb(1611)
    assert resources.frames_per_item(demo, "emi") == pytest.approx(1.6 * 30)
    dino = resources.PER_FRAME["emi.features:dino"]["paper"].cpu_s
    assert resources.per_frame_runtime("emi.features:dino", real, 2000) == resources.runtime(
        dino * 2000 * emi_costs.HUME_FRAMES_PER_CLIP
    )


def test_ecan_memory_grows_with_batch_pixels_and_images():
    demo = effective_config(repo_config(), "ecan")
    spec = {"dataset": "rafdb"}
    batch_mb = ecan_costs.MB_PER_BATCH_PIXEL * 32 * 48**2
    images_mb = 2 * 3 * 48**2 * (500 + 200) / 2**20
    assert ecan_costs.train_mem_mb(demo, spec) == resources.mem_mb(ecan_costs.BASE_MB + batch_mb + images_mb)
    # the measured points the model was fitted to: 1,126 MB at 48 px / batch 32, 1,877 MB at 112 px / batch 64
    assert ecan_costs.BASE_MB + batch_mb == pytest.approx(1126, abs=5)
    assert ecan_costs.BASE_MB + ecan_costs.MB_PER_BATCH_PIXEL * 64 * 112**2 == pytest.approx(1877, abs=5)
    capped = effective_config(repo_config(), "ecan")
    capped["ecan"]["rafdb"]["max_train"] = 100
    assert ecan_costs.train_runtime(capped, spec) <= ecan_costs.train_runtime(demo, spec)
    large = effective_config(repo_config(), "ecan")
    large["demo"]["rafdb"]["n_train"] = 100_000  # past the minimum runtime
    one_seed = copy.deepcopy(large)
    one_seed["ecan"]["seeds"] = [0]
    per_run = ecan_costs.CPU_S_PER_IMAGE_EPOCH_48PX * 100_000 * 3  # 3 demo epochs at 48 px
    assert len(large["ecan"]["seeds"]) == 3  # a job trains every seed of its setting
    assert ecan_costs.train_runtime(large, spec) == resources.runtime(3 * per_run) > resources.runtime(per_run)
    assert ecan_costs.train_runtime(one_seed, spec) == resources.runtime(per_run)


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> list[dict]:
    """Every job of `all` on the demo as the dry run prints it: rule, wildcards and resources."""
    workdir = tmp_path_factory.mktemp("resources")
    (workdir / "config.yaml").write_text(yaml.safe_dump(repo_config()))
    out = snakemake(workdir, "all", dry_run=True).stdout
    found = []
    for block in re.split(r"\n(?=\[)", out):  # each job starts with its [date] line
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        res = re.search(r"resources: (.*)", block)
        if rule and res:
            wildcards = re.search(r"wildcards: (.*)", block)
            found.append(
                {
                    "rule": rule.group(1),
                    "wildcards": dict(kv.split("=", 1) for kv in wildcards.group(1).split(", ")) if wildcards else {},
                    "resources": dict(kv.split("=", 1) for kv in res.group(1).split(", ")),
                }
            )
    return found


def test_the_workflow_asks_for_what_the_models_say(planned):
    emi, va, ecan = (effective_config(repo_config(), paper) for paper in ("emi", "va", "ecan"))
    checked = set()
    for job in planned:
        rule, w, asked = job["rule"], job["wildcards"], job["resources"]
        if rule == "emi_features":
            expected = resources.per_frame_mem_mb(f"emi.features:{w['extractor']}", emi)
        elif rule == "va_features":
            expected = resources.per_frame_mem_mb(f"va.features:{w['va_extractor']}", va)
        elif rule == "ecan_train":
            expected = ecan_costs.train_mem_mb(ecan, {"dataset": w["setting"].split("-")[0]})
        elif rule in resources.SMALL_JOBS_MB:
            expected = resources.small_job_mem_mb(rule)
        else:
            continue
        assert int(asked["mem_mb"]) == expected, job
        assert int(asked["runtime"]) >= resources.MIN_RUNTIME, job
        checked.add(rule)
    assert {"emi_features", "va_features", "ecan_train", "paper_table", "emi_aggregate"} <= checked


def test_the_workflow_asks_the_training_and_pack_models(planned):
    emi, va = effective_config(repo_config(), "emi"), effective_config(repo_config(), "va")
    clips = len(emi_plan.samples(emi, "work/data/hume_vidmimic2"))
    trials = len(va_plan.trials(va, "work/data/affwild2"))
    expected = {
        "emi_pack": lambda w: resources.pack_mem_mb(emi, "emi", clips),
        "va_pack": lambda w: resources.pack_mem_mb(va, "va", trials),
        "emi_train": lambda w: emi_costs.train_mem_mb(
            emi, w["feature_set"], clips, emi_plan.feature_set_dim(emi, w["feature_set"])
        ),
        "va_train_fold": lambda w: va_costs.fold_mem_mb(va, trials),
    }
    seen = set()
    for job in planned:
        if job["rule"] in expected:
            assert int(job["resources"]["mem_mb"]) == expected[job["rule"]](job["wildcards"]), job
            seen.add(job["rule"])
    assert seen == set(expected)


def test_measured_costs_are_data_with_how_they_were_measured():
    costs = resources.COSTS
    assert all("measured" in section for name, section in costs.items() if isinstance(section, dict)), (
        "every section of job_costs.json says how its figures were measured"
    )
    assert resources.PER_FRAME["emi.features:dino"]["paper"] == resources.Cost(
        costs["per_frame"]["jobs"]["emi.features:dino"]["paper"]["peak_mb"],
        costs["per_frame"]["jobs"]["emi.features:dino"]["paper"]["cpu_s_per_frame"],
    )
    # the figures the models derive, checked by hand against the measurements
    assert va_costs.AFFWILD2_FRAMES_PER_TRIAL == 2_000_000 // 432
    assert emi_costs.TRAIN_CPU_S == pytest.approx(34.0 / (6 * 30 * 64 * 64))
    assert va_costs.FOLD_CPU_S["demo"] == pytest.approx((11.0 - 3.95) / (9 * 5_179))
    assert ecan_costs.MB_PER_BATCH_PIXEL == pytest.approx((1_877 - 1_126) / (64 * 112**2 - 32 * 48**2))
    assert ecan_costs.BASE_MB == pytest.approx(1_126 - ecan_costs.MB_PER_BATCH_PIXEL * 32 * 48**2)
    # a measured figure moves the request: 2x the per-frame CPU of a job doubles its runtime (above the minimum)
    config = repo_config()
    items = 10_000
    before = resources.per_frame_runtime("emi.features:dino", config, items)
    cost = resources.PER_FRAME["emi.features:dino"]["demo"]
    resources.PER_FRAME["emi.features:dino"]["demo"] = cost._replace(cpu_s=2 * cost.cpu_s)
    try:
        after = resources.per_frame_runtime("emi.features:dino", config, items)
    finally:
        resources.PER_FRAME["emi.features:dino"]["demo"] = cost
    assert before > resources.MIN_RUNTIME and after in (2 * before - 1, 2 * before)


def test_job_costs_benchmark_rewrites_only_what_it_measured(tmp_path, monkeypatch):
    import json
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    import job_costs

    costs_file = tmp_path / "job_costs.json"
    costs_file.write_text(resources.COSTS_FILE.read_text())
    monkeypatch.setattr(job_costs, "COSTS_FILE", costs_file)
    job_costs.write({"va.prepare": {"demo": {"peak_mb": 80, "cpu_s_per_frame": 0.0007}}}, (1.5, 1.0, 0.5))
    written = json.loads(costs_file.read_text())
    assert written["per_frame"]["jobs"]["va.prepare"]["demo"] == {"peak_mb": 80, "cpu_s_per_frame": 0.0007}
    assert (
        written["per_frame"]["jobs"]["va.prepare"]["paper"]
        == resources.COSTS["per_frame"]["jobs"]["va.prepare"]["paper"]
    )
    assert (
        written["per_frame"]["jobs"]["emi.prepare:faces"] == resources.COSTS["per_frame"]["jobs"]["emi.prepare:faces"]
    )
    stamp = written["per_frame"]["measured"]
    assert stamp["jobs"] == ["va.prepare"] and stamp["load_before"] == [1.5, 1.0, 0.5]
    assert stamp["commit"] and stamp["date"] and stamp["cpu"] and stamp["command"].startswith("python ")
    assert {k: v for k, v in written.items() if k != "per_frame"} == {
        k: v for k, v in resources.COSTS.items() if k != "per_frame"
    }
