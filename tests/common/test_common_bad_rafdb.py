"""Bad RAF-DB inputs (issue 13): images of another size, duplicate lines, empty splits, unreadable images.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re

import helpers
import numpy as np
import pytest
from bad_inputs import (
    message,
    workdir_with,
)

from affrepro.data import DatasetError, rafdb
from affrepro.ecan import prepare as ecan_prepare

# ------------------------------------------------------------------ RAF-DB


def test_a_rafdb_image_of_another_size_is_named(tmp_path):
    import cv2

    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(7, 7))
    cv2.imwrite(str(rafdb.image_path(root, "train_00003.jpg")), np.zeros((120, 90, 3), np.uint8))
    with pytest.raises(
        DatasetError, match=r"train_00003_aligned.jpg: 90x120 pixels; RAF-DB aligned images are 100x100"
    ):
        rafdb.load(root)


def test_a_duplicate_rafdb_line_is_refused(tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(7, 7))
    label_file = root / rafdb.LABEL_FILE
    label_file.write_text(label_file.read_text() + "train_00002.jpg 3\n")
    with pytest.raises(
        DatasetError, match=r"list_patition_label.txt:15: train_00002.jpg is listed again \(first on line 2\)"
    ):
        rafdb.read_labels(root)


@pytest.mark.parametrize(
    "entries, empty",
    [
        (helpers.rafdb_entries(14, 0), "test (test_ lines)"),
        (helpers.rafdb_entries(0, 7), "train (train_ lines"),
        (helpers.rafdb_entries(7, 7), "val (the validation hold-out"),  # one image per class: nothing to hold out
    ],
)
def test_an_empty_rafdb_split_stops_start_up(entries, empty, tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", entries)
    ecan = helpers.repo_config()["ecan"]
    with pytest.raises(
        DatasetError, match=rf"{re.escape(str(root / rafdb.LABEL_FILE))}: empty split\(s\): {re.escape(empty)}"
    ):
        ecan_prepare.check_dataset("rafdb", root, ecan)
    with pytest.raises(DatasetError, match=re.escape(empty)):  # and the training job, if it ever got there
        ecan_prepare.load_splits("rafdb", root, ecan)


def test_an_empty_rafdb_split_stops_the_workflow_at_start_up(tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(14, 0))
    config = helpers.repo_config()
    config["datasets"]["rafdb"]["root"] = str(root)
    config["ecan"]["rafdb"]["weights"] = "random"
    config["allow_substitutes"] = True
    proc = helpers.snakemake_run(workdir_with(tmp_path, config), "-n", "results/ecan/table4.csv")
    assert proc.returncode != 0 and f"{root / rafdb.LABEL_FILE}: empty split(s): test" in message(proc)


def test_unreadable_rafdb_images_fail_by_default_and_are_left_out_with_skip(tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(14, 7))
    rafdb.image_path(root, "train_00004.jpg").write_bytes(b"not a jpeg")
    rafdb.image_path(root, "test_0002.jpg").unlink()
    with pytest.raises(DatasetError, match=r"train_00004_aligned.jpg: image listed in"):
        rafdb.load(root)
    data, skipped = rafdb.read(root, "skip")
    assert (
        sorted(skipped) == ["test_0002.jpg", "train_00004.jpg"] and "test_0002_aligned.jpg" in skipped["test_0002.jpg"]
    )
    assert (
        len(data["train"]["labels"]) == 13
        and len(data["test"]["labels"]) == 6
        and "train_00004.jpg" not in data["train"]["names"]
    )
