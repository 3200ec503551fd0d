"""Cross-key rules JSON Schema cannot express: each paper declares its own (registry `config_problems`)."""

from __future__ import annotations

from affrepro import registry
from affrepro.config.reading import ConfigError


def check_consistency(config: dict, source: str = "config.yaml") -> None:
    """Every paper's cross-key rules; one error lists every broken rule, each naming its key."""
    problems = [problem for paper in registry.PAPERS.values() for problem in paper.config_problems(config)]
    if problems:
        raise ConfigError(f"{source} is inconsistent:\n  - " + "\n  - ".join(problems))
