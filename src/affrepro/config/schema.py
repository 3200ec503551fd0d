"""Validating config.yaml against workflow/schemas/config.schema.yaml, each error naming its key and the fix."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from affrepro.config.reading import REPO_ROOT, SCHEMA_IN_CHECKOUT, ConfigError, read_yaml

SCHEMA_PATH = REPO_ROOT / SCHEMA_IN_CHECKOUT


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


# JSON Schema counts 3.0 as an integer; a count written 3.0 (epochs, shards) would reach code that needs an int,
# so here an integer is a whole number written without a fraction.
StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def _add(node: dict, name: str, schema: dict) -> None:
    node.setdefault("properties", {})[name] = schema
    node["required"] = [*node.get("required", []), name]


def load_schema(schema_path: Path = SCHEMA_PATH) -> dict:
    """The config schema, with the sections of every paper that brings its own schema file (registry
    `config_schema`: a paper plugged in from outside; those in PAPER_MODULES are in the file itself)."""
    from affrepro import registry  # here: the registry's paper modules import the config package

    schema = read_yaml(schema_path)
    for paper in registry.PAPERS.values():
        if not paper.config_schema:
            continue
        path = REPO_ROOT / paper.config_schema
        part = read_yaml(path)
        if not isinstance(part, dict) or "section" not in part:
            raise ConfigError(f"{path}: a paper's config schema needs `section` (the schema of {paper.key}:)")
        _add(schema, paper.key, part["section"])
        for name, dataset in part.get("datasets", {}).items():
            _add(schema["properties"]["datasets"], name, dataset)
        demo = schema["properties"]["demo"]
        for name, settings in part.get("demo", {}).items():
            _add(demo, name, settings)
        overrides = demo["properties"]["overrides"]
        overrides.setdefault("properties", {})[paper.key] = part.get("overrides", {"type": "object"})
    return schema


def validate_config(config: dict, source: str = "config.yaml", schema_path: Path = SCHEMA_PATH) -> None:
    validator = StrictValidator(load_schema(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    lines = []
    for error in errors:
        path = _key_path(error)
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            known = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
            where = f" under '{path}'" if error.absolute_path else ""
            lines.append(f"unknown key(s) {', '.join(repr(k) for k in unknown)}{where} (allowed: {known})")
        elif error.validator == "pattern" and "description" in error.schema:
            lines.append(f"'{path}': {error.instance!r} is not allowed; it must be {error.schema['description']}")
        else:
            lines.append(f"'{path}': {error.message}")
    raise ConfigError(
        f"{source} is invalid:\n  - "
        + "\n  - ".join(lines)
        + "\nFix these keys (see config.yaml comments and workflow/schemas/config.schema.yaml)."
    )
