"""Deterministic demo datasets in the real datasets' on-disk formats."""

import shutil
from collections.abc import Callable
from pathlib import Path


def write_dataset(out: str | Path, generate: Callable[[Path], None]) -> None:
    """Generate a demo dataset folder into `<out>.partial`, then replace `out` with it.

    A generator that fails half-way leaves no half-written dataset behind for
    the workflow to mistake for a complete one.
    """
    out = Path(out)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    generate(staging)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
