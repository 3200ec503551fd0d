import numpy as np
import pandas as pd
import pytest

from affrepro.data.hume import LABELS
from affrepro.emi.aggregate import fuse_runs, late_fusion
from affrepro.emi.submission import write_submission


def _predictions(values, ids=("1", "2")):
    rows = []
    for seed in (0, 1):
        for part in ("valid", "test"):
            for i, key in enumerate(ids):
                rows.append(
                    {"seed": seed, "partition": part, "id": key, **dict(zip(LABELS, np.full(6, values[i] + seed)))}
                )
    return pd.DataFrame(rows)


def test_late_fusion_is_elementwise_mean():
    v = np.array([[0.2, 0.4], [0.6, 0.8]])
    a = np.array([[0.0, 1.0], [0.2, 0.2]])
    assert np.allclose(late_fusion([v, a]), [[0.1, 0.7], [0.4, 0.5]])


def test_fuse_runs_pairs_rows_by_seed_partition_and_id():
    visual = _predictions([0.2, 0.6])
    audio = _predictions([0.4, 0.0]).iloc[::-1]  # row order must not matter
    fused = fuse_runs([visual, audio]).set_index(["seed", "partition", "id"])
    assert fused.loc[(0, "valid", "1"), "Joy"] == pytest.approx(0.3)
    assert fused.loc[(1, "test", "2"), "Admiration"] == pytest.approx((1.6 + 1.0) / 2)


def test_fuse_runs_refuses_members_that_cover_different_samples():
    with pytest.raises(ValueError, match="same seeds"):
        fuse_runs([_predictions([0.2, 0.6]), _predictions([0.2, 0.6], ids=("1", "3"))])


def test_submission_averages_seeds_of_test_rows(tmp_path):
    fused = _predictions([0.2, 0.6])
    fused.to_csv(tmp_path / "fused.csv", index=False)
    write_submission(tmp_path / "fused.csv", tmp_path / "submission.csv")
    submission = pd.read_csv(tmp_path / "submission.csv")
    assert list(submission.columns) == ["Filename", *LABELS]
    assert submission["Filename"].tolist() == [1, 2]
    assert submission["Joy"].tolist() == pytest.approx([0.7, 1.1])
