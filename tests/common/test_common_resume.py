"""A killed training job resumes from its last checkpoint and ends byte-identical to an uninterrupted one.

For each paper's tiny configuration (with more epochs, so that there is an epoch to kill in), one training
job runs to the end through Snakemake; its outputs are kept as the reference and removed. The job runs
again, and once its first checkpoint is written its process gets SIGKILL, mid-epoch. Snakemake reports the
failure; the rerun of the same target resumes (its log says from which epoch) and writes the same bytes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import helpers
import pytest
import yaml
from helpers import REPO

# paper -> (the job's outputs, its checkpoint, the module its process runs, a config layered over the tiny one)
JOBS = {
    "ecan": (
        ["work/ecan/runs/fer2013-strong-ensc+mva-l1_0.2-l2_0.7-V5-s0/metrics.json"],
        "work/ecan/runs/fer2013-strong-ensc+mva-l1_0.2-l2_0.7-V5-s0/metrics.checkpoint.pt",
        "affrepro.ecan.train",
        {"demo": {"overrides": {"ecan": {"fer2013": {"epochs": 6}}}}},
    ),
    "emi": (
        ["work/emi/runs/resnet18/metrics.json", "work/emi/runs/resnet18/predictions.csv"],
        "work/emi/runs/resnet18/seed0.checkpoint.pt",
        "affrepro.emi.train",
        {"demo": {"overrides": {"emi": {"train": {"epochs": 40}}}}},
    ),
    "va": (
        ["work/va/folds/paper/fold0/metrics.json", "work/va/folds/paper/fold0/predictions.npz"],
        "work/va/folds/paper/fold0/metrics.checkpoint.pt",
        "affrepro.va.train",
        {"demo": {"overrides": {"va": {"train": {"epochs": 20}}}}},
    ),
}


def _snakemake(workdir: Path, paper: str, *args: str) -> list[str]:
    configs = [str(REPO / "config.yaml"), str(REPO / ".test" / f"config_{paper}.yaml"), str(workdir / "longer.yaml")]
    return helpers.snakemake_command(workdir, *configs) + ["--cores", "1", *args]


def _job_process(module: str, workdir: Path) -> int | None:
    """The pid of the training process that runs `module` in `workdir`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            if b"-m" in command and module.encode() in command and Path(os.readlink(entry / "cwd")) == workdir:
                return int(entry.name)
        except OSError:
            continue
    return None


def _kill_after_first_checkpoint(proc: subprocess.Popen, checkpoint: Path, module: str, workdir: Path) -> None:
    deadline = time.monotonic() + 600
    while not checkpoint.is_file():
        assert proc.poll() is None, "the job ended before it wrote a checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 10 minutes"
        time.sleep(0.02)
    pid = _job_process(module, workdir)
    assert pid is not None, f"no {module} process in {workdir}"
    os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=120)


@pytest.mark.parametrize("paper", sorted(JOBS))
def test_a_killed_job_resumes_byte_identical(tmp_path, paper):
    outputs, checkpoint, module, longer = JOBS[paper]
    workdir = tmp_path / paper
    workdir.mkdir()
    (workdir / "longer.yaml").write_text(yaml.safe_dump(longer))
    env = helpers.snakemake_env()
    done = subprocess.run(_snakemake(workdir, paper, *outputs), capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Every file the job wrote beside its outputs (EMI's per-seed models too: no temporary name inside them).
    written = sorted({p for name in outputs for p in (workdir / name).parent.iterdir() if p.is_file()})
    reference = {p: p.read_bytes() for p in written}
    assert reference
    assert not (workdir / checkpoint).exists(), "the checkpoint outlived the finished job"
    for name in outputs:
        (workdir / name).unlink()

    proc = subprocess.Popen(
        _snakemake(workdir, paper, *outputs), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    _kill_after_first_checkpoint(proc, workdir / checkpoint, module, workdir)
    assert proc.returncode != 0, "Snakemake did not see the job fail"
    assert (workdir / checkpoint).is_file() and not all((workdir / name).exists() for name in outputs)

    again = subprocess.run(_snakemake(workdir, paper, *outputs), capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    logs = "".join(p.read_text() for p in (workdir / "logs").rglob("*.log") if module.split(".")[1] in str(p))
    assert "resumed from" in logs
    for path, content in reference.items():
        assert path.read_bytes() == content, f"{path.relative_to(workdir)} differs after the resume"
    assert not (workdir / checkpoint).exists()


def test_a_killed_snakemake_is_unlocked_and_resumed_as_the_docs_say(tmp_path):
    """Issue 21.12: SIGKILL of Snakemake itself (not of a job) leaves its lock; the next run refuses to start. The
    docs give the way on: `snakemake --unlock`, then the same command, which redoes the unfinished job."""
    running = (REPO / "docs" / "running.md").read_text()
    assert "`snakemake --unlock`" in running and "--rerun-incomplete" in running
    outputs, checkpoint, module, longer = JOBS["ecan"]
    workdir = tmp_path / "ecan"
    workdir.mkdir()
    (workdir / "longer.yaml").write_text(yaml.safe_dump(longer))
    env = helpers.snakemake_env()
    proc = subprocess.Popen(
        _snakemake(workdir, "ecan", *outputs), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 600
    while (job := _job_process(module, workdir)) is None:
        assert proc.poll() is None and time.monotonic() < deadline, "the training job never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # Snakemake alone; its job is orphaned
    proc.wait(timeout=60)
    os.kill(job, signal.SIGKILL)
    refused = subprocess.run(_snakemake(workdir, "ecan", *outputs), capture_output=True, text=True, env=env)
    assert refused.returncode != 0 and "--unlock" in refused.stdout + refused.stderr
    unlock = subprocess.run(_snakemake(workdir, "ecan", "--unlock"), capture_output=True, text=True, env=env)
    assert unlock.returncode == 0, unlock.stdout[-2000:] + unlock.stderr[-2000:]
    resumed = subprocess.run(
        _snakemake(workdir, "ecan", "--rerun-incomplete", *outputs), capture_output=True, text=True, env=env
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert all((workdir / name).is_file() for name in outputs)
