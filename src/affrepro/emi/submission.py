"""The organisers' submission file: the fused test predictions (affrepro.emi.aggregate), mean over seeds.

python -m affrepro.emi.submission --predictions work/emi/fusion/X/predictions.csv --out results/emi/submission_test.csv
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from affrepro import jobs
from affrepro.data.hume import LABELS
from affrepro.files import atomic_path


def write_submission(fused_predictions: Path, out: Path) -> None:
    """Test predictions for the organisers' server: mean over seeds of the fused predictions."""
    fused = pd.read_csv(fused_predictions, dtype={"id": str})
    test = fused[fused.partition == "test"].groupby("id", sort=False)[LABELS].mean()
    test = test.reindex(sorted(test.index, key=int))
    test.index.name = "Filename"
    with atomic_path(out) as tmp:
        test.to_csv(tmp, float_format="%.6f")


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(__doc__, None, argv, predictions=jobs.PATH, out=jobs.PATH)
    write_submission(args.predictions, args.out)


if __name__ == "__main__":
    main()
