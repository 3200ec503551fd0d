"""docs/bad-inputs.md: the table of bad-input cases names tests that exist (the cases are tested by subject in test_common_bad_*.py)."""

from __future__ import annotations

import re

from helpers import REPO

# ------------------------------------------------------------------ the table of cases


def test_the_bad_inputs_table_lists_at_least_30_cases_and_names_existing_tests():
    text = (REPO / "docs" / "bad-inputs.md").read_text()
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| #") and not set(line) <= set("|- ")
    ]
    assert len(rows) >= 30
    tests = set(re.findall(r"`(test_\w+)`", text))
    defined = {
        name
        for path in (REPO / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M)
    }
    assert tests and tests <= defined, sorted(tests - defined)
    for area in ("CLI", "Hume-Vidmimic2", "Aff-Wild2", "RAF-DB", "FER2013", "config"):
        assert any(f"| {area} |" in row for row in rows), area
