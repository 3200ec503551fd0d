"""Provenance of the tiny paper's table (affrepro.papers.PaperProvenance): the points it read."""

from __future__ import annotations

from pathlib import Path

from affrepro import provenance as common_provenance
from affrepro.files import sha256_file


def provenance(config: dict, inputs: dict[str, Path]) -> dict:
    return common_provenance.common(config) | {
        "dataset": {
            "name": "Tiny points",
            "kind": "demo" if config["profile"] == "demo" else "real",
            "points_sha256": sha256_file(inputs["points"]),
        },
        "substitutes": {},
    }


def profile_note(config: dict) -> str:
    return common_provenance.demo_note(config)
