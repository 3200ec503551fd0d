"""ffmpeg (the binary shipped by imageio-ffmpeg) for reading and writing media.

Video is streamed frame by frame through a pipe, never held whole in memory.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator

import imageio_ffmpeg
import numpy as np

# Flags that keep ffmpeg's output byte-identical from run to run.
BITEXACT = ["-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


class MediaError(RuntimeError):
    """A media file that ffmpeg cannot read, with the file named."""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: str | Path) -> dict:
    """Container metadata: size (w, h), fps, duration (s), audio presence."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such media file")
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise MediaError(f"{path}: ffmpeg cannot read it ({exc}); check that it is a complete video file") from exc
    finally:
        reader.close()
    return meta


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


def read_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """The first audio stream of `path` as float32 mono at `sample_rate` (ffmpeg resampler, channels averaged)."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such media file")
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else "unknown error"
        if "matches no streams" in proc.stderr.decode(errors="replace"):
            raise MediaError(f"{path}: has no audio stream; the audio branch needs one (remove the sample or add its audio)")
        raise MediaError(f"{path}: ffmpeg could not decode its audio ({detail})")
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def encode_video(path: str | Path, frames: Iterator[np.ndarray], size: tuple[int, int], fps: int, audio_wav: str | Path | None) -> None:
    """Encode RGB frames (H.264, yuv420p) with an optional audio track (AAC), deterministically."""
    width, height = size
    cmd = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-"]
    if audio_wav is not None:
        cmd += ["-i", str(audio_wav), "-c:a", "aac", "-b:a", "96k"]
    cmd += ["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", *BITEXACT, "-f", "mp4", str(path)]
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
