"""The papers this repository reproduces, and what the table engine needs from each.

Every paper package `affrepro.<key>` has the same modules with the same roles:

    plan       the samples/runs and their ids, shards, resources (pure, used by the rules at parse time)
    prepare    dataset -> model inputs (faces and audio, trials, or image splits)
    features   per-sample feature extraction (EMI, VA)
    train      one training job: a branch, a fold or a run
    aggregate  runs -> the numbers a table reads (late fusion, fold summary, mean over seeds)
    provenance the provenance of the paper's tables (the PaperProvenance interface below)

Models live in `affrepro.models`, metrics in `affrepro.metrics`; paper-only
pieces (ECAN's augmentations, losses and figures; VA's folds; dataset
statistics) sit beside these modules.
"""

from __future__ import annotations

import copy
import functools
import importlib
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

import jsonschema

from affrepro import registry
from affrepro.config.reading import REPO_ROOT, parse_yaml, read_text, read_yaml
from affrepro.config.schema import StrictValidator

PAPERS = tuple(registry.PAPERS)
PAPERS_DIR = REPO_ROOT / "papers"
PAPER_SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "paper.schema.yaml"


class PaperFileError(ValueError):
    """A papers/<key>.yaml that cannot be read or does not follow workflow/schemas/paper.schema.yaml."""


@functools.cache
def _validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    return StrictValidator(read_yaml(schema_path))


def validate_paper(paper, source: str | Path, schema_path: Path = PAPER_SCHEMA_PATH) -> None:
    """Raise PaperFileError naming `source` and every key that breaks the schema or the tables' own rules."""
    errors = sorted(_validator(Path(schema_path)).iter_errors(paper), key=lambda e: list(map(str, e.absolute_path)))
    lines = []
    for error in errors:
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        message = error.message if len(error.message) <= 300 else error.message[:300] + " ..."
        lines.append(f"'{where}': {message}")
    if not lines:
        lines = table_problems(paper)
    if not lines:
        return
    raise PaperFileError(
        f"{source} is invalid:\n  - "
        + "\n  - ".join(lines)
        + f"\nFix these keys (see {schema_path.name} in workflow/schemas/)."
    )


DURATION = re.compile(r"\d+:[0-5]\d:[0-5]\d")  # paper_format h:mm:ss


def table_problems(paper: dict) -> list[str]:
    """What the schema cannot say: each row's values name the table's metrics, a paper value is a number (or a
    string in the metric's paper_format), and our values come from a workflow file (a relative path under
    work/ or results/)."""
    problems = []
    for name, table in paper.get("tables", {}).items():
        metrics = table["metrics"]
        for index, row in enumerate(table["rows"]):
            where = f"tables.{name}.rows.{index}"
            for part in ("paper", "ours"):
                unknown = sorted(set(row.get(part) or {}) - set(metrics))
                if unknown:
                    problems.append(f"'{where}.{part}': {unknown} not among the table's metrics ({', '.join(metrics)})")
            for metric, value in (row.get("paper") or {}).items():
                fmt = (metrics.get(metric) or {}).get("paper_format")
                if isinstance(value, str) and not (fmt == "h:mm:ss" and DURATION.fullmatch(value)):
                    expected = (
                        "an h:mm:ss duration" if fmt else "a number (or null); a printed format needs paper_format"
                    )
                    problems.append(f"'{where}.paper.{metric}': {value!r} is not {expected}")
            for metric, source in (row.get("ours") or {}).items():
                file = Path(source["file"])
                if file.is_absolute() or ".." in file.parts or file.parts[0] not in ("work", "results"):
                    problems.append(
                        f"'{where}.ours.{metric}.file': {source['file']!r} must be a workflow file, relative, under work/ or results/"
                    )
    return problems


def paper_file(key: str) -> Path:
    """The paper's papers/<key>.yaml (a paper plugged in from elsewhere may keep it beside its code)."""
    declared = registry.paper(key).paper_file
    return REPO_ROOT / declared if declared else PAPERS_DIR / f"{key}.yaml"


def load_paper(key: str, papers_dir: Path | None = None) -> dict:
    """papers/<key>.yaml: every number the paper reports, which run fills each cell, the readings we chose, the claims.

    Validated against workflow/schemas/paper.schema.yaml; a bad file raises PaperFileError naming it.
    `papers_dir` reads <key>.yaml there instead (a test's copy).
    """
    path = paper_file(key) if papers_dir is None else Path(papers_dir) / f"{key}.yaml"
    # The workflow asks for a paper's file once per table job while it plans: parse and validate each
    # content once, and hand each caller its own copy.
    paper = copy.deepcopy(_parsed_paper(path, read_text(path, PaperFileError)))
    if paper["paper"]["key"] != key:
        raise PaperFileError(f"{path} is invalid: 'paper.key' is {paper['paper']['key']!r}, the file of paper {key!r}")
    return paper


@functools.lru_cache(maxsize=16)
def _parsed_paper(path: Path, text: str) -> dict:
    paper = parse_yaml(text, path, PaperFileError)
    validate_paper(paper, path)
    return paper


def targets(key: str) -> list[str]:
    """Every results file of the paper (its `<key>_tables` target, a DVC stage's outs): the tables and figures
    its papers/<key>.yaml lists, the registry's extra files, the training curves and the claims."""
    paper, spec = registry.paper(key), load_paper(key)
    table_files = [f"{t}.{ext}" for t in spec["tables"] for ext in ("csv", "json", "provenance.json")]
    files = [f"results/{name}" for name in table_files] if key == registry.HEADLINE else []
    files += [f"results/{key}/{name}" for name in table_files]
    files += [f"results/{key}/{f}.{ext}" for f in spec.get("figures", {}) for ext in ("png", "csv")]
    files += [f"results/{key}/{name}" for name in paper.extra_results]
    return files + [f"results/{key}/curves/training.{ext}" for ext in ("csv", "png")] + [f"results/{key}/claims.csv"]


@runtime_checkable
class PaperProvenance(Protocol):
    """What `affrepro.tables` needs from `affrepro.<key>.provenance`."""

    def provenance(self, config: dict, inputs: dict[str, Path]) -> dict:
        """The JSON provenance of a table, from the files the table rule names as its provenance inputs."""

    def profile_note(self, config: dict) -> str:
        """The note every computed row carries (demo data, reduced budget), or ''."""


def provenance(key: str) -> PaperProvenance:
    if key not in PAPERS:
        raise ValueError(f"unknown paper {key!r}; known: {', '.join(PAPERS)}")
    name = f"{registry.package(registry.paper(key))}.provenance"
    module = importlib.import_module(name)
    if not isinstance(module, PaperProvenance):
        raise TypeError(f"{name} does not implement affrepro.papers.PaperProvenance (provenance, profile_note)")
    return module
