"""Snakemake's `--config` values typed by the config schema and merged into the config."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from affrepro.config.resolve import deep_merge, leaves
from affrepro.config.schema import SCHEMA_PATH, load_schema

YAML_NULLS = ("null", "Null", "NULL", "~", "")
YAML_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _branches(node: dict, root: dict) -> list[dict]:
    """A schema node with its $ref, allOf and anyOf parts: every schema a value there must (or may) satisfy."""
    found = [node]
    if "$ref" in node:
        found += _branches(root["$defs"][node["$ref"].rsplit("/", 1)[1]], root)
    for part in node.get("allOf", []) + node.get("anyOf", []):
        found += _branches(part, root)
    return found


def _valid(value, node: dict, root: dict) -> bool:
    return jsonschema.Draft202012Validator({**node, "$defs": root.get("$defs", {})}).is_valid(value)


def _typed_text(text: str, node: dict, root: dict):
    """`text` read as YAML would read it, choosing the reading the schema accepts: null, the text, a boolean, a number.

    When none is accepted, the most specific reading is kept, so the error names the real problem
    (3 below a minimum of 7, not "'3' is not an integer").
    """
    readings = ([None] if text in YAML_NULLS else []) + [text] + ([YAML_BOOLS[text]] if text in YAML_BOOLS else [])
    for parse in (int, float):
        try:
            readings.append(parse(text))
        except ValueError:
            pass
    typed = [reading for reading in readings if not isinstance(reading, str)]
    return next((reading for reading in readings if _valid(reading, node, root)), typed[0] if typed else text)


def coerce_to_schema(value, node: dict, root: dict):
    """`value` with its text leaves typed as the schema says (integers, numbers, booleans, null).

    Snakemake reads a nested `--config key='{a: {b: 3}}'` value as YAML with
    every scalar left as text, so `3` arrives as "3" and `null` as "null"; this
    gives them the types they would have in config.yaml. Text stays text where
    the schema accepts text and the value is not `null` (so a path stays a path).
    """
    branches = _branches(node, root)
    if isinstance(value, dict):

        def child(key):
            for branch in branches:
                if key in branch.get("properties", {}):
                    return branch["properties"][key]
            return next(
                (b["additionalProperties"] for b in branches if isinstance(b.get("additionalProperties"), dict)), {}
            )

        return {key: coerce_to_schema(item, child(key), root) for key, item in value.items()}
    if isinstance(value, list):
        items = next((b["items"] for b in branches if isinstance(b.get("items"), dict)), {})
        return [coerce_to_schema(item, items, root) for item in value]
    if isinstance(value, str):
        return _typed_text(value, node, root)
    return value


def command_line_config(overrides: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Snakemake's `--config` values (nested ones arrive as text) typed against the config schema."""
    schema = load_schema(schema_path)
    return coerce_to_schema(dict(overrides), schema, schema)


def _drop(tree: dict, dotted: str) -> bool:
    """Remove the leaf at a dotted path (and folders it leaves empty); whether there was one."""
    head, _, rest = dotted.partition(".")
    if head not in tree:
        return False
    if not rest:
        del tree[head]
        return True
    dropped = isinstance(tree[head], dict) and _drop(tree[head], rest)
    if dropped and not tree[head]:
        del tree[head]
    return dropped


def apply_command_line(config: dict, overrides: dict) -> list[str]:
    """Merge Snakemake's `--config` values into `config` (in place, typed by the schema); they win over demo.overrides.

    A value given on the command line is meant: on demo data it is not replaced by
    the demo override of the same key. Returns those keys (`key = value`), for the start-up message.
    """
    given = command_line_config(overrides)
    for key, value in given.items():
        config[key] = (
            deep_merge(config[key], value) if isinstance(value, dict) and isinstance(config.get(key), dict) else value
        )
    demo_overrides = config.get("demo", {}).get("overrides", {})
    return [f"{key} = {value}" for key, value in leaves(given).items() if _drop(demo_overrides, key)]
