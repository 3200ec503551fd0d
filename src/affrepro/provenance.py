"""Provenance fields common to every table: code revision, config hash, run profile."""

from __future__ import annotations

import os
import subprocess

from affrepro.config import REPO_ROOT, config_hash


def git_revision() -> str:
    """HEAD's commit, with `-dirty` when tracked sources (anything outside results/) differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results", ":(exclude)dvc.lock"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("-dirty" if status else "")


def common(config: dict) -> dict:
    demo = config["profile"] == "demo"
    return {
        "profile": config["profile"],
        "config_hash": config_hash(config),
        "git_revision": git_revision(),
        "table_job_code_version": os.environ.get("AFFREPRO_CODE", "unknown (not run by the workflow)"),  # affrepro.codeversion
        "statement": (
            "DEMO run: synthetic demo data, random-init extractors and the reduced budget of demo.overrides; "
            "numbers show the pipeline works, they are not comparable to the paper's"
            if demo
            else "Run on the real dataset with the settings recorded here"
        ),
        "demo_overrides": config["demo"]["overrides"] if demo else None,
    }


def demo_note(config: dict) -> str:
    """The note of every computed row of a paper whose data are all demo or all real."""
    return "ours: demo data and demo budget (see provenance)" if config["profile"] == "demo" else ""
