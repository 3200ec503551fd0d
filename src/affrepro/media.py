"""ffmpeg (the binary shipped by imageio-ffmpeg) for reading and writing media.

Video is streamed frame by frame through a pipe, never held whole in memory.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np

log = logging.getLogger(__name__)

# Flags that keep ffmpeg's output byte-identical from run to run.
BITEXACT = [
    "-threads",
    "1",
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
    "-flags:a",
    "+bitexact",
    "-map_metadata",
    "-1",
]


class MediaError(RuntimeError):
    """A media file that ffmpeg cannot read, with the file named."""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


STREAMS = {"v": "video", "a": "audio"}
# A file is partial when the decoded frames or samples fall short of the container's duration by more than this.
PARTIAL_TOLERANCE_S = 0.1
PARTIAL_TOLERANCE_FRACTION = 0.01


def ffmpeg_reason(stderr: str) -> str:
    """The line of ffmpeg's error output that says what is wrong, without its `[demuxer @ 0x...]` prefix."""
    lines = [re.sub(r"^\[[^\]]*\]\s*", "", line).strip() for line in stderr.splitlines()]
    return next((line for line in lines if line), "unknown error")


def stream_error(path: str | Path, stream: str) -> MediaError:
    """Why ffmpeg cannot read `stream` (v or a) of `path`: a missing stream, or ffmpeg's one-line reason (no banner)."""
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        f"0:{stream}:0",
        "-t",
        "0.1",
        "-f",
        "null",
        "-",
    ]
    stderr = subprocess.run(cmd, capture_output=True).stderr.decode(errors="replace")
    if "matches no streams" in stderr:
        return MediaError(
            f"{path}: has no {STREAMS[stream]} stream; give a file with {STREAMS[stream]} (or remove the sample)"
        )
    return MediaError(
        f"{path}: ffmpeg cannot read it ({ffmpeg_reason(stderr)}); check that it is a complete media file"
    )


def probe(path: str | Path) -> dict:
    """Container metadata of a video: size (w, h), fps, duration (s), audio presence."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such media file")
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise stream_error(path, "v") from exc
    finally:
        reader.close()
    return meta


def unreadable(path: str | Path, needs_audio: bool = True) -> str | None:
    """Why a sample's video cannot be used (missing, undecodable, no video or no audio stream), or None when it can."""
    try:
        meta = probe(path)
    except MediaError as error:
        return str(error)
    if needs_audio and "audio_codec" not in meta:
        return f"{path}: has no audio stream; the audio branch needs one (remove the sample or add its audio)"
    return None


def container_duration(path: str | Path) -> float | None:
    """The duration the file's container states (ffmpeg's `Duration:`), in seconds; None when it states none."""
    stderr = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True
    ).stderr.decode(errors="replace")
    found = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", stderr)
    return None if found is None else int(found[1]) * 3600 + int(found[2]) * 60 + float(found[3])


def coverage(path: str | Path, decoded_s: float, what: str) -> dict:
    """How much of `path` was decoded (`what`: video frames or audio) against its container's duration.

    A truncated file whose index survives decodes only its first part and
    ffmpeg exits 0; this compares the decoded length with the stated one and
    logs a warning when the shortfall exceeds the tolerance (`partial`).
    """
    container_s = container_duration(path)
    if container_s is None:
        return {"container_s": None, "decoded_s": round(float(decoded_s), 3), "partial": False}
    missing = max(container_s - float(decoded_s), 0.0)
    partial = missing > max(PARTIAL_TOLERANCE_S, PARTIAL_TOLERANCE_FRACTION * container_s)
    if partial:
        log.warning(
            "%s: decoded %.2f s of %s out of the %.2f s its container states; the file is truncated or damaged (recorded as partial)",
            path,
            decoded_s,
            what,
            container_s,
        )
    return {"container_s": round(container_s, 3), "decoded_s": round(float(decoded_s), 3), "partial": partial}


def iter_frames(path: str | Path, fps: int) -> Iterator[np.ndarray]:
    """RGB uint8 frames of `path` resampled to `fps` (paper §3.1: ffmpeg to 30 fps), streamed.

    ffmpeg's output is piped straight into memory frame by frame; this equals the
    paper's "ffmpeg to 30 fps, then read the frames with OpenCV" without writing and
    re-encoding an intermediate video.
    """
    probe(path)  # a clear error for a missing or unreadable file
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=["-vf", f"fps={fps}"])
    try:
        width, height = next(reader)["size"]  # size as delivered (after ffmpeg's auto-rotation)
        for raw in reader:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
    finally:
        reader.close()


def first_timestamp(path: str | Path, stream: str) -> float | None:
    """When the first decoded frame of the file's first `stream` ("v" video, "a" audio) is shown, in seconds
    (ffmpeg's showinfo/ashowinfo pts_time); None when the file has no such stream."""
    show = ["-vf", "showinfo", "-frames:v", "1"] if stream == "v" else ["-af", "ashowinfo", "-frames:a", "1"]
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path), "-map", f"0:{stream}:0", *show, "-f", "null", "-"]
    found = re.search(
        r"pts_time:\s*(-?[0-9.]+)", subprocess.run(cmd, capture_output=True).stderr.decode(errors="replace")
    )
    return None if found is None else float(found[1])


def audio_offset(path: str | Path) -> float:
    """Seconds by which the first audio sample follows the first video frame (negative: precedes it); 0.0 for a
    file without video. Web clips often start their audio late (e.g. at 2.43 s), which a plain decode hides."""
    video = first_timestamp(path, "v")
    audio = first_timestamp(path, "a")
    return 0.0 if video is None or audio is None else audio - video


def read_audio(path: str | Path, sample_rate: int) -> tuple[np.ndarray, float]:
    """The first audio stream of `path` as float32 mono at `sample_rate` (ffmpeg resampler, channels averaged),
    aligned to the first video frame: sample 0 is that frame's time, so audio that starts late is preceded by
    silence and audio that starts early is trimmed (the frames are numbered from the first video frame). Also
    returns the offset it corrected (`audio_offset`)."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such media file")
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-f",
        "f32le",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        if "matches no streams" in stderr:
            raise MediaError(
                f"{path}: has no audio stream; the audio branch needs one (remove the sample or add its audio)"
            )
        raise MediaError(f"{path}: ffmpeg could not decode its audio ({ffmpeg_reason(stderr)})")
    signal = np.frombuffer(proc.stdout, dtype="<f4")
    offset = audio_offset(path)
    shift = round(offset * sample_rate)
    if shift > 0:
        signal = np.concatenate([np.zeros(shift, np.float32), signal])
    return signal[max(-shift, 0) :].copy(), offset


def encode_video(
    path: str | Path, frames: Iterator[np.ndarray], size: tuple[int, int], fps: int, audio_wav: str | Path | None
) -> None:
    """Encode RGB frames (H.264, yuv420p) with an optional audio track (AAC), deterministically."""
    width, height = size
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-y",
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        "-",
    ]
    if audio_wav is not None:
        cmd += ["-i", str(audio_wav), "-c:a", "aac", "-b:a", "96k"]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        *BITEXACT,
        "-f",
        "mp4",
        str(path),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
    finally:
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.wait()
    if proc.returncode != 0:
        raise MediaError(f"{path}: ffmpeg failed to encode ({err.strip()})")
