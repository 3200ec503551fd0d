"""Late fusion (paper §3.5, Eq. 5): F_va = average(F_v, F_a), seed by seed.

The visual run's seed s is paired with the audio run's seed s; the fused
validation mean Pearson is reported as mean ± std over seeds, like the
unimodal rows. Test predictions are fused the same way.

    python -m affrepro.emi.fuse --members resnet18_aus wav2vec2 --out-dir work/emi/fusion/resnet18_aus_wav2vec2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from affrepro.config import effective_config, load_config
from affrepro.data.hume import LABELS
from affrepro.emi.data import labelled_splits
from affrepro.io import atomic_path, write_json
from affrepro.metrics import mean_pearson, mean_std

RUNS = Path("work/emi/runs")


def late_fusion(predictions: list[np.ndarray]) -> np.ndarray:
    """Element-wise mean of the members' predictions (Eq. 5)."""
    stacked = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    return stacked.mean(axis=0)


def fuse_runs(members: list[pd.DataFrame], names: list[str] | None = None) -> pd.DataFrame:
    """Fuse predictions tables (seed, partition, id, labels...) row by row; all members must cover the same rows."""
    index = ["seed", "partition", "id"]
    names = names or [f"member {i}" for i in range(len(members))]
    aligned = [m.set_index(index).sort_index() for m in members]
    for name, other in zip(names[1:], aligned[1:]):
        if not other.index.equals(aligned[0].index):
            unmatched = sorted(set(other.index) ^ set(aligned[0].index))[:3]
            raise ValueError(
                f"fusion members {names[0]} and {name} do not cover the same seeds, partitions and samples "
                f"(e.g. {unmatched}); rerun their training with the same emi.seeds and data"
            )
    fused = late_fusion([a[LABELS].to_numpy() for a in aligned])
    return pd.DataFrame(fused, index=aligned[0].index, columns=LABELS).reset_index()


def run(config: dict, members: list[str], out_dir: Path) -> dict:
    tables = [pd.read_csv(RUNS / m / "predictions.csv", dtype={"id": str}) for m in members]
    fused = fuse_runs(tables, [str(RUNS / m / "predictions.csv") for m in members])
    keys, y_valid = labelled_splits(config)["valid"]
    per_seed = {}
    for seed, group in fused[fused.partition == "valid"].groupby("seed", sort=True):
        group = group.set_index("id").loc[keys]
        score, per_label = mean_pearson(y_valid, group[LABELS].to_numpy())
        per_seed[str(seed)] = {"valid_mean_pearson": score, "valid_pearson": dict(zip(LABELS, per_label))}
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "predictions.csv") as tmp:
        fused.to_csv(tmp, index=False, float_format="%.6f")
    metrics = {"members": members, "valid_mean_pearson": mean_std([s["valid_mean_pearson"] for s in per_seed.values()]), "seeds": per_seed}
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def write_submission(fused_predictions: Path, out: Path) -> None:
    """Test predictions for the organisers' server: mean over seeds of the fused predictions."""
    fused = pd.read_csv(fused_predictions, dtype={"id": str})
    test = fused[fused.partition == "test"].groupby("id", sort=False)[LABELS].mean()
    test = test.reindex(sorted(test.index, key=int))
    test.index.name = "Filename"
    with atomic_path(out) as tmp:
        test.to_csv(tmp, float_format="%.6f")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Late fusion of EMI runs, or the test submission CSV.")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--members", nargs="+")
    parser.add_argument("--out-dir", type=Path)
    parser.add_argument("--submission-from", type=Path, help="fused predictions.csv to turn into a submission")
    parser.add_argument("--submission-out", type=Path)
    args = parser.parse_args(argv)
    if args.submission_from:
        write_submission(args.submission_from, args.submission_out)
        return
    config = effective_config(load_config(args.config), "emi")
    run(config, args.members, args.out_dir)


if __name__ == "__main__":
    main()
