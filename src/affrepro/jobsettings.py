"""One frozen settings object per workflow job, each field naming the config key it is read from.

A paper declares its jobs' settings in `affrepro/<key>/settings.py` (no torch: the workflow reads them while
it plans), one class per job module:

    @dataclass(frozen=True, kw_only=True)
    class Train(JobSettings, module="emi.train"):
        feature_set: str                                        # the job's own field (its wildcard)
        seeds: list = setting("emi.seeds")
        spec: dict = setting("emi.feature_sets.{feature_set}")
        samples: dict = part(plan.sample_keys)                  # keys that follow the config's values
        substitutes: list = substitutes.field("emi", extractors_of_the_feature_set)

That one declaration gives
- `keys(config, **fields)`: the dotted keys the job reads, its rule's params (affrepro.jobconfig writes the
  config cut down to them, so the job reruns when, and only when, one of them changes);
- `from_config(config, **fields)`: the object the job runs with;
- `stage_keys()`: those keys whatever the job's fields and the config's values, which the paper's DVC stage
  lists (affrepro.registry.config_keys).

A `setting` key may name the job's fields in braces; its stage keys are the key over each of the field's
`choices`, or, without them, the key cut before the braces. A `derived` field is computed from the config by
a function, with a second function listing the keys the first reads (they may depend on the config's values:
a demo's settings only on demo data); they are not stage keys, so each must lie within a key the paper's
stage lists anyway (its datasets, its own section, a `setting`'s key: tested).
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Callable
from typing import ClassVar

FIELD = re.compile(r"\{(\w+)\}")


def setting(key: str, *, choices: dict[str, tuple[str, ...]] | None = None, when: dict | None = None):
    """A field read from the config key `key`; with `when` ({field: values}), only by a job whose fields have
    those values (None for the others)."""
    when = {name: (values,) if isinstance(values, str) else tuple(values) for name, values in (when or {}).items()}
    return dataclasses.field(default=None, metadata={"key": key, "choices": choices or {}, "when": when})


def derived(keys: Callable[..., list[str]], value: Callable):
    """A field whose value is `value(config, **fields)`, which reads the keys `keys(config, **fields)`."""
    return dataclasses.field(default=None, metadata={"keys": keys, "value": value})


MISSING = object()


def _walk(config: dict, dotted: str):
    """The value at `dotted`, or MISSING."""
    node = config
    for name in dotted.split("."):
        if not isinstance(node, dict) or name not in node:
            return MISSING
        node = node[name]
    return node


def _lookup(config: dict, dotted: str, owner: str):
    value = _walk(config, dotted)
    if value is MISSING:
        raise KeyError(f"{owner}: the config has no {dotted}")
    return _plain(value)


def within(key: str, keys) -> bool:
    """Whether `key` is one of `keys` or inside one."""
    return any(key == other or key.startswith(other + ".") for other in keys)


def _plain(value):
    """A config value as plain dicts and lists (a job's strict view holds its own dict type)."""
    if isinstance(value, dict):
        return {key: _plain(dict.__getitem__(value, key)) for key in dict.keys(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class JobSettings:
    """The base of a job's frozen settings dataclass (`class X(JobSettings, module="<paper>.<job>")`)."""

    module: ClassVar[str]

    def __init_subclass__(cls, module: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        if module:
            cls.module = module

    @classmethod
    def _fields(cls, kind: str) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if kind in f.metadata]

    @classmethod
    def own_fields(cls) -> list[str]:
        """The fields the job gives (its wildcards), not read from the config."""
        return [f.name for f in dataclasses.fields(cls) if not f.metadata and f.default is dataclasses.MISSING]

    @classmethod
    def job_fields(cls, fields: dict) -> dict:
        """The job's fields with those that follow from them (a class whose keys name a part of a wildcard)."""
        return fields

    @classmethod
    def _read(cls, fields: dict) -> dict[str, str]:
        """field name -> the key it is read from, for a job with these fields."""
        return {
            f.name: f.metadata["key"].format(**fields)
            for f in cls._fields("key")
            if all(fields.get(name) in values for name, values in f.metadata["when"].items())
        }

    @classmethod
    def keys(cls, config: dict, **fields) -> tuple[str, ...]:
        """The dotted config keys the job reads, given its fields (extra fields, e.g. other wildcards, are ignored)."""
        fields = cls.job_fields(fields)
        keys = list(cls._read(fields).values())
        keys += [key for f in cls._fields("keys") for key in f.metadata["keys"](config, **fields)]
        return tuple(sorted(dict.fromkeys(keys)))

    @classmethod
    def from_config(cls, config: dict, **fields):
        fields = cls.job_fields(fields)
        own = {name: fields[name] for name in cls.own_fields()}
        values = {name: _lookup(config, key, cls.module) for name, key in cls._read(fields).items()}
        values |= {f.name: f.metadata["value"](config, **fields) for f in cls._fields("value")}
        return cls(**own, **values)

    @classmethod
    def stage_keys(cls) -> tuple[str, ...]:
        keys = []
        for f in cls._fields("key"):
            template, choices = f.metadata["key"], f.metadata["choices"]
            names = FIELD.findall(template)
            if not names:
                keys.append(template)
            elif set(names) <= set(choices):
                keys += [_fill(template, names, combination) for combination in _combinations(names, choices)]
            elif template.startswith("{"):
                raise ValueError(f"{cls.__name__}: {template!r} names no key before its first field; give its choices")
            else:
                keys.append(template.split("{")[0].rstrip("."))
        return tuple(dict.fromkeys(keys))


@dataclasses.dataclass(frozen=True, kw_only=True)
class OnDevice(JobSettings):
    """The settings of a job that runs torch: compute.device and compute.precision. Its threads are its rule's
    {threads}, which affrepro.jobs puts in the config's compute (not a key the job's view lists)."""

    device: str = setting("compute.device")
    precision: str = setting("compute.precision")
    threads: int | None = derived(lambda config, **_: [], lambda config, **_: _threads(config))

    @property
    def compute(self) -> dict:
        """What affrepro.compute.setup reads."""
        return {"device": self.device, "precision": self.precision, "threads": self.threads}


def _threads(config: dict) -> int | None:
    """The rule's {threads}, where the job runs torch (a job whose `when` leaves out compute has none)."""
    return config["compute"]["threads"] if dict.__contains__(config, "compute") else None


def profile():
    """A field holding the profile (demo, paper or mixed), which affrepro.config.resolve sets from where the
    paper's datasets are: not a config.yaml key, so not in the DVC stage, which lists the datasets' keys."""
    return derived(lambda config, **_: ["profile"], lambda config, **_: config["profile"])


def part(keys: Callable[[dict], list[str]]):
    """A derived field holding the config cut down to `keys(config)`: for a function the planner shares,
    which reads the config (e.g. a plan's samples)."""
    return derived(lambda config, **_: keys(config), lambda config, **_: cut(config, keys(config)))


def cut(config: dict, keys) -> dict:
    """`config` cut down to `keys` (nested as in the config, plain dicts; a key the config lacks is left out)."""
    kept: dict = {}
    for dotted in keys:
        value = _walk(config, dotted)
        if value is not MISSING:
            *parents, last = dotted.split(".")
            target = kept
            for name in parents:
                target = target.setdefault(name, {})
            target[last] = _plain(value)
    return kept


def _combinations(names: list[str], choices: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    combinations: list[tuple[str, ...]] = [()]
    for name in names:
        combinations = [done + (choice,) for done in combinations for choice in choices[name]]
    return combinations


def _fill(template: str, names: list[str], values: tuple[str, ...]) -> str:
    return string.Formatter().vformat(template, (), dict(zip(names, values)))


def by_module(*classes: type[JobSettings]) -> dict[str, type[JobSettings]]:
    """A paper's `JOBS`: job module -> its settings class."""
    return {cls.module: cls for cls in classes}


def covering(keys: tuple[str, ...]) -> tuple[str, ...]:
    """`keys` without those another of them holds (a key inside another one)."""
    return tuple(k for k in keys if not within(k, [other for other in keys if other != k]))
