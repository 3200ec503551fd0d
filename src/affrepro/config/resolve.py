"""Demo against real data: the config a paper's runs use.

`effective_config` applies the demo overrides for a paper whose dataset root is null (only the demo
dataset's own settings when a paper mixes real and demo data); everything downstream reads only the
effective config, and its hash goes into every table's provenance.
"""

from __future__ import annotations

import copy

from affrepro.files import sha256_json


def paper_datasets(paper: str) -> list[str]:
    """The datasets a paper reads (its registry entry); it runs on the demo when any of their locations is null."""
    from affrepro import registry  # here, not above: the paper modules the registry loads import this module

    return list(registry.paper(paper).datasets)


def deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def dataset_location(config: dict, name: str) -> str | None:
    """A dataset's root folder (or file, for FER2013); None means the demo."""
    entry = config["datasets"][name]
    return entry["path"] if "path" in entry else entry["root"]


def uses_demo(config: dict, paper: str) -> bool:
    return bool(demo_datasets(config, paper))


def demo_datasets(config: dict, paper: str) -> list[str]:
    """The datasets of a paper that are the demo (location null)."""
    return [name for name in paper_datasets(paper) if dataset_location(config, name) is None]


def profile(config: dict, paper: str) -> str:
    """`demo` (every dataset of the paper is the demo), `paper` (all real) or `mixed` (ECAN: one real, one demo)."""
    demo = demo_datasets(config, paper)
    return "paper" if not demo else "demo" if len(demo) == len(paper_datasets(paper)) else "mixed"


def _under_keys(tree: dict, names: list[str]) -> dict:
    """The parts of a nested dict that sit under a key in `names`, with their paths."""
    found = {}
    for key, value in tree.items():
        if key in names:
            found[key] = value
        elif isinstance(value, dict) and (inner := _under_keys(value, names)):
            found[key] = inner
    return found


def demo_overrides(config: dict, paper: str) -> dict:
    """The part of `demo.overrides` a paper's runs get.

    All of it when every dataset of the paper is the demo; none on real data.
    When real and demo datasets are mixed (ECAN), only the settings of the demo
    datasets (the keys named after them, e.g. demo.overrides.ecan.fer2013): a
    shared setting (compute, ecan.train, ...) would change the real dataset's
    runs too, so it keeps the config's value.
    """
    overrides, kind = config["demo"]["overrides"], profile(config, paper)
    if kind != "mixed":
        return copy.deepcopy(overrides) if kind == "demo" else {}
    return copy.deepcopy(_under_keys({paper: overrides.get(paper, {})}, demo_datasets(config, paper)))


def effective_config(config: dict, paper: str) -> dict:
    """The config a paper's stages actually run with (demo overrides applied to demo data, see `demo_overrides`)."""
    resolved = deep_merge(config, demo_overrides(config, paper))
    resolved["profile"] = profile(config, paper)
    return resolved


def leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    """A nested dict as {dotted key: value}."""
    flat = {}
    for key, value in tree.items():
        flat |= leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return flat


def lookup(config: dict, dotted: str):
    for key in dotted.split("."):
        config = config.get(key) if isinstance(config, dict) else None
    return config


def mixed_data_notice(config: dict, paper: str) -> str | None:
    """What a run mixing real and demo data does with the demo overrides (printed at start-up); None otherwise."""
    if profile(config, paper) != "mixed":
        return None
    demo = demo_datasets(config, paper)
    real = [name for name in paper_datasets(paper) if name not in demo]
    applied = leaves(demo_overrides(config, paper))
    overrides = config["demo"]["overrides"]
    kept = {
        key: lookup(config, key)
        for key in leaves({"compute": overrides.get("compute", {}), paper: overrides.get(paper, {})})
        if key not in applied
    }
    return (
        f"{paper} runs on real {', '.join(real)} and demo {', '.join(demo)}. Demo overrides applied to the demo data only: "
        f"{'; '.join(f'{key} {lookup(config, key)} -> {value}' for key, value in applied.items()) or 'none'}. "
        f"Not applied (they would change the real data's runs; the demo runs use them too), your values stay: "
        f"{'; '.join(f'{key} = {value}' for key, value in kept.items()) or 'none'}."
    )


def config_hash(config: dict) -> str:
    return sha256_json(config)[:16]
