"""A fourth paper plugged in from tests/tinypaper plans and builds its table through the registry alone.

It is registered by $AFFREPRO_PAPERS (its declaration's module, importable from tests/); its rules, paper
file and config schema are its own, so the run below edits no shared file: the checkout's tracked files are
the same before and after.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import yaml
from helpers import REPO, repo_config, snakemake_command

TESTS = REPO / "tests"
TINY = {"test_fraction": 0.25}
DEMO = {"seed": 3, "n": 40, "slope": 2.0, "intercept": 1.0, "noise": 0.1}


def tiny_env() -> dict:
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH", "")]))
    bin_path = f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"
    return dict(os.environ, AFFREPRO_PAPERS="tinypaper.paper", PYTHONPATH=path, PATH=bin_path, HF_HUB_OFFLINE="1")


def write_config(workdir):
    config = repo_config()
    config["tiny"] = dict(TINY)
    config["datasets"]["tiny_points"] = {"root": None, "on_unreadable": "fail"}
    config["demo"]["tiny_points"] = dict(DEMO)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def run(workdir, *args):
    command = snakemake_command(workdir, str(workdir / "config.yaml")) + ["--cores", "1", *args]
    proc = subprocess.run(command, capture_output=True, text=True, env=tiny_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def tracked_state() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
    ).stdout


def test_a_test_only_paper_plans_and_builds_its_table(tmp_path):
    before = tracked_state()
    write_config(tmp_path)
    planned = run(tmp_path, "-n", "tiny_tables")
    for rule in ("tiny_demo_data", "tiny_train", "paper_table", "paper_curves", "paper_claims"):
        assert rule in planned.stdout, rule
    # beside the three papers of the package, into the verdict page of every paper
    everything = run(tmp_path, "-n", "all")
    for rule in ("emi_train", "va_train_fold", "ecan_train", "tiny_train", "verdicts"):
        assert rule in everything.stdout, rule
    run(tmp_path, "results/tiny/table1.csv")
    with open(tmp_path / "results" / "tiny" / "table1.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    # the numbers, recomputed here from the demo points the workflow wrote
    points = np.loadtxt(tmp_path / "work" / "data" / "tiny_points" / "points.csv", delimiter=",", skiprows=1)
    x, y = points[:, 0], points[:, 1]
    rng = np.random.default_rng(DEMO["seed"])
    assert np.allclose(y, 2.0 * x + 1.0 + rng.normal(0.0, 0.1, 40), atol=1e-6)
    slope, intercept = np.polyfit(x[:30], y[:30], 1)
    residual = slope * x[30:] + intercept - y[30:]
    mse = np.mean(residual**2)
    ccc = (
        2
        * np.cov(y[30:], slope * x[30:] + intercept, bias=True)[0, 1]
        / (
            np.var(y[30:])
            + np.var(slope * x[30:] + intercept)
            + (np.mean(y[30:]) - np.mean(slope * x[30:] + intercept)) ** 2
        )
    )
    assert row["Model"] == "line"
    assert row["MSE_paper"] == "0.01" and row["CCC_paper"] == "0.99"
    assert row["MSE_ours"] == f"{mse:.4f}" and row["CCC_ours"] == f"{ccc:.3f}"
    assert "demo data" in row["note"]
    provenance = yaml.safe_load((tmp_path / "results" / "tiny" / "table1.provenance.json").read_text())["provenance"]
    assert provenance["dataset"]["kind"] == "demo" and provenance["profile"] == "demo"
    # no tracked file changed
    assert tracked_state() == before


def test_without_the_plug_in_the_tiny_sections_are_unknown_keys(tmp_path):
    write_config(tmp_path)
    env = {k: v for k, v in tiny_env().items() if k != "AFFREPRO_PAPERS"}
    command = snakemake_command(tmp_path, str(tmp_path / "config.yaml")) + ["--cores", "1", "-n"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode != 0
    assert "unknown key(s) 'tiny'" in proc.stderr
