"""The workflow on a real SLURM cluster gives the same tables as a local run, byte for byte.

tools/slurm-cluster.sh brings up a one-node cluster from Debian's packages (munge, MariaDB,
slurmdbd, slurmctld, slurmd; installed with apt-get when missing). The tiny demos of the three
papers then run twice from scratch, in one Snakemake run each: through
`snakemake --executor slurm --workflow-profile profiles/slurm` (every job an sbatch job, followed
with sacct), and locally with profiles/default (the workflow profile Snakemake reads by itself), at the
same time. Every file under
results/ (tables, figures and their CSVs) must be the same bytes, and the JSON sidecars the same
apart from the git revision. The cluster is stopped afterwards, also when the test fails, unless it
was already running before the test.

Needs root and apt-get (or the packages already installed); skips, saying why, where it has neither,
and where AFFREPRO_SKIP_SLURM_TEST is set (a developer running `make test` as root who does not want
the packages installed).
"""

from __future__ import annotations

import copy
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import REPO, repo_config, snakemake_command

for _paper in ("emi", "va", "ecan"):  # the papers' tiny demos, reused as they are defined there
    if str(REPO / "tests" / _paper) not in sys.path:
        sys.path.insert(0, str(REPO / "tests" / _paper))
from test_ecan_workflow import tiny_ecan_config  # noqa: E402
from test_emi_workflow import EMI_TARGETS, tiny_emi_config  # noqa: E402
from test_va_workflow import VA_TARGETS, tiny_va_config  # noqa: E402

SCRIPT = REPO / "tools" / "slurm-cluster.sh"
PACKAGES = ("munge", "slurm-client", "slurmctld", "slurmd", "slurmdbd", "mariadb-server")
# EMI Tables 1-4 and the test-set submission, VA Tables 1-2 (not the extra nested-protocol table),
# ECAN Tables 1-5 and Figures 3, 4, 6, 7.
TARGETS = [*EMI_TARGETS, *(t for t in VA_TARGETS if "nested" not in t), "ecan_tables"]
PARTITION = ACCOUNT = "affrepro"  # what tools/slurm-cluster.sh creates
RUN_TIMEOUT_S = 1200
LOCK = "/tmp/affrepro-slurm-test.lock"

DELETED = object()


def changes(config: dict, base: dict) -> dict:
    """The keys `config` sets differently from `base` (nested; DELETED for a key it drops)."""
    out = {}
    for key in base.keys() | config.keys():
        if key not in config:
            out[key] = DELETED
        elif key not in base:
            out[key] = config[key]
        elif isinstance(config[key], dict) and isinstance(base[key], dict):
            if sub := changes(config[key], base[key]):
                out[key] = sub
        elif config[key] != base[key]:
            out[key] = config[key]
    return out


def apply(config: dict, change: dict) -> None:
    for key, value in change.items():
        if value is DELETED:
            config.pop(key, None)
        elif isinstance(value, dict) and isinstance(config.get(key), dict):
            apply(config[key], value)
        else:
            config[key] = copy.deepcopy(value)


def agreement_config() -> dict:
    """The three papers' tiny demos in one config, each made smaller still (one seed, one epoch,
    one shard): the test only has to show that SLURM and local runs agree, not what they find."""
    base = repo_config()
    config = copy.deepcopy(base)
    for tiny in (tiny_emi_config(), tiny_va_config(), tiny_ecan_config()):
        apply(config, changes(tiny, base))
    overrides = config["demo"]["overrides"]
    overrides["preprocess"]["shards"] = 1
    overrides["emi"]["seeds"] = [0]
    overrides["emi"]["train"]["epochs"] = 1
    overrides["va"]["preprocess"]["shards"] = 1
    overrides["va"]["train"]["epochs"] = 1
    return config


def test_agreement_config_keeps_each_tiny_demo():
    """The combined config carries every change each paper's tiny demo makes (before the cuts)."""
    config, base = agreement_config(), repo_config()
    assert config["demo"]["hume_vidmimic2"] == tiny_emi_config()["demo"]["hume_vidmimic2"]
    assert config["demo"]["affwild2"] == tiny_va_config()["demo"]["affwild2"]
    for dataset in ("rafdb", "fer2013"):
        assert config["demo"][dataset] == tiny_ecan_config()["demo"][dataset]
    assert config["demo"]["overrides"]["ecan"] == tiny_ecan_config()["demo"]["overrides"]["ecan"]
    assert (
        config["demo"]["overrides"]["emi"]["seeds"] == [0]
        and base["demo"]["overrides"]["emi"] != config["demo"]["overrides"]["emi"]
    )


def cannot_run() -> str | None:
    """Why this machine cannot bring up the test cluster, or None."""
    if os.environ.get("AFFREPRO_SKIP_SLURM_TEST"):
        return (
            "AFFREPRO_SKIP_SLURM_TEST is set (this test installs Debian's Slurm packages and starts a one-node cluster)"
        )
    if not sys.platform.startswith("linux"):
        return "the SLURM test needs Linux (it starts Slurm daemons from Debian packages)"
    if os.geteuid() != 0:
        return "the SLURM test needs root (it installs Debian's Slurm packages and starts munge, MariaDB and the Slurm daemons)"
    if not shutil.which("dpkg-query"):
        return "the SLURM test needs a Debian/Ubuntu machine (dpkg and apt-get)"
    installed = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\\n", *PACKAGES], capture_output=True, text=True
    ).stdout
    if installed.count("install ok installed") < len(PACKAGES) and not shutil.which("apt-get"):
        return f"the SLURM test needs {', '.join(PACKAGES)} installed, or apt-get to install them"
    conf = Path("/etc/slurm/slurm.conf")
    if (conf.exists() or conf.is_symlink()) and not (conf.is_symlink() and "affrepro" in os.readlink(conf)):
        return "this machine has a Slurm configuration of its own (/etc/slurm/slurm.conf); the test only runs its private cluster"
    return None


def cluster(command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), command], capture_output=True, text=True, env=dict(os.environ, **env), timeout=900
    )


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """The one-node cluster, up for the module's tests; stopped afterwards if this fixture started it.

    A lock file keeps two test sessions on one machine from sharing (and stopping) one cluster."""
    if reason := cannot_run():
        pytest.skip(reason)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        already_up = cluster("status").returncode == 0
        logs = tmp_path_factory.mktemp("slurm-logs")
        started = time.monotonic()
        try:
            start = cluster("start")
            print(start.stdout, start.stderr, f"cluster start: {time.monotonic() - started:.0f} s", sep="\n")
            assert start.returncode == 0, f"tools/slurm-cluster.sh start failed:\n{start.stdout}\n{start.stderr}"
            yield {"partition": PARTITION, "account": ACCOUNT}
        finally:
            if not already_up:
                stop = cluster("stop", AFFREPRO_SLURM_KEEP_LOGS=str(logs))
                print(stop.stdout, stop.stderr, sep="\n")
                assert stop.returncode == 0, f"tools/slurm-cluster.sh stop failed:\n{stop.stdout}\n{stop.stderr}"


class Run:
    """Snakemake from scratch in `workdir` with `config`, as a user runs it, in the background."""

    def __init__(self, name: str, workdir: Path, config: dict, *options: str, env: dict | None = None):
        workdir.mkdir(parents=True)
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        cmd = [*snakemake_command(workdir, str(workdir / "config.yaml")), *options, *TARGETS]
        env = dict(
            os.environ,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            **(env or {}),
        )
        self.name, self.log = name, workdir / "snakemake.log"
        self.started = time.monotonic()
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, env=env)

    def finish(self) -> str:
        """Waits for the run (at most RUN_TIMEOUT_S from its start); asserts success; returns its output."""
        try:
            self.proc.wait(timeout=max(1.0, RUN_TIMEOUT_S - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.interrupt()
        output = self.log.read_text()
        print(f"{self.name} run: {time.monotonic() - self.started:.0f} s")
        assert self.proc.returncode == 0, f"the {self.name} run failed (exit {self.proc.returncode}):\n{output[-8000:]}"
        return output

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Snakemake cancels its SLURM jobs on SIGINT
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def results(workdir: Path) -> dict[str, bytes]:
    """Every file under results/, as bytes (where and when a table was computed is in work/runinfo/, not here)."""
    return {
        str(path.relative_to(workdir)): path.read_bytes()
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
def test_slurm_run_equals_local_run_byte_for_byte(slurm_cluster, tmp_path):
    config = agreement_config()
    # Both runs at once: the local one uses the cores the SLURM one leaves idle between its jobs.
    slurm = Run(
        "SLURM",
        tmp_path / "slurm",
        config,
        "--workflow-profile",  # replaces profiles/default (a --profile would lose to it key by key)
        str(REPO / "profiles" / "slurm"),
        "--executor",
        "slurm",
        "--slurm-init-seconds-before-status-checks",
        "2",  # a one-node cluster answers at once
        env={
            "AFFREPRO_SLURM_PARTITION": slurm_cluster["partition"],
            "AFFREPRO_SLURM_ACCOUNT": slurm_cluster["account"],
        },
    )
    local = Run("local", tmp_path / "local", config, "--cores", "2")  # profiles/default, read by Snakemake itself
    try:
        local.finish()
    except BaseException:
        slurm.interrupt()
        raise
    log = slurm.finish()

    # The SLURM run's jobs really went through the cluster, and its accounting saw each one complete.
    job_ids = re.findall(r"submitted with SLURM jobid (\d+)", log)
    assert len(job_ids) >= 20, log[-3000:]
    states = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-o", "JobIDRaw,State,Partition,Account", "-j", ",".join(job_ids)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("|") for line in states.split()]
    assert sorted(r[0] for r in rows) == sorted(job_ids)
    assert {(r[1], r[2], r[3]) for r in rows} == {("COMPLETED", slurm_cluster["partition"], slurm_cluster["account"])}

    local_files, slurm_files = results(tmp_path / "local"), results(tmp_path / "slurm")
    for target in TARGETS[:-1]:
        assert target in local_files, f"{target} missing from the local run"
    assert any(name.startswith("results/ecan/figure") and name.endswith(".png") for name in local_files)
    assert sorted(slurm_files) == sorted(local_files)
    different = [name for name in local_files if slurm_files[name] != local_files[name]]
    assert not different, f"SLURM and local runs differ in {different}"
