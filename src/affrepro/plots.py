"""Saving matplotlib figures the same way everywhere: headless, atomically, byte-identical on rerun."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from affrepro.files import atomic_path  # noqa: E402


def save_png(fig, path: Path) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, metadata={"Software": None}, format="png")  # no version stamp: byte-identical reruns
    plt.close(fig)
