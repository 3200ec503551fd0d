"""`load_config`: config.yaml read, validated against the schema and checked across keys."""

from __future__ import annotations

from pathlib import Path

from affrepro.config.consistency import check_consistency
from affrepro.config.reading import REPO_ROOT, ConfigError, read_yaml
from affrepro.config.schema import validate_config


def load_config(path: str | Path = REPO_ROOT / "config.yaml") -> dict:
    path = Path(path)
    config = read_yaml(path, error=ConfigError)
    validate_config(config, source=str(path))
    check_consistency(config, source=str(path))
    return config
