"""Provenance fields common to every table: config hash, table job code version, run profile.

The git revision is not among them: it changes with every commit, so it goes to the run info
(affrepro.tables.runinfo_path), not into the tracked sidecars."""

from __future__ import annotations

import os
import subprocess

from affrepro.config.reading import REPO_ROOT
from affrepro.config.resolve import config_hash, demo_overrides
from affrepro.jobconfig import plain
from affrepro.papers import load_paper


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
        "config_hash": config_hash(plain(config)),  # the paper's keys (its record, affrepro.jobconfig)
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


# The keys that define a training budget (papers/<key>.yaml `budget`, per dataset). A claim is comparable only
# when the provenance's `budget.used` equals the paper's on every one of them (affrepro.claims); a key that does
# not apply to a paper (ECAN's images have no sequence length) is null on both sides.
BUDGET_KEYS = ("epochs", "batch_size", "lr", "optimiser", "schedule", "input_size", "seq_len", "train_subset")


def flat(tree, prefix: str = "") -> dict[str, object]:
    """A nested dict as {dotted key: leaf}; a leaf that is not a dict stays whole."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    found: dict[str, object] = {}
    for key, value in tree.items():
        found |= flat(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def budget_differences(paper_budget: dict, used: dict) -> tuple[list[str], list[str]]:
    """(differences "key ours (paper X)", missing dotted keys) between one dataset's paper budget and ours."""
    differs, missing = [], []
    for key in BUDGET_KEYS:
        if key not in used:
            missing.append(key)
            continue
        theirs, ours = flat(paper_budget.get(key), key), flat(used[key], key)
        for leaf, value in theirs.items():
            if leaf not in ours:
                missing.append(leaf)
            elif ours[leaf] != value:
                differs.append(f"{leaf} {ours[leaf]} (paper {value})")
        differs += [f"{leaf} {value} (paper: none)" for leaf, value in ours.items() if leaf not in theirs]
    return differs, missing


def train_subset(max_train: int | None) -> str:
    """The training subset a run used: `all` of its training split, or a class-stratified subset of that size."""
    return "all" if max_train is None else f"{max_train} (class-stratified subset)"


def budget_record(paper_key: str, used: dict[str, dict]) -> dict:
    """The budget block of a provenance: the paper's (papers/<key>.yaml), ours per dataset, and where they differ."""
    paper = load_paper(paper_key)["budget"]
    differs = {d: budget_differences(paper[d], used[d])[0] for d in used}
    return {
        "paper": {d: paper[d] for d in used},
        "used": used,
        "differs": {d: found for d, found in differs.items() if found},
        "reduced": any(differs.values()),
    }
