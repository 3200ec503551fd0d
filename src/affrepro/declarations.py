"""What a paper declares for the shared code (its `affrepro/<key>/paper.py`, gathered by affrepro.registry).

Apart from the registry, so that a declaration can be imported first: importing the registry loads every
declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


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
class Encoder:
    """An encoder a paper trains on each of `datasets`, from the checkpoint in <key>.<dataset>.weights (a path or
    `random`); on the datasets in `pretrained_on` the paper starts from a pretrained one, so `random` there is a
    substitute."""

    name: str  # e.g. "ResNet-18"
    layout: str  # the checkpoint's key layout, e.g. "torchvision"
    datasets: tuple[str, ...]
    pretrained_on: dict[str, str]  # dataset -> what the paper's checkpoint was pretrained on, e.g. "MS-Celeb-1M"


@dataclass(frozen=True)
class Paper:
    key: str
    name: str  # how outputs and plots name it, e.g. "EMI"
    title: str  # one line: what the paper does, the first comment of its dvc.yaml stage
    datasets: dict[str, Dataset]
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
    # The image encoder it trains per dataset, when it has one (affrepro.config.weights, affrepro.substitutes).
    encoder: Encoder | None = None
    # Where its modules are (provenance, settings): empty for affrepro.<key>.
    package: str = ""
    # Its papers/<key>.yaml (empty: papers/<key>.yaml in the checkout), or an absolute path.
    paper_file: str = ""
    # A schema file for its config sections (`section`: <key>:, `datasets` and `demo`: {dataset: schema},
    # `overrides`: demo.overrides.<key>), merged into workflow/schemas/config.schema.yaml, which holds the
    # sections of the papers in PAPER_MODULES (affrepro.config.schema.load_schema).
    config_schema: str = ""
