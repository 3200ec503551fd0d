"""A non-editable install (`pip install .`) works outside the checkout: `affrepro --help` and `--version` need no
config.yaml, and a command that does finds the checkout through $AFFREPRO_REPO_ROOT or the working directory,
or says what to do.

The wheel is built from a copy of the sources and installed with `pip install --no-deps --target`; the commands
run its console script with only that folder on PYTHONPATH (the dependencies come from this interpreter's
site-packages), from a working directory outside the checkout.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO


def setuptools_builds_pyproject() -> bool:
    """pyproject.toml needs setuptools>=77 (PEP 639 license fields); without it here, pip builds in isolation."""
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0]) >= 77
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The folder the wheel was installed into (its bin/affrepro and the package)."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    isolation = ["--no-build-isolation"] if setuptools_builds_pyproject() else []
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    wheel = subprocess.run(
        [*pip, "wheel", "--no-deps", *isolation, "-w", str(base / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert wheel.returncode == 0, f"building the wheel failed:\n{wheel.stdout[-3000:]}\n{wheel.stderr[-3000:]}"
    (built,) = (base / "dist").glob("affrepro-*.whl")
    site = base / "env" / "site"
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--no-compile", "--target", str(site), str(built)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    assert not (site / "affrepro" / "config.yaml").exists()
    return site


def affrepro(site: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AFFREPRO_REPO_ROOT")}
    environ |= {"PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        [str(site / "bin" / "affrepro"), *args], cwd=cwd, capture_output=True, text=True, env=environ, timeout=120
    )


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", "import affrepro.cli; print(affrepro.cli.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(installed)},
    )
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).is_relative_to(installed)


def test_help_and_version_need_no_config(installed, tmp_path):
    help_text = affrepro(installed, tmp_path, "--help")
    assert help_text.returncode == 0, help_text.stderr[-3000:]
    for command in ("faces", "audio", "trace", "check", "verify"):
        assert command in help_text.stdout
    for command in ("faces", "audio"):
        sub = affrepro(installed, tmp_path, command, "--help")
        assert sub.returncode == 0 and "--out" in sub.stdout, sub.stderr[-3000:]
    version = affrepro(installed, tmp_path, "--version")
    assert version.returncode == 0, version.stderr[-3000:]
    assert version.stdout.strip() == f"affrepro {importlib.metadata.version('affrepro')}"


def test_a_command_outside_the_checkout_says_where_the_config_comes_from(installed, tmp_path):
    out = tmp_path / "audio.wav"
    lost = affrepro(installed, tmp_path, "audio", str(FIXTURES / "video" / "no_face.mp4"), "--out", str(out))
    assert lost.returncode == 2 and "Traceback" not in lost.stderr
    assert "no affrepro checkout found" in lost.stderr and "AFFREPRO_REPO_ROOT" in lost.stderr
    # The checkout named by AFFREPRO_REPO_ROOT, or found above the working directory, gives the defaults.
    for cwd, env in ((tmp_path, {"AFFREPRO_REPO_ROOT": str(REPO)}), (REPO / "docs", {})):
        found = affrepro(installed, cwd, "audio", str(FIXTURES / "video" / "no_face.mp4"), "--out", str(out), **env)
        assert "no affrepro checkout" not in found.stderr and "Traceback" not in found.stderr, found.stderr[-3000:]


def test_the_reviewer_tools_find_the_checkout_or_say_how(installed, tmp_path):
    cell = ["trace", "results/ecan/table5.csv", "ECAN (ours)", "Accuracy_ours"]
    lost = affrepro(installed, tmp_path, *cell)
    assert lost.returncode == 2 and "Traceback" not in lost.stderr
    assert "no affrepro checkout found" in lost.stderr and "AFFREPRO_REPO_ROOT" in lost.stderr
    # inside the checkout the installed code reads its papers/ and results/, as an editable install does
    found = affrepro(installed, REPO, *cell)
    assert found.returncode == 0, found.stderr[-3000:]
    assert "papers/ecan.yaml" in found.stdout and "classification_scores" in found.stdout
    editable = subprocess.run(
        [sys.executable, "-m", "affrepro.cli", *cell], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    # the same chain; the functions are named in the installed code
    assert found.stdout.replace("site/affrepro/", "src/affrepro/") == editable.stdout
