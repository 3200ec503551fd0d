"""Where the repository is, the config error, and reading YAML files with a message naming the file."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

SCHEMA_IN_CHECKOUT = Path("workflow") / "schemas" / "config.schema.yaml"


def _is_checkout(root: Path) -> bool:
    return (root / "config.yaml").is_file() and (root / SCHEMA_IN_CHECKOUT).is_file()


def _candidates():
    yield Path(__file__).resolve().parents[3]
    if os.environ.get("AFFREPRO_REPO_ROOT"):
        yield Path(os.environ["AFFREPRO_REPO_ROOT"]).resolve()
    try:
        here = Path.cwd()
    except OSError:  # the working directory was removed
        return
    yield from [here, *here.parents]


def find_checkout() -> Path | None:
    """The affrepro checkout: the one this code is in (an editable install, PYTHONPATH=src), else
    $AFFREPRO_REPO_ROOT (the workflow sets it for its jobs), else the working directory or a folder above it.
    A checkout is a folder with config.yaml and its schema; a non-editable install holds neither."""
    return next((root for root in _candidates() if _is_checkout(root)), None)


# Found once, when first imported; without a checkout the code's own place (the commands that need one say so).
CHECKOUT = find_checkout()
REPO_ROOT = CHECKOUT or Path(__file__).resolve().parents[3]


class ConfigError(ValueError):
    """A config.yaml problem, with the key path and the fix in the message."""


def repository_root() -> Path:
    """The checkout (`find_checkout`), or a ConfigError saying how to name one."""
    if CHECKOUT is None:
        raise ConfigError(
            f"no affrepro checkout found (a folder with config.yaml and {SCHEMA_IN_CHECKOUT}): the installed package "
            "holds no config.yaml. Run affrepro inside the affrepro repository, or set AFFREPRO_REPO_ROOT=/path/to/affrepro"
        )
    return CHECKOUT


def read_text(path: str | Path, error: type[Exception]) -> str:
    """A file's text; an unreadable file raises `error` naming it."""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def parse_yaml(text: str, source: str | Path, error: type[Exception]):
    """YAML text's data (safe loading; libyaml's parser when PyYAML has it, the same data ~10x faster:
    the workflow reads config and paper files at every start, and a no-op run should take ~1 s).
    Bad YAML raises `error` naming `source`."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML ({exc})") from exc


def read_yaml(path: str | Path, error: type[Exception] = ConfigError):
    """A YAML file's data; an unreadable file or bad YAML raises `error` naming the file."""
    return parse_yaml(read_text(path, error), path, error)
