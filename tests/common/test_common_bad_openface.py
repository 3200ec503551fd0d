"""Bad OpenFace CSVs (issue 21.6): every line is numeric and in OpenFace's ranges, or the CSV and line are named.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re

import pytest
from helpers import FIXTURES

from affrepro.features.au import OpenFaceError, read_openface_csv

REAL = FIXTURES / "openface" / "OpenFace_Test.csv"  # 100 frames, every one tracked


def edited(tmp_path, edit) -> str:
    lines = REAL.read_text().splitlines()
    header = [c.strip() for c in lines[0].split(",")]
    edit(lines, header)
    path = tmp_path / "aus.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def set_cell(line: int, column: str, value: str):
    def edit(lines, header):
        cells = lines[line - 1].split(",")
        cells[header.index(column)] = value
        lines[line - 1] = ",".join(cells)

    return edit


@pytest.mark.parametrize(
    "edit, expected",
    [
        (set_cell(4, "success", " yes"), ":4: success is 'yes', not a number"),
        (lambda lines, header: lines.insert(50, lines[0]), ":51: frame is 'frame', not a number (a repeated header"),
        (set_cell(7, "AU12_r", " nan"), ":7: AU12_r is 'nan', not a number"),
        (set_cell(7, "AU12_r", " "), ":7: AU12_r is '', not a number"),
        (set_cell(9, "AU04_r", " 7.5"), ":9: an AU intensity (AUxx_r) is outside OpenFace's 0-5"),
        (set_cell(9, "AU04_c", " 0.5"), ":9: an AU presence (AUxx_c) is not 0 or 1"),
        (set_cell(12, "frame", " 10"), ":12: frame repeats an earlier line's"),
        (set_cell(2, "frame", " 0"), ":2: frame is below 1"),
    ],
)
def test_a_malformed_openface_line_is_named(edit, expected, tmp_path):
    path = edited(tmp_path, edit)
    with pytest.raises(OpenFaceError, match=re.escape(path + expected)):
        read_openface_csv(path)


def test_more_openface_frames_than_face_crops_is_named(tmp_path):
    frames, features = read_openface_csv(REAL, n_faces=100)
    assert len(frames) == 100
    with pytest.raises(OpenFaceError, match=re.escape(f"{REAL}:101: frame is beyond the 99 face crops")):
        read_openface_csv(REAL, n_faces=99)
