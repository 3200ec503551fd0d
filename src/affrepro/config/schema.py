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


def validate_config(config: dict, source: str = "config.yaml", schema_path: Path = SCHEMA_PATH) -> None:
    validator = StrictValidator(read_yaml(schema_path))
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
