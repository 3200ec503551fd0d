"""Provenance fields common to every table: code revision, config hash, run profile."""

from __future__ import annotations

import os
import subprocess

from affrepro.config import REPO_ROOT, config_hash, demo_overrides


def git_revision() -> str:
    """HEAD's commit, with `-dirty` when tracked sources (anything outside results/) differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)results",
                ":(exclude)dvc.lock",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("-dirty" if status else "")


STATEMENTS = {
    "demo": "DEMO run: synthetic demo data, random-init extractors and the reduced budget of demo.overrides; "
    "numbers show the pipeline works, they are not comparable to the paper's",
    "mixed": "MIXED run: real and demo datasets (see data); demo.overrides applied to the demo datasets only (demo_overrides); "
    "rows of the demo dataset are not comparable to the paper's",
    "paper": "Run on the real dataset with the settings recorded here",
}


def common(config: dict, paper: str | None = None) -> dict:
    """`paper` names the paper of a `mixed` run (which demo overrides it applied)."""
    kind = config["profile"]
    return {
        "profile": kind,
        "config_hash": config_hash(config),
        "git_revision": git_revision(),
        "table_job_code_version": os.environ.get(
            "AFFREPRO_CODE", "unknown (not run by the workflow)"
        ),  # affrepro.codeversion
        "statement": STATEMENTS[kind],
        "demo_overrides": config["demo"]["overrides"]
        if kind == "demo"
        else demo_overrides(config, paper)
        if kind == "mixed"
        else None,
    }


def demo_note(config: dict) -> str:
    """The note of every computed row of a paper whose data are all demo or all real."""
    return "ours: demo data and demo budget (see provenance)" if config["profile"] == "demo" else ""


def left_out(skipped: dict[str, dict[str, str]]) -> dict:
    """`{"skipped": {dataset: {sample: why}}}` for the samples a run left out (datasets.<name>.on_unreadable: skip); {} when none.

    affrepro.tables notes every computed row of a table whose provenance has it.
    """
    found = {dataset: dict(entries) for dataset, entries in skipped.items() if entries}
    return {"skipped": found} if found else {}


def left_out_note(provenance: dict) -> str:
    """The note of a table whose runs left samples out, or ''."""
    skipped = provenance.get("skipped", {})
    if not skipped:
        return ""
    counts = ", ".join(f"{len(entries)} of {dataset}" for dataset, entries in skipped.items())
    return f"unreadable samples left out: {counts} (datasets.<name>.on_unreadable: skip; listed in provenance)"
