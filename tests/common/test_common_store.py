"""The packed feature store returns each sample's exact rows and frame indices, and refuses broken stores."""

import numpy as np
import pytest

from affrepro.features import save_features
from affrepro.files import read_json
from affrepro.store import iter_rows, open_store, pack, sample_files


def write_samples(tmp_path, lengths: dict[str, int], dim: int = 5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    written = {}
    for key, length in lengths.items():
        features = rng.normal(size=(length, dim)).astype(np.float32)
        frames = np.sort(rng.choice(1000, size=length, replace=False))
        save_features(tmp_path / f"{key}.npz", features, frames, 1000)
        written[key] = (features, frames)
    return written


def test_store_returns_each_samples_exact_rows_and_frames(tmp_path):
    written = write_samples(tmp_path, {"a": 7, "b": 0, "c": 12, "d": 3})
    splits = {"train": ["c", "a", "b"], "valid": ["d"]}
    manifests = [
        {"extractor": "x", "samples": {k: {"file": str(tmp_path / f"{k}.npz")} for k in ("a", "b")}},
        {"extractor": "x", "samples": {k: {"file": str(tmp_path / f"{k}.npz")} for k in ("c", "d")}},
    ]
    store = pack("x", splits, sample_files(manifests), tmp_path / "packed", tmp_path / "packed.json", {"weights": "w"})
    assert store["splits"] == {
        "train": {"samples": 3, "rows": 19, "dim": 5},
        "valid": {"samples": 1, "rows": 3, "dim": 5},
    }
    assert read_json(tmp_path / "packed.json")["features"] == {"weights": "w"}
    opened = open_store(tmp_path / "packed.json")
    assert opened["train"].keys == ["c", "a", "b"] and "d" in opened["valid"] and "d" not in opened["train"]
    for split, keys in splits.items():
        for key in keys:
            features, frames = written[key]
            assert np.array_equal(opened[split].rows(key), features) and opened[split].rows(key).dtype == np.float32
            assert np.array_equal(opened[split].frames(key), frames)
    assert np.array_equal(opened["train"].rows("c", 4, 9), written["c"][0][4:9])
    assert np.array_equal(opened["train"].rows("c", 10, 99), written["c"][0][10:])  # stops at the sample's end
    assert opened["train"].rows("b").shape == (0, 5)
    # the .npy is a plain numpy array: the rows of every sample, in split order
    assert np.array_equal(
        np.load(tmp_path / "packed" / "train.npy"), np.concatenate([written[k][0] for k in splits["train"]])
    )
    assert [len(r) for r in iter_rows(opened["train"], ["a", "c"])] == [7, 12]


def test_store_refuses_missing_samples_mixed_widths_and_truncated_data(tmp_path):
    write_samples(tmp_path, {"a": 4, "b": 2})
    save_features(tmp_path / "wide.npz", np.zeros((3, 6), np.float32), np.arange(3), 3)
    files = {k: tmp_path / f"{k}.npz" for k in ("a", "b", "wide")}
    with pytest.raises(ValueError, match=r"no feature file for samples \['zz'\]"):
        pack("x", {"train": ["a", "zz"]}, files, tmp_path / "p", tmp_path / "p.json")
    with pytest.raises(ValueError, match="different widths"):
        pack("x", {"train": ["a", "wide"]}, files, tmp_path / "p", tmp_path / "p.json")
    pack("x", {"train": ["a", "b"]}, files, tmp_path / "p", tmp_path / "p.json")
    data = tmp_path / "p" / "train.npy"
    data.write_bytes(data.read_bytes()[:-8])
    with pytest.raises(ValueError, match="train.npy.*rerun its pack job"):
        open_store(tmp_path / "p.json")
