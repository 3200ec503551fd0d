"""The fast face-detection path (tracked image pyramid) finds the same faces as MTCNN on every frame."""

import subprocess

import numpy as np
import pytest
from helpers import FACENET_MTCNN, FIXTURES

from affrepro.config.load import load_config
from affrepro.media import ffmpeg_exe, iter_frames
from affrepro.preprocess.faces import _Frame, detect_faces, make_detector

MTCNN = FACENET_MTCNN
FACE, NO_FACE = FIXTURES / "video/single_face.mp4", FIXTURES / "video/no_face.mp4"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread, as the workflow's faces jobs run (compute.threads) and the CLI defaults to: on a busy
    machine two intra-op threads make MTCNN's many small operations several times slower, not faster."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def detector():
    return make_detector(MTCNN)


@pytest.fixture(scope="module")
def naive():
    return make_detector(MTCNN | {"tracking": {"enabled": False}})


def per_frame(track) -> list:
    points = [None] * track.n_frames
    for index, landmarks in zip(track.frame_index, track.landmarks):
        points[int(index)] = landmarks
    return points


def assert_same_faces(fast, base) -> None:
    """Face on the same frames, the five points within 2 px of the naive loop's."""
    assert fast.n_frames == base.n_frames
    assert np.array_equal(fast.frame_index, base.frame_index)
    assert np.abs(fast.landmarks - base.landmarks).max(initial=0.0) <= 2.0


def encode(clip, *inputs_and_filters: str) -> None:
    """An H.264 clip, no audio, made by imageio-ffmpeg's ffmpeg from the given inputs and filters."""
    command = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", *inputs_and_filters]
    subprocess.run([*command, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-an", str(clip)], check=True)


def test_config_makes_the_fast_path_the_default():
    tracking = load_config()["preprocess"]["mtcnn"]["tracking"]
    assert tracking["enabled"] is True and 0 < tracking["margin"] <= 1 and tracking["full_search_every"] >= 1
    assert make_detector(load_config()["preprocess"]["mtcnn"]).tracking["enabled"] is True


def test_full_pyramid_equals_mtcnn_detect_bit_for_bit(detector):
    """The fast nets (channels-last max-pooling) and the staged detection reproduce MTCNN.detect exactly."""
    frames = list(iter_frames(FACE, 30))[::9] + list(iter_frames(NO_FACE, 30))[::40]
    for frame in frames:
        boxes, _, points = detector.mtcnn.detect(frame, landmarks=True)
        ours, our_points = _Frame(detector.fast, frame).detect(0)
        if boxes is None:
            assert len(ours) == 0
            continue
        order = np.argsort((ours[:, 2] - ours[:, 0]) * (ours[:, 3] - ours[:, 1]))[::-1]
        assert np.array_equal(ours[order, :4], boxes) and np.array_equal(our_points[order], points)


def test_fast_path_finds_the_same_faces_as_the_naive_loop(detector, naive):
    fast, base = detect_faces(FACE, detector), detect_faces(FACE, naive)
    assert len(base.frame_index) >= 0.9 * base.n_frames
    assert_same_faces(fast, base)
    assert np.array_equal(fast.faces, base.faces)  # same points, same crops


def test_face_that_enters_and_leaves_is_found(detector, naive, tmp_path):
    """1 s without a face, the face clip, 1 s without a face: found from its first frame, dropped after its last."""
    clip = tmp_path / "enter_leave.mp4"
    graph = (
        "[0:v]scale=640:360,fps=30,setsar=1,split[n0][n1];[n0]trim=duration=1,setpts=PTS-STARTPTS[a];"
        "[n1]trim=start=2:duration=1,setpts=PTS-STARTPTS[c];[1:v]fps=30,setsar=1[b];[a][b][c]concat=n=3:v=1:a=0"
    )
    encode(clip, "-i", str(NO_FACE), "-i", str(FACE), "-filter_complex", graph)
    fast, base = detect_faces(clip, detector), detect_faces(clip, naive)
    assert fast.n_frames == 30 + 72 + 30
    faces = set(fast.frame_index.tolist())
    assert not faces & set(range(30)) and not faces & set(
        range(102, 132)
    )  # no face before it enters, none after it leaves
    assert min(faces) <= 31 and len(faces & set(range(30, 102))) >= 0.9 * 72
    assert_same_faces(fast, base)


def test_face_panned_out_of_view_and_back_matches_the_naive_loop(detector, naive, tmp_path):
    """A window panning across the clip cuts the face at the frame's edge: those frames get the full pyramid."""
    clip = tmp_path / "pan.mp4"
    encode(clip, "-i", str(FACE), "-vf", "crop=320:360:x='(iw-320)*abs(sin(t*1.3))':y=0")
    fast, base = detect_faces(clip, detector), detect_faces(clip, naive)
    assert 0 < len(base.frame_index) < base.n_frames  # the face is out of view on some frames
    assert_same_faces(fast, base)


def test_fast_path_is_deterministic(detector, tmp_path):
    detect_faces(FACE, detector).save(tmp_path / "a.npz")
    detect_faces(FACE, make_detector(MTCNN)).save(tmp_path / "b.npz")  # a fresh detector: no state carried over
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_chunks_of_full_search_every_frames_are_independent(detector):
    """A run of full_search_every frames from a multiple of it is searched the same whatever came before."""
    every = detector.tracking["full_search_every"]
    from affrepro.preprocess.faces import track_frames

    frames = list(iter_frames(FACE, 30))
    whole = [points for _, points in track_frames(frames, detector)]
    tail = [points for _, points in track_frames(frames[every:], detector)]
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(whole[every:], tail))


def test_workers_give_the_same_output(detector):
    one = detect_faces(FACE, detector)
    two = detect_faces(FACE, make_detector(MTCNN | {"tracking": {"workers": 2, "full_search_every": 10}}))
    assert_same_faces(two, one)
    assert np.array_equal(
        two.landmarks, detect_faces(FACE, make_detector(MTCNN | {"tracking": {"full_search_every": 10}})).landmarks
    )


def test_cli_full_search_flag_and_default_agree(tmp_path, capsys):
    from affrepro.cli import main

    outs = {}
    for name, extra in (("fast", []), ("full", ["--full-search"])):
        outs[name] = tmp_path / f"{name}.npz"
        assert main(["faces", str(FACE), "--out", str(outs[name]), *extra]) == 0
    assert "of 72 frames have a face" in capsys.readouterr().out
    with np.load(outs["fast"]) as fast, np.load(outs["full"]) as full:
        assert set(fast.files) == set(full.files) == {"faces", "frame_index", "landmarks", "n_frames", "fps"}
        assert np.array_equal(fast["frame_index"], full["frame_index"])
        assert np.abs(fast["landmarks"] - full["landmarks"]).max() <= 2.0
