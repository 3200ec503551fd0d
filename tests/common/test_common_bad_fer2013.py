"""Bad FER2013 inputs (issues 13, 21): truncated files, empty splits, malformed rows and pixels, named by line.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import helpers
import numpy as np
import pytest

from affrepro.data import DatasetError, fer2013
from affrepro.demo.expressions import write_fer2013
from affrepro.ecan import prepare as ecan_prepare

# ------------------------------------------------------------------ FER2013


@pytest.fixture()
def fer_file(tmp_path) -> Path:
    path = tmp_path / "fer2013.csv.gz"
    write_fer2013(
        path,
        helpers.repo_config()["demo"]["fer2013"]
        | {"n_train": 21, "n_public_test": 7, "n_private_test": 7, "min_per_class": 1},
    )
    return path


def test_a_truncated_fer2013_gz_is_named(fer_file):
    data = fer_file.read_bytes()
    fer_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}: not a complete gzip file"):
        fer2013.load(fer_file)
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}: not a complete gzip file"):
        ecan_prepare.check_dataset("fer2013", fer_file, helpers.repo_config()["ecan"])


@pytest.mark.parametrize("usage, split", [("PrivateTest", "val"), ("PublicTest", "test"), ("Training", "train")])
def test_an_empty_fer2013_split_stops_start_up(usage, split, fer_file):
    text = gzip.decompress(fer_file.read_bytes()).decode()
    fer_file.write_bytes(
        gzip.compress(
            "".join(line for line in text.splitlines(True) if not line.rstrip().endswith("," + usage)).encode()
        )
    )
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}: empty split\(s\): {split} \(Usage {usage}\)"):
        ecan_prepare.check_dataset("fer2013", fer_file, helpers.repo_config()["ecan"])


def test_malformed_fer2013_rows_fail_by_default_and_are_left_out_with_skip(fer_file):
    lines = gzip.decompress(fer_file.read_bytes()).decode().splitlines(True)
    lines[3] = "3,1 2 3,Training\n"
    lines[5] = "9," + lines[5].split(",", 1)[1]
    fer_file.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}:4: 3 pixel values, expected 2304"):
        fer2013.load(fer_file)
    data, skipped = fer2013.read(fer_file, "skip")
    assert sorted(skipped) == ["line 4", "line 6"] and "emotion '9' is not in 0-6" in skipped["line 6"]
    assert sum(len(split["labels"]) for split in data.values()) == 35 - 2


def set_first_pixel(line: str, value: str) -> str:
    emotion, pixels, usage = line.split(",")
    return ",".join([emotion, " ".join([value, *pixels.split()[1:]]), usage])


def test_a_pixel_out_of_range_names_its_line_and_is_left_out_with_skip(fer_file):
    lines = gzip.decompress(fer_file.read_bytes()).decode().splitlines(True)
    original = fer2013.load(fer_file)
    lines[2] = set_first_pixel(lines[2], "256")
    lines[4] = set_first_pixel(lines[4], "-1")
    fer_file.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(
        DatasetError, match=rf"{re.escape(str(fer_file))}:5: pixel value '-1' is not a whole number 0-255"
    ):
        fer2013.load(fer_file)
    lines[4] = set_first_pixel(lines[4], "7")
    fer_file.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}:3: pixel value 256 exceeds 255"):
        fer2013.load(fer_file)
    data, skipped = fer2013.read(fer_file, "skip")
    assert list(skipped) == ["line 3"] and "pixel value 256 exceeds 255" in skipped["line 3"]
    # line 3 is the second data row, a Training image: every other image is read as before (line 5's pixel now 7)
    assert len(data["Training"]["labels"]) == len(original["Training"]["labels"]) - 1
    assert np.array_equal(data["Training"]["images"][0], original["Training"]["images"][0])
    assert data["Training"]["images"][2][0, 0] == 7


def test_quoted_fer2013_fields_are_read_as_their_values(fer_file):
    lines = gzip.decompress(fer_file.read_bytes()).decode().splitlines(True)
    quoted = ['"{}","{}","{}"\n'.format(*line.rstrip("\n").split(",")) for line in lines]
    original = fer2013.load(fer_file)
    fer_file.write_bytes(gzip.compress("".join(quoted).encode()))
    data = fer2013.load(fer_file)
    assert fer2013.usage_counts(fer_file) == {usage: len(original[usage]["labels"]) for usage in fer2013.USAGES}
    for usage in fer2013.USAGES:
        assert np.array_equal(data[usage]["images"], original[usage]["images"])
        assert np.array_equal(data[usage]["labels"], original[usage]["labels"])
