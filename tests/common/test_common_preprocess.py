import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from helpers import FACENET_MTCNN, FIXTURES

from affrepro.media import MediaError
from affrepro.preprocess.audio import peak_normalise, prepare_audio
from affrepro.preprocess.faces import TEMPLATE_112, detect_faces, load_faces, make_detector, similarity_transform

MTCNN = FACENET_MTCNN


@pytest.fixture(scope="module")
def detector():
    return make_detector(MTCNN)


def test_similarity_transform_recovers_a_known_transform():
    angle, scale, shift = np.deg2rad(12), 1.7, np.array([5.0, -3.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = TEMPLATE_112
    dst = scale * src @ rotation.T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], scale * rotation) and np.allclose(matrix[:, 2], shift)


def test_faces_found_and_aligned_in_single_face_video(detector, tmp_path):
    track = detect_faces(FIXTURES / "video/single_face.mp4", detector, fps=30, size=112)
    assert track.n_frames == 72  # 2.4 s at 30 fps
    assert len(track.frame_index) >= 0.9 * track.n_frames
    assert track.faces.shape == (len(track.frame_index), 112, 112, 3) and track.faces.dtype == np.uint8
    assert np.all(np.diff(track.frame_index) > 0)
    # The key points land on the template after alignment (within a few pixels).
    matrix = similarity_transform(track.landmarks[0].astype(np.float64), TEMPLATE_112)
    mapped = track.landmarks[0] @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - TEMPLATE_112).max() < 6.0
    track.save(tmp_path / "faces.npz")
    again = load_faces(tmp_path / "faces.npz")
    assert np.array_equal(again.faces, track.faces) and again.n_frames == 72


def test_no_face_video_gives_zero_faces(detector):
    track = detect_faces(FIXTURES / "video/no_face.mp4", detector, fps=30)
    assert len(track.frame_index) == 0 and track.faces.shape == (0, 112, 112, 3)
    assert track.n_frames > 0


def test_cli_faces_reports_no_face_clearly(tmp_path):
    out = tmp_path / "nf.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "affrepro.cli", "faces", str(FIXTURES / "video/no_face.mp4"), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no face found" in proc.stdout
    with np.load(out) as data:
        assert data["faces"].shape[0] == 0 and int(data["n_frames"]) > 0


def test_audio_is_16k_mono_at_minus_3_dbfs(tmp_path):
    out = tmp_path / "a.wav"
    result = prepare_audio(FIXTURES / "audio/librivox_0870.wav", out)
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.duration == pytest.approx(7.1, abs=0.05)
    signal, _ = sf.read(out, dtype="float64")
    assert 20 * np.log10(np.abs(signal).max()) == pytest.approx(-3.0, abs=0.1)
    assert not result.silent


def test_audio_from_a_video_track(tmp_path):
    out = tmp_path / "v.wav"
    prepare_audio(FIXTURES / "video/single_face.mp4", out)
    info = sf.info(out)
    assert (info.samplerate, info.channels) == (16000, 1)
    assert info.duration == pytest.approx(2.4, abs=0.1)


def test_peak_normalise_formula_and_silence():
    x = np.array([0.1, -0.5, 0.25], np.float32)
    y, silent = peak_normalise(x, -6.0)
    assert not silent and np.allclose(y, x * (10 ** (-6 / 20) / 0.5))
    z, silent = peak_normalise(np.zeros(10, np.float32), -3.0)
    assert silent and np.all(z == 0)


def test_missing_media_is_named(tmp_path):
    with pytest.raises(MediaError, match="nope.mp4"):
        prepare_audio(tmp_path / "nope.mp4", tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
