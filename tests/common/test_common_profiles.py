"""The Snakemake profiles (profiles/README.md): a plain `snakemake` reads profiles/default by itself, and
`--workflow-profile profiles/slurm` replaces it, so the cluster's settings are the ones that count.

A workflow profile's values win over a `--profile` one's key by key: the SLURM profile named with `--profile`
would run with the local memory cap, latency-wait and keep-going. The settings are read with Snakemake's own
argument parser (what a run starts from), and one dry run checks that the profile is announced.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from helpers import REPO, snakemake_command, snakemake_env
from snakemake.cli import parse_args

SNAKEFILE = str(REPO / "Snakefile")


def settings(*argv: str):
    """The arguments Snakemake runs with for this command line (profiles applied)."""
    _parser, args = parse_args(["-s", SNAKEFILE, *argv])
    return args


def mem_mb(resources: dict) -> int | None:
    resource = resources.get("mem_mb")
    return None if resource is None else resource.value


@pytest.fixture(autouse=True)
def outside_the_checkout(tmp_path, monkeypatch):
    """Snakemake also looks for profiles/ in the working directory: run where there is none."""
    monkeypatch.chdir(tmp_path)


def test_the_profiles_are_default_and_slurm():
    assert sorted(p.name for p in (REPO / "profiles").iterdir() if p.is_dir()) == ["default", "slurm"]


def test_plain_snakemake_reads_the_default_profile(capsys):
    default = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    args = settings("-n")
    assert f"workflow specific profile {REPO / 'profiles' / 'default'} for" in capsys.readouterr().err
    assert mem_mb(args.resources) == default["resources"]["mem_mb"] == 5600  # the memory cap
    # No default-resources: naming any switches on Snakemake's full set, whose disk_mb stats every input while planning.
    assert "default-resources" not in default and args.default_resources is None
    assert args.rerun_incomplete and args.printshellcmds and args.show_failed_logs and not args.keep_going
    # Command-line options win over it; --workflow-profile none runs without it.
    assert mem_mb(settings("-n", "--resources", "mem_mb=20000").resources) == 20000
    assert settings("-n", "--workflow-profile", "none").resources == {}


def test_a_dry_run_announces_the_default_profile(tmp_path):
    (tmp_path / "config.yaml").write_bytes((REPO / "config.yaml").read_bytes())
    cmd = snakemake_command(tmp_path, str(tmp_path / "config.yaml")) + ["-n", "results/table3.csv"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=snakemake_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"workflow specific profile {REPO / 'profiles' / 'default'} for setting default command line" in proc.stderr


def test_the_slurm_workflow_profile_replaces_the_default_one():
    slurm = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    args = settings("-n", "--workflow-profile", str(REPO / "profiles" / "slurm"))
    assert args.executor == "slurm" and args.jobs == slurm["jobs"]
    assert args.latency_wait == slurm["latency-wait"] == 60 and args.keep_going and args.retries == 1
    assert args.resources == {}  # no local memory cap: SLURM places the jobs
    assert mem_mb(args.default_resources) == slurm["default-resources"]["mem_mb"]
    assert args.default_resources["runtime"].value == slurm["default-resources"]["runtime"]
    # Why not --profile: the default (workflow) profile would win key by key.
    mixed = settings("-n", "--profile", str(REPO / "profiles" / "slurm"))
    assert mixed.executor == "slurm" and mixed.latency_wait == 5 and not mixed.keep_going
    assert mem_mb(mixed.resources) == 5600


def test_the_docs_name_the_slurm_profile_as_a_workflow_profile():
    files = [
        REPO / "README.md",
        REPO / "Makefile",
        REPO / "tools" / "slurm-cluster.sh",
        *sorted((REPO / "docs").glob("*.md")),
    ]
    files += [REPO / "profiles" / "README.md", REPO / "profiles" / "slurm" / "config.yaml"]
    for path in files:
        text = path.read_text()
        assert "profiles/local" not in text, f"{path}: profiles/local is now profiles/default"
        wrong = re.findall(r"--profile\s+\S*profiles/slurm", text)
        allowed = 1 if path == REPO / "profiles" / "README.md" else 0  # the sentence that says why not
        assert len(wrong) == allowed, f"{path}: name the SLURM profile with --workflow-profile ({wrong})"
