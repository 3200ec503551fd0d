"""The README's and docs/' commands run as written (issue 13): each one works on small stand-ins for the real data.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import helpers
import pytest
import yaml
from bad_inputs import (
    hume_root,
    message,
    real_hume_config,
)
from helpers import REPO

from affrepro.demo.expressions import write_fer2013

# ------------------------------------------------------------------ README commands


def readme_commands() -> list[str]:
    """Every `snakemake`, `dvc` and `affrepro` command line of README.md and docs/*.md: bash blocks (comments
    dropped, continuations joined, `&&` split) and code spans (also those quoted inside other blocks)."""
    # docs/bad-inputs.md lists commands that must fail: each has its own test there.
    docs = [p for p in sorted((REPO / "docs").glob("*.md")) if p.name != "bad-inputs.md"]
    text = "\n".join(p.read_text() for p in [REPO / "README.md", *docs])
    starts = re.compile(r"^(snakemake|dvc|affrepro)\s")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.split(r"\s+#", line, maxsplit=1)[0].split("&&"):
                if starts.match(part.strip()):
                    commands.append(" ".join(part.split()))
    outside = re.sub(r"```bash\n.*?```", "", text, flags=re.S)
    commands += [span for span in re.findall(r"`([^`\n]+)`", outside) if starts.match(span)]
    return list(dict.fromkeys(commands))


# The README's placeholders for the real datasets, and the small stand-ins the test writes there.
README_DATA = ("/data/Hume-Vidmimic2", "/data/fer2013/fer2013.csv.gz")


@pytest.fixture(scope="module")
def readme_workdir(tmp_path_factory, media) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("readme")
    hume = hume_root(base / "hume")
    fer = base / "fer2013.csv.gz"
    write_fer2013(
        fer,
        helpers.repo_config()["demo"]["fer2013"]
        | {"n_train": 70, "n_public_test": 14, "n_private_test": 14, "min_per_class": 2},
    )
    config = real_hume_config(base, hume)  # a reader following "Running on the real data" gives the paper's weights
    workdir = base / "work"
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(media["clip"], workdir / "clip.mp4")
    return workdir, dict(zip(README_DATA, (str(hume), str(fer))))


def test_the_readme_has_the_commands_this_test_runs():
    commands = readme_commands()
    assert (
        "snakemake --cores 8 results/table3.csv" in commands
        and "affrepro faces clip.mp4 --out clip_faces.npz" in commands
    )
    assert "dvc repro" in commands and "dvc metrics diff HEAD~1" in commands
    assert any("ecan='{fer2013: {max_train: 3500}}'" in c for c in commands)
    assert len(commands) >= 15


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_works(command, readme_workdir):
    """Each README command, checked without doing the work it describes.

    snakemake: a dry run (-n) in a fresh working directory with the repository's config.yaml (plus local
    stand-ins for the real checkpoints, as "Running on the real data" asks; the /data placeholders point to
    small datasets in the real layout). dvc repro and dvc exp run: `--dry` (prints the stages it would run), in
    a clone of HEAD, which must be left unchanged. The other dvc commands only read (metrics, params, plots,
    exp show), so they run as written. affrepro has no dry run: the
    commands run as written on a 0.5 s clip.
    """
    workdir, data = readme_workdir
    # The README's placeholders, and the .test command's checkout and scratch folder.
    for placeholder, stand_in in data.items() | {"$PWD": str(REPO), "/tmp/tiny-emi": str(workdir / "tiny-emi")}.items():
        command = command.replace(placeholder, stand_in)
    words = shlex.split(command)
    tool, args = words[0], words[1:]
    if "--report" in args:
        pytest.skip("a report needs a finished run: tests/emi and tests/ecan test_*_workflow.py make and check one")
    if tool == "snakemake":
        if "--sdm" in args and shutil.which("conda") is None:
            pytest.skip("`snakemake --sdm conda` needs conda, which this machine lacks")
        proc = helpers.snakemake_run(workdir, "-n", *args)
        assert proc.returncode == 0, message(proc)[-3000:]
        assert "Traceback" not in message(proc)
    elif tool == "dvc":
        if not (REPO / ".git").exists():
            pytest.skip("dvc needs the git checkout")
        cwd = REPO
        if args[0] == "repro" or args[:2] == ["exp", "run"]:
            # They would rerun a paper (and `exp run -S` edits config.yaml): a dry run, in a clone of HEAD.
            cwd = workdir / "clone"
            if not cwd.exists():
                subprocess.run(["git", "clone", "--quiet", str(REPO), str(cwd)], check=True)
            args = [*args, "--dry"]
        proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True)
        assert proc.returncode == 0, message(proc)[-3000:]
        if cwd != REPO:
            assert not subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True
            ).stdout
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "affrepro.cli", *args], cwd=workdir, capture_output=True, text=True
        )
        if args[0] == "check":  # exits 1 while a paper run lacks anything: the stand-in weights here cannot load
            assert proc.returncode in (0, 1) and "items ready" in proc.stdout, message(proc)[-3000:]
            return
        assert proc.returncode == 0, message(proc)[-3000:]
        assert (workdir / args[args.index("--out") + 1]).is_file()
