import numpy as np
import pytest

from affrepro.data.hume import LABELS, DatasetError, fingerprint, load_samples

HEADER = "Filename," + ",".join(LABELS) + "\n"


def make_root(tmp_path, train="1,0.1,0.2,0.3,0.4,0.5,0.6\n", valid="2,0,0,0,0,0,1\n", videos=("1", "2", "00003")):
    (tmp_path / "raw").mkdir()
    for name in videos:
        (tmp_path / "raw" / f"{name}.mp4").write_bytes(b"x" * 10)
    (tmp_path / "train_split.csv").write_text(HEADER + train)
    (tmp_path / "valid_split.csv").write_text(HEADER + valid)
    return tmp_path


def test_partitions_labels_and_test_ids(tmp_path):
    samples = load_samples(make_root(tmp_path))
    assert [(s.file_id, s.partition) for s in samples] == [(1, "train"), (2, "valid"), (3, "test")]
    assert np.allclose(samples[0].labels, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert samples[2].labels is None and samples[2].video.name == "00003.mp4"


def test_missing_split_is_named(tmp_path):
    root = make_root(tmp_path)
    (root / "valid_split.csv").unlink()
    with pytest.raises(DatasetError, match="valid_split.csv"):
        load_samples(root)


def test_label_out_of_range_names_row(tmp_path):
    with pytest.raises(DatasetError, match=r"train_split.csv: row 2 \(id 1\)"):
        load_samples(make_root(tmp_path, train="1,0.1,0.2,1.3,0.4,0.5,0.6\n"))


def test_id_without_video(tmp_path):
    with pytest.raises(DatasetError, match="no video for id 2"):
        load_samples(make_root(tmp_path, videos=("1",)))


def test_fingerprint_changes_with_content(tmp_path):
    root = make_root(tmp_path)
    before = fingerprint(root)
    assert fingerprint(root) == before
    (root / "raw" / "2.mp4").write_bytes(b"y" * 10)
    assert fingerprint(root) != before
