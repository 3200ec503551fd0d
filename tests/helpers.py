"""Helpers the tests of every paper share: fixture paths and running the workflow as a user does."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
# facenet-pytorch MTCNN's own defaults (the paper's detector settings): the naive loop the fast path is checked against
FACENET_MTCNN = {"min_face_size": 20, "thresholds": [0.6, 0.7, 0.7], "factor": 0.709}


def repo_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


def tiny_config(paper: str) -> dict:
    """The repository's config.yaml with .test/config_<paper>.yaml layered over it, as Snakemake merges
    `--configfile config.yaml .test/config_<paper>.yaml` (the paper's tiny demo)."""
    from affrepro.config.resolve import deep_merge

    return deep_merge(repo_config(), yaml.safe_load((REPO / ".test" / f"config_{paper}.yaml").read_text()))


def snakemake_command(workdir: Path, *configfiles: str, snakefile: Path = REPO / "Snakefile") -> list[str]:
    """`python -m snakemake` on the repository's Snakefile in `workdir` with these config files (layered in order).
    --configfile takes several values: follow it with a single-valued option before any targets."""
    return [sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir), "--configfile", *configfiles]


def run_tiny_config(workdir: Path, paper: str, *args: str) -> subprocess.CompletedProcess:
    """The paper's tiny demo as the Snakemake workflow catalog runs a .test config: an empty working
    directory and the config files layered on the command line (`-n` among `args` for a dry run); asserts success."""
    workdir.mkdir(parents=True, exist_ok=True)
    configs = [str(REPO / "config.yaml"), str(REPO / ".test" / f"config_{paper}.yaml")]
    proc = subprocess.run(
        snakemake_command(workdir, *configs) + ["--cores", "2", *args],
        capture_output=True,
        text=True,
        env=snakemake_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def snakemake_env() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", HF_HUB_OFFLINE="1")


def snakemake_run(workdir: Path, *args: str, snakefile: Path = REPO / "Snakefile") -> subprocess.CompletedProcess:
    """Snakemake in `workdir` with its config.yaml and further arguments (targets, -n, --config ...); success not asserted."""
    cmd = snakemake_command(workdir, str(workdir / "config.yaml"), snakefile=snakefile) + ["--cores", "2"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=snakemake_env())


def snakemake(
    workdir: Path, *targets: str, dry_run: bool = False, snakefile: Path = REPO / "Snakefile"
) -> subprocess.CompletedProcess:
    """Snakemake in a fresh working directory with that directory's config.yaml; asserts success."""
    proc = snakemake_run(workdir, *(["-n"] if dry_run else []), *targets, snakefile=snakefile)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def run_in(workdir: Path, config: dict, *targets: str) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return snakemake(workdir, *targets)


def write_rafdb(root: Path, entries: list[tuple[str, int]], size: int = 100) -> Path:
    """A RAF-DB basic folder in the real layout: the label file and one aligned JPEG per `(name, label 1-7)` entry."""
    import cv2
    import numpy as np

    (root / "EmoLabel").mkdir(parents=True)
    (root / "Image" / "aligned").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(f"{name} {label}\n" for name, label in entries))
    for i, (name, label) in enumerate(entries):
        image = np.full((size, size, 3), 20 * label + i % 7, np.uint8)
        cv2.imwrite(str(root / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg"), image)
    return root


def rafdb_entries(n_train: int = 21, n_test: int = 7) -> list[tuple[str, int]]:
    """Label-file entries with every class in both splits (labels cycle 1-7)."""
    return [(f"train_{i + 1:05d}.jpg", i % 7 + 1) for i in range(n_train)] + [
        (f"test_{i + 1:04d}.jpg", i % 7 + 1) for i in range(n_test)
    ]


def jobs_planned(dry_run: str) -> dict[str, int]:
    """rule -> job count, from the `Job stats` table of a Snakemake dry run."""
    if "Job stats:" not in dry_run:  # "Nothing to be done"
        return {}
    table = dry_run.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = {}
    for line in table.splitlines()[3:]:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def views_within_dvc_params(workdir: Path, paper: str, raw_config: dict) -> list[str]:
    """Every key a job of `workdir` read (its view files) that the paper's DVC stage does not list, with the
    demo override that would change it: `dvc repro` must rerun the stage whenever a job's value changes."""
    from affrepro import jobconfig

    listed = jobconfig.paper_keys(paper, raw_config)

    def covered(dotted: str) -> bool:
        return any(dotted == key or dotted.startswith(key + ".") for key in listed)

    overrides = list(_leaves(raw_config["demo"]["overrides"]))
    missing = []
    for view in sorted((workdir / "work" / "config").glob("*.yaml")):
        header = yaml.safe_load(view.read_text())[jobconfig.VIEW_KEY]
        if "module" not in header:
            continue
        for key in header["keys"]:
            if key != "profile" and not covered(key):  # profile: where the datasets are (datasets.* are listed)
                missing.append(f"{header['module']}: {key}")
            for leaf in overrides:
                related = leaf == key or leaf.startswith(key + ".") or key.startswith(leaf + ".")
                if related and not covered(f"demo.overrides.{leaf}"):
                    missing.append(f"{header['module']}: demo.overrides.{leaf}")
    return missing


def _leaves(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def browser() -> str:
    """The headless Chromium the browser tests use: $AFFREPRO_BROWSER, else Debian's chromium-headless-shell or
    chromium (`make test` installs one with tools/install-browser.sh). Fails, never skips, when there is none."""
    import shutil

    found = os.environ.get("AFFREPRO_BROWSER") or shutil.which("chromium-headless-shell") or shutil.which("chromium")
    assert found, "no headless Chromium: run tools/install-browser.sh (as root) or set AFFREPRO_BROWSER"
    return found


def rendered_dom(page: Path, wait_ms: int = 10000) -> str:
    """The DOM of a local HTML page after a real browser has run its scripts (up to `wait_ms` of virtual time),
    with the network off, so a page that needs a CDN renders nothing."""
    proc = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",  # nothing outside this machine: a CDN script fails to load
            f"--virtual-time-budget={wait_ms}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def embedded_pages(report: str) -> dict[str, str]:
    """The HTML pages a Snakemake report embeds as data URIs, by file name."""
    found = re.findall(r"data:text/html;charset=utf8;filename=([^;]+);base64,([A-Za-z0-9+/=]+)", report)
    pages: dict[str, str] = {}
    for name, data in found:
        pages.setdefault(name, "")
        pages[name] += base64.b64decode(data).decode("utf-8") + "\n"
    return pages
