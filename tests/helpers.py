"""Helpers the tests of every paper share: fixture paths and running the workflow as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def repo_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def snakemake(workdir: Path, *targets: str, dry_run: bool = False, snakefile: Path = REPO / "Snakefile") -> subprocess.CompletedProcess:
    """Snakemake in a fresh working directory with that directory's config.yaml; asserts success."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "2"]
    proc = subprocess.run(cmd + (["-n"] if dry_run else []) + list(targets), capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def run_in(workdir: Path, config: dict, *targets: str) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return snakemake(workdir, *targets)
