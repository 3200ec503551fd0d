"""The EMI splits as the training and fusion stages see them: keys and labels per partition."""

from __future__ import annotations

import numpy as np

from affrepro.data import hume
from affrepro.emi import plan


def labelled_splits(config: dict) -> dict[str, tuple[list[str], np.ndarray | None]]:
    """partition -> (sample keys, labels (N, 6) or None for test), in the plan's order."""
    by_key = {str(s.file_id): s for s in hume.load_samples(plan.dataset_root(config))}
    out = {}
    for partition in hume.PARTITIONS:
        keys = [s.key for s in plan.samples(config) if s.partition == partition]
        if not keys:
            continue
        labels = None if partition == "test" else np.stack([by_key[k].labels for k in keys])
        out[partition] = (keys, labels)
    return out
