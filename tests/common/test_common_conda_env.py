"""The conda environment's post-deploy script (`snakemake --sdm conda`) installs this checkout: the workflow
tells it where the checkout is (issue 23). conda itself is not on this machine, so the script runs here with a
stand-in `python` that records what pip was asked to do."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml
from helpers import REPO, repo_config, snakemake

SCRIPT = REPO / "envs" / "affrepro.post-deploy.sh"


def run_post_deploy(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.txt"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python"
    python.write_text('#!/bin/sh\necho "$@" >> "$CALLS"\n')
    python.chmod(0o755)
    copy = tmp_path / "env-hash.post-deploy.sh"  # Snakemake runs a copy kept beside the environment
    shutil.copy(SCRIPT, copy)
    environment = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "CALLS": str(calls), **env}
    proc = subprocess.run(["bash", str(copy)], cwd=tmp_path, capture_output=True, text=True, env=environment)
    return proc, calls.read_text().splitlines() if calls.is_file() else []


def test_post_deploy_installs_the_checkout_the_workflow_names(tmp_path):
    proc, calls = run_post_deploy(tmp_path, AFFREPRO_REPO_ROOT="/srv/affrepro")
    assert proc.returncode == 0, proc.stderr
    assert calls == [
        "-m pip install --no-deps facenet-pytorch==2.6.0",
        "-m pip install --no-deps -e /srv/affrepro",
    ]


def test_post_deploy_without_the_checkout_stops_and_says_which_variable(tmp_path):
    proc, calls = run_post_deploy(tmp_path)
    assert proc.returncode != 0 and calls == []
    assert "AFFREPRO_REPO_ROOT: the affrepro checkout to install is not set" in proc.stderr


def test_the_workflow_sets_the_checkout_for_its_subprocesses(tmp_path):
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        'configfile: "config.yaml"\n'
        f'include: "{REPO}/workflow/rules/common.smk"\n'
        'rule root:\n    output: "root.txt"\n    shell: "echo $AFFREPRO_REPO_ROOT > {output}"\n'
    )
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(repo_config()))
    snakemake(tmp_path, "root", snakefile=snakefile)
    assert (tmp_path / "root.txt").read_text().strip() == str(REPO.resolve())
