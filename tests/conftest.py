"""Shared fixtures. Tests that need ../shared (real fixtures) skip with a message when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AFFREPRO_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "fixtures").is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED} (set AFFREPRO_SHARED to the shared/ folder)")
    return SHARED


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
