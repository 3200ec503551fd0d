import stat

import numpy as np
import pytest
from helpers import FIXTURES

from affrepro.features.au import AUS, DIM, OpenFaceError, crop_au_proxy, read_openface_csv, run_openface


@pytest.fixture()
def openface_csv():
    return FIXTURES / "openface" / "OpenFace_Test.csv"


def test_reads_real_openface_output(openface_csv):
    frame_index, features = read_openface_csv(openface_csv)
    assert features.shape == (100, 34) and features.dtype == np.float32
    assert frame_index.tolist() == list(range(100))  # OpenFace's 1-based `frame` minus one


def test_exact_cells(openface_csv):
    _, features = read_openface_csv(openface_csv)
    # Row 1 of the CSV: AU02_c = 1, AU05_c = 1, AU23_c = 1; AU01_r = 0.6773, AU02_r = 0.4275, AU45_r = 0.02348.
    presence, intensity = features[0, :17], features[0, 17:]
    assert presence.tolist() == [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert intensity[AUS.index("01")] == pytest.approx(0.6773 / 5)
    assert intensity[AUS.index("02")] == pytest.approx(0.4275 / 5)
    assert intensity[AUS.index("45")] == pytest.approx(0.02348 / 5)
    # Row 100: AU04_r = 0.6953, AU23_r = 0.1892.
    assert features[99, 17 + AUS.index("04")] == pytest.approx(0.6953 / 5)
    assert features[99, 17 + AUS.index("23")] == pytest.approx(0.1892 / 5)


def test_failed_frames_are_dropped(openface_csv, tmp_path):
    lines = openface_csv.read_text().splitlines()
    header = [c.strip() for c in lines[0].split(",")]
    cells = lines[2].split(",")
    cells[header.index("success")] = " 0"
    lines[2] = ",".join(cells)
    (tmp_path / "f.csv").write_text("\n".join(lines) + "\n")
    frame_index, features = read_openface_csv(tmp_path / "f.csv")
    assert len(features) == 99 and 1 not in frame_index.tolist()


def test_non_openface_csv_is_refused(tmp_path):
    (tmp_path / "x.csv").write_text("frame,success,AU01_r\n1,1,0.5\n")
    with pytest.raises(OpenFaceError, match="missing columns"):
        read_openface_csv(tmp_path / "x.csv")


def test_run_openface_plumbing_with_a_stand_in_binary(openface_csv, tmp_path):
    # A stand-in for FeatureExtraction that checks the crops were written and emits the real CSV.
    fake = tmp_path / "FeatureExtraction"
    fake.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do case "$1" in -fdir) d="$2"; shift;; -out_dir) o="$2"; shift;; esac; shift; done\n'
        '[ "$(ls "$d" | wc -l)" -eq 100 ] || exit 3\n'
        f'mkdir -p "$o" && cp "{openface_csv}" "$o/aus.csv"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    rows, features = run_openface(fake, np.zeros((100, 112, 112, 3), np.uint8))
    assert rows.tolist() == list(range(100)) and features.shape == (100, DIM)


def test_crop_proxy_range_and_flat_face():
    flat = np.full((2, 112, 112, 3), 128, np.uint8)
    features = crop_au_proxy(flat)
    assert features.shape == (2, DIM)
    assert np.all(features == 0)  # no gradient anywhere: every AU absent, zero intensity
    rng = np.random.default_rng(0)
    textured = rng.integers(0, 255, (1, 112, 112, 3), dtype=np.uint8)
    proxy = crop_au_proxy(textured)
    assert np.all((proxy >= 0) & (proxy <= 1))
    assert np.array_equal(proxy[0, :17], (proxy[0, 17:] >= 0.5).astype(np.float32))
