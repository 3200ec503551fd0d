"""A failed or refused rerun never destroys a committed result: Snakemake keeps every results/ output
(update flag: backed up, restored when the job fails) and DVC does not delete them before a stage runs
(persist: true). docs/bad-inputs.md lists both."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO, repo_config, run_in, snakemake_env, snakemake_run

TABLE1 = [f"results/ecan/table1.{ext}" for ext in ("csv", "json", "provenance.json")]


def contents(root: Path, names) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in names}


def test_a_failed_table_job_leaves_the_committed_table(tmp_path):
    workdir = tmp_path / "run"
    run_in(workdir, repo_config(), TABLE1[0])
    before = contents(workdir, TABLE1)
    (workdir / "work" / "ecan" / "augmentations.json").write_text('{"RandomCrop": ')  # truncated: the table job fails
    proc = snakemake_run(workdir, TABLE1[0])
    assert proc.returncode != 0
    assert "augmentations.json" in proc.stdout + proc.stderr
    assert "Restored previous version of results/ecan/table1.csv" in proc.stdout + proc.stderr
    assert contents(workdir, TABLE1) == before


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="DVC needs git")
def test_a_failed_dvc_repro_leaves_results_byte_identical(tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(REPO), str(clone))
    results = sorted(str(p.relative_to(clone)) for p in (clone / "results").rglob("*") if p.is_file())
    before = contents(clone, results)
    config = yaml.safe_load((clone / "config.yaml").read_text())
    config["ecan"]["seeds"] = "zero"  # not a list of integers: Snakemake stops at start-up
    (clone / "config.yaml").write_text(yaml.safe_dump(config))
    for args in (["repro", "ecan"], ["repro", "-f", "ecan"]):
        proc = subprocess.run(
            [sys.executable, "-m", "dvc", *args],
            cwd=clone,
            capture_output=True,
            text=True,
            env=snakemake_env() | {"DVC_NO_ANALYTICS": "1"},
            timeout=600,
        )
        assert proc.returncode != 0, proc.stdout[-2000:]
        assert "seeds" in proc.stdout + proc.stderr
        assert contents(clone, results) == before, f"dvc {' '.join(args)} changed results/"
