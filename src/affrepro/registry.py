"""The papers this repository reproduces: what the shared code needs to know of each, declared once.

Each paper package declares a `Paper` (affrepro.declarations) in `affrepro/<key>/paper.py`; `PAPERS` holds
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

from affrepro.declarations import Dataset, Encoder, Paper, Plot

__all__ = ["Dataset", "Encoder", "Paper", "Plot"]  # a declaration imports them from affrepro.declarations

PAPER_MODULES = ("affrepro.emi.paper", "affrepro.va.paper", "affrepro.ecan.paper")


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
