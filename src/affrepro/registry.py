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
from affrepro.jobsettings import covering, within

__all__ = ["Dataset", "Encoder", "Paper", "Plot"]  # a declaration imports them from affrepro.declarations

PAPER_MODULES = ("affrepro.emi.paper", "affrepro.va.paper", "affrepro.ecan.paper")


# Keys every paper's jobs may read: whether stand-ins are allowed, the device and precision, and the demo's.
SHARED_CONFIG_KEYS = ("allow_substitutes", "compute.device", "compute.precision", "demo.overrides.compute")


def config_keys(paper: Paper, overrides: dict) -> tuple[str, ...]:
    """Every config.yaml key the paper's jobs may read: the shared ones, its datasets' locations and demo
    settings, its own section and its demo overrides, then the keys outside those that its jobs' settings read
    (affrepro.jobsettings), each with the demo override in `overrides` (a config's demo.overrides) that
    changes it: a key config.yaml lacks would stop DVC."""
    datasets = [f"datasets.{name}" for name in paper.datasets] + [f"demo.{name}" for name in paper.datasets]
    listed = (*SHARED_CONFIG_KEYS, *datasets, paper.key, f"demo.overrides.{paper.key}")
    jobs = [key for job in job_settings(paper).values() for key in job.stage_keys()]
    outside = covering(tuple(dict.fromkeys(k for k in jobs if not within(k, listed))))
    overridden = [f"demo.overrides.{found}" for key in outside if (found := _override(overrides, key))]
    return (*listed, *outside, *dict.fromkeys(overridden))


def _override(overrides: dict, dotted: str) -> str | None:
    """The key of `overrides` that sets `dotted` or a part of it (the key itself, a key inside it, or a value
    above it), if any."""
    node, path = overrides, []
    for part in dotted.split("."):
        if not isinstance(node, dict):
            break
        if part not in node:
            return None
        node, path = node[part], path + [part]
    return ".".join(path)


def job_settings(paper: Paper) -> dict:
    """The paper's job module -> settings class (`<package>.settings.JOBS`)."""
    return importlib.import_module(f"{package(paper)}.settings").JOBS


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
