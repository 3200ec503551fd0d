"""The papers this repository reproduces: what the shared code needs to know of each, declared once.

Each paper package declares a `Paper` in `affrepro/<key>/paper.py`; `PAPERS` holds
them in the order of `PAPER_MODULES`. The shared code loops over this registry
instead of naming a paper: the workflow includes each paper's rules and builds
its targets and demo data locations from it (workflow/rules/common.smk), dvc.yaml
is generated from it (affrepro.dvcfile), the curves read each paper's training
histories through it (affrepro.curves), and `affrepro check` / `trace` /
`headline` ask it. Its tables and figures are those its papers/<key>.yaml lists
(affrepro.papers.targets).

The declarations are plain data and small functions, importable without torch:
the workflow reads them while it plans.

A paper outside this package (a test's, or one being written) is registered by naming its declaration's
module in $AFFREPRO_PAPERS (comma-separated, importable from PYTHONPATH); its `package`, `rules`,
`paper_file` and `config_schema` then say where its modules and files are.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PAPER_MODULES = ("affrepro.emi.paper", "affrepro.va.paper", "affrepro.ecan.paper")


@dataclass(frozen=True)
class Plot:
    """A `dvc plots` entry of one of the paper's result CSVs (its template is in .dvc/plots/)."""

    template: str
    title: str
    file: str  # under results/<key>/
    x: str
    y: str


@dataclass(frozen=True)
class Dataset:
    """A dataset a paper reads, set in config.yaml as datasets.<name>.<location_key>."""

    title: str  # as the paper names it, e.g. "RAF-DB"
    demo: str  # where its demo is written (under the working directory) while the location is null
    location_key: str  # root (a folder) or path (a file)
    # What the loader finds at a real location, as counts (`affrepro check`); DatasetError when the layout is wrong.
    describe: Callable[[str], str]


@dataclass(frozen=True)
class Paper:
    key: str
    name: str  # how outputs and plots name it, e.g. "EMI"
    title: str  # one line: what the paper does, the first comment of its dvc.yaml stage
    datasets: dict[str, Dataset]
    # The config.yaml keys its jobs read besides those every paper has (`config_keys`): with them, the DVC
    # stage's params and the record its tables read (affrepro.jobconfig.paper_record); the tests check
    # every key a job reads is among them.
    config_keys: tuple[str, ...]
    # One training job's metrics file -> {run label: per-epoch history} (affrepro.curves).
    history_runs: Callable[[dict], dict[str, list[dict]]]
    # Bytes a real run writes under work/ (`affrepro check`'s disk item).
    work_bytes: Callable[[dict], float]
    # Frames of one sample of its per-sample and pack jobs (their measured costs are per frame), or None.
    frames_per_item: Callable[[dict], float] | None = None
    # Its own `affrepro check` items beyond datasets, extractor weights, substitutes, compute and disk
    # (affrepro.check.Item list, from the paper's effective config).
    checks: Callable[[dict], list] = lambda config: []
    # Its rules, relative to the repository (empty: workflow/rules/<key>.smk); the Snakefile includes them.
    rules: str = ""
    # Results files besides its tables, figures, curves and claims (e.g. EMI's submission), under results/<key>/.
    extra_results: tuple[str, ...] = ()
    # The headline paper (one only) renders the README's table from the committed results folder
    # (affrepro.headline), and its tables are also results/<table>.{csv,json,provenance.json}.
    readme_table: Callable[[Path], str] | None = None
    # Where its claims read per-seed numbers from runs (papers/<key>.yaml claims.per_seed.style: runs): the run ids
    # an aggregate `group` summarises (planned from the config), and {summary score: (run's test metric, scale)}.
    group_runs: Callable[[dict, str], list[str]] | None = None
    run_scores: Callable[[], dict[str, tuple[str, float]]] | None = None
    # dvc plots of its figures' CSVs (the training curves' plots are every paper's).
    figure_plots: dict[str, Plot] = field(default_factory=dict)
    # Cross-key rules of its config section that JSON Schema cannot express: one message per broken rule,
    # naming the key (affrepro.config.consistency; it gets the config as written, demo overrides unapplied).
    config_problems: Callable[[dict], list[str]] = lambda config: []
    # The extractors (extractors.<name>) a run uses, from its effective config: their weights must load
    # offline on real data, or they are substitutes (affrepro.substitutes).
    extractors: Callable[[dict], list[str]] = lambda config: []
    # Datasets with an encoder checkpoint of their own, <key>.<dataset>.weights (a path or `random`), and those
    # among them that the paper pretrains (so `random` is a substitute).
    encoder_datasets: tuple[str, ...] = ()
    pretrained_encoders: tuple[str, ...] = ()
    # Where its modules are (provenance, config_keys): empty for affrepro.<key>.
    package: str = ""
    # Its papers/<key>.yaml (empty: papers/<key>.yaml in the checkout), or an absolute path.
    paper_file: str = ""
    # A schema file for its config sections (`section`: <key>:, `datasets` and `demo`: {dataset: schema},
    # `overrides`: demo.overrides.<key>), merged into workflow/schemas/config.schema.yaml, which holds the
    # sections of the papers in PAPER_MODULES (affrepro.config.schema.load_schema).
    config_schema: str = ""


# Keys every paper's jobs may read: whether stand-ins are allowed, the device and precision, and the demo's.
SHARED_CONFIG_KEYS = ("allow_substitutes", "compute.device", "compute.precision", "demo.overrides.compute")


def config_keys(paper: Paper) -> tuple[str, ...]:
    """Every config.yaml key the paper's jobs may read: the shared ones, its datasets' locations and demo
    settings, its own section and its demo overrides, and what it declares besides."""
    datasets = [f"datasets.{name}" for name in paper.datasets] + [f"demo.{name}" for name in paper.datasets]
    own = [paper.key, f"demo.overrides.{paper.key}"]
    return (*SHARED_CONFIG_KEYS, *datasets, *own, *paper.config_keys)


def rules_file(paper: Paper) -> str:
    return paper.rules or f"workflow/rules/{paper.key}.smk"


def package(paper: Paper) -> str:
    return paper.package or f"affrepro.{paper.key}"


def plugged_in() -> tuple[str, ...]:
    """Declarations named in $AFFREPRO_PAPERS, after PAPER_MODULES."""
    return tuple(name.strip() for name in os.environ.get("AFFREPRO_PAPERS", "").split(",") if name.strip())


def _load() -> dict[str, Paper]:
    papers = {}
    for module in PAPER_MODULES + plugged_in():
        paper = importlib.import_module(module).PAPER
        if not isinstance(paper, Paper) or paper.key in papers:
            raise TypeError(f"{module}.PAPER must be an affrepro.registry.Paper with a key of its own")
        papers[paper.key] = paper
    if sum(paper.readme_table is not None for paper in papers.values()) != 1:
        raise TypeError("exactly one registered paper is the headline (results/<table>.csv)")
    return papers


PAPERS: dict[str, Paper] = _load()
HEADLINE = next(key for key, paper in PAPERS.items() if paper.readme_table is not None)


def paper(key: str) -> Paper:
    if key not in PAPERS:
        raise ValueError(f"unknown paper {key!r}; known: {', '.join(PAPERS)}")
    return PAPERS[key]


def dataset_titles() -> dict[str, str]:
    return {name: dataset.title for paper in PAPERS.values() for name, dataset in paper.datasets.items()}


def demo_locations() -> dict[str, str]:
    """Where each dataset's demo is written: {dataset: path under the working directory}."""
    return {name: dataset.demo for paper in PAPERS.values() for name, dataset in paper.datasets.items()}
