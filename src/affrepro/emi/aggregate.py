"""Late fusion (paper §3.5, Eq. 5): F_va = average(F_v, F_a), seed by seed.

The visual run's seed s is paired with the audio run's seed s; the fused
validation mean Pearson is reported as mean ± std over seeds, like the
unimodal rows. Test predictions are fused the same way (the organisers'
submission file is made from them: affrepro.emi.submission).

    python -m affrepro.emi.aggregate --fusion resnet18_aus_wav2vec2 --root R \
        --members work/emi/runs/resnet18_aus/predictions.csv work/emi/runs/wav2vec2/predictions.csv \
        --metrics work/emi/fusion/resnet18_aus_wav2vec2/metrics.json --predictions work/emi/fusion/resnet18_aus_wav2vec2/predictions.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from affrepro import jobs
from affrepro.data.hume import LABELS
from affrepro.emi import plan
from affrepro.emi.settings import Fusion
from affrepro.environment import of_run_file
from affrepro.files import atomic_path, read_json, write_json
from affrepro.metrics import mean_pearson, mean_std


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


def member_environments(member_files: list[Path]) -> list[dict]:
    """Where the members trained: the `environment` of each member's metrics.json, which its training job writes beside predictions.csv."""
    found = []
    for path in member_files:
        metrics = Path(path).with_name("metrics.json")
        for record in of_run_file(read_json(metrics)) if metrics.is_file() else []:
            found += [record] if record not in found else []
    return found


def fuse(
    settings: Fusion, member_files: list[Path], valid: tuple[list[str], np.ndarray], outputs: dict[str, Path]
) -> dict:
    """Fuse the members' predictions; score the validation split per seed; write outputs["predictions"] and
    outputs["metrics"]. Its substitutes are the union of the members' (each as its training job records them)."""
    tables = [pd.read_csv(path, dtype={"id": str}) for path in member_files]
    fused = fuse_runs(tables, [str(path) for path in member_files])
    keys, y_valid = valid
    per_seed = {}
    for seed, group in fused[fused.partition == "valid"].groupby("seed", sort=True):
        group = group.set_index("id").loc[keys]
        score, per_label = mean_pearson(y_valid, group[LABELS].to_numpy())
        per_seed[str(seed)] = {"valid_mean_pearson": score, "valid_pearson": dict(zip(LABELS, per_label))}
    with atomic_path(outputs["predictions"]) as tmp:
        fused.to_csv(tmp, index=False, float_format="%.6f")
    metrics = {
        "members": settings.members,
        "valid_mean_pearson": mean_std([s["valid_mean_pearson"] for s in per_seed.values()]),
        "seeds": per_seed,
        "substitutes": settings.substitutes,
        "environments": member_environments(member_files),
    }
    write_json(outputs["metrics"], metrics)
    return metrics


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__,
        "emi",
        argv,
        fusion={},
        root=jobs.PATH,
        members={"type": Path, "nargs": "+"},
        metrics=jobs.PATH,
        predictions=jobs.PATH,
    )
    settings = Fusion.from_config(config, fusion=args.fusion)
    valid = plan.labelled_splits(settings.samples, args.root)["valid"]
    fuse(settings, args.members, valid, {"metrics": args.metrics, "predictions": args.predictions})


if __name__ == "__main__":
    main()
