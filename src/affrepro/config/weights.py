"""A real run's models: every weight it needs is set and loadable offline, and no stand-in runs unless allowed.

Checked at start-up so a run does not stop after hours of preprocessing; one message lists every offending
key with its fix. Which stand-ins a run uses: affrepro.substitutes.
"""

from __future__ import annotations

from pathlib import Path

from affrepro import registry, substitutes
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import dataset_location


def check_weights(config: dict, paper: str) -> None:
    """On real data, every model a paper uses must be the paper's, loadable offline, or an allowed substitute."""
    problems = [*missing_weights(config, paper)]
    if not config["allow_substitutes"]:
        problems += [
            f"{text}; {substitutes.fix(paper, component)}"
            for component, text in substitutes.substitutes(config, paper).items()
        ]
    if problems:
        raise ConfigError(
            "a real-data run cannot use the paper's models:\n  - "
            + "\n  - ".join(problems)
            + "\nFix each key, or set allow_substitutes: true for an exploratory run (every affected table row then names its substitute)."
        )


def weighted_extractors(config: dict, paper: str) -> list[str]:
    """Extractors with pretrained weights that a paper's run uses (AUs and MFCC have none)."""
    return [e for e in registry.paper(paper).extractors(config) if e not in substitutes.NO_WEIGHTS]


def _extractor_problem(extractor: str, value) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    if value is None:
        return f"extractors.{extractor}.weights is null: give a checkpoint path, a cached hub id, or `random`"
    if value == "random" or Path(value).expanduser().exists():
        return None
    if isinstance(try_to_load_from_cache(value, "config.json"), str):
        return None
    return (
        f"extractors.{extractor}.weights: {value!r} is neither a local path nor in the local Hugging Face cache; "
        f"fetch it where there is internet (`huggingface-cli download {value}`) or give a local folder"
    )


def _encoder_problem(paper: str, dataset: str, value) -> str | None:
    encoder = registry.paper(paper).encoder
    if value is None:
        titles = registry.dataset_titles()
        pretrained = "; ".join(
            f"{encoder.name} pretrained on {on} for {titles[d]}" for d, on in encoder.pretrained_on.items()
        )
        return f"{paper}.{dataset}.weights is null: give the encoder checkpoint (paper: {pretrained}) or `random`"
    if value == "random" or Path(value).expanduser().exists():
        return None
    return f"{paper}.{dataset}.weights: {value} does not exist; give a local {encoder.layout}-layout {encoder.name} checkpoint or `random`"


def missing_weights(config: dict, paper: str) -> list[str]:
    """Real-data weights that are unset or cannot be loaded offline, each with its fix."""
    if config["profile"] == "demo":
        return []
    extractors = sorted(set(weighted_extractors(config, paper)))
    encoder = registry.paper(paper).encoder
    encoders = [d for d in (encoder.datasets if encoder else ()) if dataset_location(config, d) is not None]
    found = [_extractor_problem(e, config["extractors"][e]["weights"]) for e in extractors]
    found += [_encoder_problem(paper, d, config[paper][d]["weights"]) for d in encoders]
    return [problem for problem in found if problem]
