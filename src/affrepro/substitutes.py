"""The substitutes policy: which stand-ins for a paper's models a real-data run uses, recorded in its provenance.

A component is an extractor a paper uses (`extractors.<name>.weights: random` runs a random-init model; the
action units come from a crop-based approximation when `extractors.openface.bin` is null) or a dataset whose
encoder the paper pretrains (`<paper>.<dataset>.weights: random` trains from random init). What each paper
uses is declared in its registry entry (`extractors`, `encoder`). The demo always uses
stand-ins and every demo note says so, so only real datasets count. Each training job writes the texts of
its stand-ins into its metrics file (`substitutes`); every table row reading that file names them, and a
claim reading it is not comparable (affrepro.claims). `allow_substitutes: false` stops a real run that
would use one before it starts (affrepro.config.weights).
"""

from __future__ import annotations

from collections.abc import Callable

from affrepro import registry
from affrepro.config.resolve import dataset_location
from affrepro.jobsettings import derived

NO_WEIGHTS = ("au", "mfcc")  # extractors without pretrained weights (AUs may come from OpenFace or its approximation)
KIND_ORDER = {"extractor": 0, "openface": 1, "encoder": 2}
FIX = {
    "extractor": "give the paper's checkpoint (a local path or a cached hub id, see docs/real-data.md)",
    "openface": "set it to OpenFace 2.0's FeatureExtraction binary",
}


def fix(paper: str, component: str) -> str:
    """What to set instead of a stand-in (`component` as `substitutes` names it, kind:name)."""
    kind, name = component.split(":", 1)
    if kind != "encoder":
        return FIX[kind]
    encoder = registry.paper(paper).encoder
    return f"give the {encoder.pretrained_on[name]} {encoder.name} checkpoint ({encoder.layout} key layout)"


def _extractor(config: dict, name: str) -> tuple[str, str] | None:
    if name == "au" and config["extractors"]["openface"]["bin"] is None:
        return "openface:au", (
            "extractors.openface.bin is null: the crop-based AU approximation (affrepro.features.au) runs instead of OpenFace 2.0"
        )
    if name not in NO_WEIGHTS and config["extractors"][name]["weights"] == "random":
        return f"extractor:{name}", (
            f"extractors.{name}.weights is `random`: a random-init {name} runs instead of the paper's pretrained model"
        )
    return None


def _encoder(config: dict, paper: str, dataset: str) -> tuple[str, str] | None:
    if dataset_location(config, dataset) is None or config[paper][dataset]["weights"] != "random":
        return None
    encoder = registry.paper(paper).encoder
    return f"encoder:{dataset}", (
        f"{paper}.{dataset}.weights is `random`: {encoder.name} trains from random init instead of the paper's "
        f"{encoder.pretrained_on[dataset]} pretraining"
    )


def pretrained_encoders(paper: str) -> list[str]:
    """The datasets on which the paper's encoder starts from a pretrained checkpoint."""
    encoder = registry.paper(paper).encoder
    return list(encoder.pretrained_on) if encoder else []


def substitute_items(config: dict, paper: str, components: list[str]) -> list[tuple[str, str]]:
    """(kind:component, text) of each stand-in among `components` (extractor or dataset names): extractors in
    name order, then OpenFace's, then encoders. Reads only those components' keys (`keys`)."""
    declared = registry.paper(paper)
    found = []
    for component in sorted(set(components)):
        if component in pretrained_encoders(paper):
            found.append(_encoder(config, paper, component))
        elif component not in declared.datasets and config["profile"] != "demo":
            found.append(_extractor(config, component))
    return sorted((item for item in found if item), key=lambda item: KIND_ORDER[item[0].split(":", 1)[0]])


def substitutes_used(config: dict, paper: str, components: list[str]) -> list[str]:
    """The stand-ins a job using `components` ran with: its metrics file's `substitutes`."""
    return [text for _, text in substitute_items(config, paper, components)]


def field(paper: str, groups: Callable[..., list[list[str]]], reads: Callable[..., list[str]] = lambda config, **_: []):
    """A job's settings field (affrepro.jobsettings): the stand-ins of each group of components that
    `groups(config, **fields)` gives (a branch's extractors, a run's dataset), in group order, once each, as
    its metrics file records them; `reads`: the keys `groups` itself reads."""

    def used(config: dict, **fields) -> list[str]:
        found: list[str] = []
        for group in groups(config, **fields):
            found += [text for text in substitutes_used(config, paper, group) if text not in found]
        return found

    def read(config: dict, **fields) -> list[str]:
        return reads(config, **fields) + [k for group in groups(config, **fields) for k in keys(config, paper, group)]

    return derived(read, used)


def keys(config: dict, paper: str, components: list[str]) -> list[str]:
    """The config keys `substitutes_used(config, paper, components)` reads (a job's config view lists them)."""
    declared = registry.paper(paper)
    encoders = [c for c in components if c in pretrained_encoders(paper)]
    extractors = [c for c in components if c not in declared.datasets]
    encoder_keys = [k for d in encoders for k in (f"datasets.{d}", f"{paper}.{d}.weights")]
    if not extractors:
        return encoder_keys
    if config["profile"] == "demo":
        return ["profile"] + encoder_keys
    extractor_keys = [
        "extractors.openface.bin" if c == "au" else f"extractors.{c}.weights" for c in extractors if c != "mfcc"
    ]
    return ["profile"] + extractor_keys + encoder_keys


def substitutes(config: dict, paper: str) -> dict[str, str]:
    """Every stand-in a paper's real-data run would use: {kind:component: what runs instead}."""
    return dict(substitute_items(config, paper, registry.paper(paper).extractors(config) + pretrained_encoders(paper)))
