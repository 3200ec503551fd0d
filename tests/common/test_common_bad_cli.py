"""The `affrepro` command line on bad arguments and broken media (issue 13): one line naming the file and what to do.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import os
import re
import time

import pytest
from bad_inputs import (
    VIDEO,
    cli,
)

from affrepro.files import atomic_path

# ------------------------------------------------------------------ CLI


@pytest.mark.parametrize(
    "args, option",
    [
        (["faces", "{video}", "--size", "0"], "--size"),
        (["faces", "{video}", "--fps", "0"], "--fps"),
        (["faces", "{video}", "--min-face-size", "0"], "--min-face-size"),
        (["faces", "{video}", "--threads", "0"], "--threads"),
        (["faces", "{video}", "--fps", "thirty"], "--fps"),
        (["audio", "{video}", "--sample-rate", "0"], "--sample-rate"),
        (["audio", "{video}", "--peak-dbfs", "10"], "--peak-dbfs"),
        (["audio", "{video}", "--peak-dbfs", "nan"], "--peak-dbfs"),
        (["audio", "{video}", "--peak-dbfs", "inf"], "--peak-dbfs"),
    ],
)
def test_cli_arguments_are_checked(args, option, tmp_path):
    out = tmp_path / ("out.npz" if args[0] == "faces" else "out.wav")
    proc = cli(*[a.format(video=VIDEO) for a in args], "--out", str(out))
    assert proc.returncode == 2 and f"argument {option}:" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize("command", ["faces", "audio"])
def test_cli_checks_the_output_is_writable_before_the_work(command, tmp_path):
    (tmp_path / "a_file").write_text("")
    out = tmp_path / "a_file" / "out.npz"
    started = time.monotonic()
    proc = cli(command, str(VIDEO), "--out", str(out))
    assert proc.returncode == 2 and f"{out}: cannot write there" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 60  # no detection pass first


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_refuses_a_read_only_output_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    proc = cli("audio", str(VIDEO), "--out", str(folder / "a.wav"))
    assert proc.returncode == 2 and f"{folder / 'a.wav'}: cannot write there (Permission denied)" in proc.stderr


def test_faces_of_an_audio_file_says_it_has_no_video(media, tmp_path):
    proc = cli("faces", str(media["speech"]), "--out", str(tmp_path / "f.npz"))
    assert proc.returncode == 2 and f"{media['speech']}: has no video stream" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr


@pytest.mark.parametrize("command", ["faces", "audio"])
def test_an_unreadable_file_gets_one_line_not_ffmpegs_banner(command, media, tmp_path):
    proc = cli(command, str(media["garbage"]), "--out", str(tmp_path / "out"))
    assert (
        proc.returncode == 2 and f"{media['garbage']}: ffmpeg c" in proc.stderr and "moov atom not found" in proc.stderr
    )
    assert "configuration:" not in proc.stderr and "ffmpeg version" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr


def test_audio_of_a_video_without_audio_is_named(media, tmp_path):
    proc = cli("audio", str(media["no_audio"]), "--out", str(tmp_path / "a.wav"))
    assert proc.returncode == 2 and f"{media['no_audio']}: has no audio stream" in proc.stderr


def test_a_truncated_file_is_reported_as_partial(media, tmp_path):
    """The index is at the start, so ffmpeg decodes the first fifth and exits 0; the shortfall is now said."""
    proc = cli("audio", str(media["truncated"]), "--out", str(tmp_path / "a.wav"))
    assert proc.returncode == 0
    found = re.search(
        rf"{re.escape(str(media['truncated']))}: decoded (\d+\.\d+) s of audio out of the 2\.42 s its container states",
        proc.stderr,
    )
    assert found and float(found[1]) < 1.5, proc.stderr


def test_an_interrupted_write_leaves_nothing(tmp_path):
    """Ctrl-C in a job raises KeyboardInterrupt inside its write: neither the output nor the temporary file stays
    (so the rerun redoes that job and only that job, docs/running.md, "Stopping and resuming")."""
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "table.csv") as tmp:
            tmp.write_text("half a ta")
            raise KeyboardInterrupt
    assert sorted(tmp_path.iterdir()) == []
