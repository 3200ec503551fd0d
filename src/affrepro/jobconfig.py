"""The part of the config one workflow job reads: a job reruns when, and only when, a value it reads changes.

Each job's settings class (`affrepro.<paper>.settings.JOBS`, affrepro.jobsettings) names the config keys
the job reads, given the paper's effective config and the job's fields (its wildcards, e.g. the extractor).
(There, not in the job modules, which import torch: the workflow reads them while it plans.) The workflow
writes the paper's effective config (demo overrides applied) cut down to those keys, `view`, to
work/config/<module>-<hash>.yaml and names that file on the job's command line. The file's name, and so the
job's params, changes exactly when one of those values changes: Snakemake's params trigger reruns that job and
no other.

A job reads its view strictly (`StrictConfig`): looking up, testing or listing a key that no listed key covers
raises `UndeclaredKeyError`, naming the key and the module: a job's settings are read from it, so a
`derived` field whose key list forgets a key fails the first time the job runs (the tiny workflow tests run
every job), never silently.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from affrepro import registry
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import effective_config
from affrepro.files import sha256_json, write_text
from affrepro.jobsettings import cut, within

VIEW_KEY = "job_config"  # the view file's header: {"module": ..., "keys": [...]}; the values are beside it


class UndeclaredKeyError(RuntimeError):
    """A job read a config key its module does not list (not a KeyError, so no `except KeyError` hides it)."""


def _covers(declared: tuple[str, ...], dotted: str) -> bool:
    """Whether `dotted` is a listed key, inside one, or on the way to one."""
    return within(dotted, declared) or any(within(d, (dotted,)) for d in declared)


class StrictConfig(dict):
    """A config node above the listed keys (their values are plain dicts and lists).

    Present keys read as usual; a missing key that a listed key covers is missing as in any dict (`get` gives
    the default); any other key raises UndeclaredKeyError, and so does listing the node's keys, since the
    listing would show only the keys the module asked for.
    """

    def __init__(self, values: dict, prefix: str, declared: tuple[str, ...], module: str):
        super().__init__(values)
        self.prefix, self.declared, self.module = prefix, declared, module

    def _check(self, key) -> None:
        if not _covers(self.declared, f"{self.prefix}{key}"):
            raise UndeclaredKeyError(
                f"{self.module} read the config key {self.prefix}{key}, which its settings do not list "
                f"({', '.join(self.declared)}); add it there (affrepro.<paper>.settings, affrepro.jobsettings)"
            )

    def __missing__(self, key):
        self._check(key)
        raise KeyError(key)

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        self._check(key)
        return default

    def __contains__(self, key) -> bool:
        if dict.__contains__(self, key):
            return True
        self._check(key)
        return False

    def _listing(self, *_):
        raise UndeclaredKeyError(
            f"{self.module} listed the keys of config {self.prefix.rstrip('.') or '(top level)'}, of which its view "
            f"holds only {', '.join(self.declared)}; list the whole key in its settings (affrepro.<paper>.settings)"
        )

    __iter__ = keys = values = items = __len__ = _listing

    def plain(self) -> dict:
        """The node's values as plain dicts (for writing the view back)."""
        return {
            key: value.plain() if isinstance(value, StrictConfig) else value
            for key, value in ((k, dict.__getitem__(self, k)) for k in dict.keys(self))
        }

    def __reduce__(self):
        return (StrictConfig, (self.plain(), self.prefix, self.declared, self.module))


def plain(node: dict) -> dict:
    """A config node as plain dicts (a StrictConfig's values, or the node itself)."""
    return node.plain() if isinstance(node, StrictConfig) else node


def _strict(values: dict, prefix: str, declared: tuple[str, ...], module: str) -> StrictConfig:
    nodes = {
        key: _strict(value, f"{prefix}{key}.", declared, module)
        if isinstance(value, dict) and f"{prefix}{key}" not in declared and not _inside(declared, f"{prefix}{key}")
        else value
        for key, value in values.items()
    }
    return StrictConfig(nodes, prefix, declared, module)


def _inside(declared: tuple[str, ...], dotted: str) -> bool:
    return within(dotted, [d for d in declared if d != dotted])


def settings_class(paper: str, module: str):
    """The settings class of `paper`'s job running `module` (e.g. "ecan.train")."""
    return registry.job_settings(registry.paper(paper))[module]


def keys_for(paper: str, module: str, config: dict, /, **fields) -> tuple[str, ...]:
    """The dotted keys a job of `paper` running `module` reads, given its fields."""
    return settings_class(paper, module).keys(config, **fields)


def view_file(paper: str, module: str, config: dict, /, **fields) -> tuple[str, dict]:
    """Where the job's view lives (content-addressed, relative to the working directory) and its content."""
    keys = keys_for(paper, module, config, **fields)
    content = {VIEW_KEY: {"module": module, "keys": list(keys)}, **cut(config, keys)}
    return f"work/config/{module}-{sha256_json(content)[:16]}.yaml", content


def write_view(path: str | Path, content: dict) -> None:
    """Once per content; a copy whose content no longer matches its name (edited by hand?) is written again,
    with a warning."""
    path = Path(path)
    if path.is_file():
        try:
            if yaml.safe_load(path.read_text()) == content:
                return
        except (OSError, yaml.YAMLError):
            pass
        print(
            f"warning: {path} did not hold the config its name says (edited by hand?); writing it again",
            file=sys.stderr,
        )
    write_text(path, yaml.safe_dump(content, sort_keys=True))


def is_view(content: dict) -> bool:
    return isinstance(content, dict) and VIEW_KEY in content


def load_view(content: dict, path: str | Path) -> StrictConfig:
    """The strict config of a view file read into `content` (a job's view, or a paper's record with the demo
    overrides applied as the paper's jobs had them); a file edited by hand is refused."""
    header = content.pop(VIEW_KEY)
    name = f"{header['module']}-" if "module" in header else f"paper-{header['paper']}-"
    if Path(path).name != f"{name}{sha256_json({VIEW_KEY: header, **content})[:16]}.yaml":
        raise ConfigError(
            f"{path}: its content no longer matches the hash in its name (edited by hand?); edit config.yaml "
            f"(or pass --config to snakemake) instead, delete {path} and rerun"
        )
    if "module" in header:
        return _strict(content, "", tuple(header["keys"]), f"affrepro.{header['module']}")
    keys = header["keys"]
    content.setdefault("demo", {}).setdefault("overrides", {})
    effective = effective_config(content, header["paper"])
    overridden = [k.removeprefix("demo.overrides.") for k in keys if k.startswith("demo.overrides.")]
    return _strict(effective, "", tuple(keys + overridden + ["profile", "demo.overrides"]), f"{path}")


def paper_keys(paper: str, config: dict) -> tuple[str, ...]:
    """The config.yaml keys the paper's jobs may read (registry.config_keys; also its DVC stage's params, which
    `dvc params diff` compares)."""
    return registry.config_keys(registry.paper(paper), config["demo"]["overrides"])


def paper_record(config: dict, paper: str) -> tuple[str, dict]:
    """The paper's record (config.yaml cut down to `paper_keys`) and where it lives: its results rules read it,
    so they rerun when one of those keys changes, and in a fresh clone, where it is new."""
    keys = paper_keys(paper, config)
    content = {VIEW_KEY: {"paper": paper, "keys": list(keys)}, **cut(config, keys)}
    return f"work/config/paper-{paper}-{sha256_json(content)[:16]}.yaml", content
