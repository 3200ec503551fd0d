"""The papers this repository reproduces, and what the table engine needs from each.

Every paper package `affrepro.<key>` has the same modules with the same roles:

    plan       the samples/runs and their ids, shards, resources (pure, used by the rules at parse time)
    prepare    dataset -> model inputs (faces and audio, trials, or image splits)
    features   per-sample feature extraction (EMI, VA)
    train      one training job: a branch, a fold or a run
    aggregate  runs -> the numbers a table reads (late fusion, fold summary, mean over seeds)
    report     the provenance of the paper's tables (the PaperReport interface below)

Models live in `affrepro.models`, metrics in `affrepro.metrics`; paper-only
pieces (ECAN's augmentations, losses and figures; VA's folds; dataset
statistics) sit beside these modules.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import yaml

from affrepro.config import REPO_ROOT

PAPERS = ("emi", "va", "ecan")
PAPERS_DIR = REPO_ROOT / "papers"


def load_paper(key: str, papers_dir: Path = PAPERS_DIR) -> dict:
    """papers/<key>.yaml: every number the paper reports, which run fills each cell, the readings we chose."""
    return yaml.safe_load((papers_dir / f"{key}.yaml").read_text())


@runtime_checkable
class PaperReport(Protocol):
    """What `affrepro.tables` needs from `affrepro.<key>.report`."""

    def provenance(self, config: dict, inputs: dict[str, Path]) -> dict:
        """The JSON provenance of a table, from the files the table rule names as its provenance inputs."""

    def profile_note(self, config: dict) -> str:
        """The note every computed row carries (demo data, reduced budget), or ''."""


def report(key: str) -> PaperReport:
    if key not in PAPERS:
        raise ValueError(f"unknown paper {key!r}; known: {', '.join(PAPERS)}")
    module = importlib.import_module(f"affrepro.{key}.report")
    if not isinstance(module, PaperReport):
        raise TypeError(f"affrepro.{key}.report does not implement affrepro.papers.PaperReport (provenance, profile_note)")
    return module
