"""Face detection speed: the naive per-frame MTCNN loop against `affrepro faces`' fast path.

Baseline: facenet-pytorch 2.6.0's MTCNN with its defaults (min_face_size 20,
thresholds 0.6/0.7/0.7, factor 0.709), one `detect` call per 30 fps frame,
torch.set_num_threads(1). Fast: `affrepro.preprocess.faces.detect_faces` with
the repository's config (`preprocess.mtcnn`, tracking on), one torch thread
(`--threads`; on a busy 2-core machine two intra-op threads made MTCNN 5-15x
slower, not faster), decoding (ffmpeg, and a reader thread) beside detection.

The videos are the real fixtures (tests/fixtures/video, and ../shared/fixtures/video
or $AFFREPRO_SHARED/fixtures/video when present) and variants derived from them with imageio-ffmpeg's ffmpeg in
a temporary folder: other sizes (1280x720, 320x240), codecs (mpeg4, vp9/webm,
mjpeg), frame rates (25, 60), a face that enters (no_face then single_face)
and leaves (the reverse), and a crop that pans the face out of the frame and
back. For each video it prints frames/s of both, the ratio, CPU seconds per
frame (this process plus ffmpeg) and the agreement of the two: the share of
frames on which both find a face or both find none, and the share of frames
with a face in both whose five landmarks all lie within 2 px of the
baseline's. Numbers only; nothing is asserted.

    python benchmarks/faces.py                  # all videos
    python benchmarks/faces.py --quick          # the two fixtures and three variants
    python benchmarks/faces.py --threads 2      # the fast path with two torch threads
    python benchmarks/faces.py --workers 2      # ... with two threads searching runs of frames side by side
    python benchmarks/faces.py --quick --record # ... and write the figures to benchmarks/records/faces.json
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from affrepro.config.load import load_config  # noqa: E402
from affrepro.media import ffmpeg_exe, iter_frames  # noqa: E402
from affrepro.preprocess.faces import detect_faces, make_detector  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from stamp import write_record  # noqa: E402

FPS = 30
TOLERANCE_PX = 2.0


def fixtures() -> dict[str, Path]:
    found = {}
    shared = Path(os.environ.get("AFFREPRO_SHARED", REPO.parent / "shared"))  # as tests/conftest.py finds it
    for folder in (REPO / "tests/fixtures/video", shared / "fixtures" / "video"):
        for path in sorted(folder.glob("*.mp4")) if folder.is_dir() else []:
            found.setdefault(path.stem, path)
    return found


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-y", "-v", "error", *args], check=True)


def variants(src: dict[str, Path], out: Path, quick: bool) -> dict[str, Path]:
    """Derived videos (name -> path), written under `out`."""
    face, empty = src["single_face"], src["no_face"]
    made: dict[str, Path] = {}

    def make(name: str, *args: str) -> None:
        path = out / name
        ffmpeg(*args, str(path))
        made[name] = path

    x264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-an"]
    loop3 = ["-stream_loop", "2"]  # three passes: a clip of about 7 s
    make("face_1280x720_h264.mp4", *loop3, "-i", str(face), "-vf", "scale=1280:720", *x264)
    make(
        "face_320x240_mpeg4_25fps.mp4",
        *loop3,
        "-i",
        str(face),
        "-vf",
        "scale=320:240,fps=25",
        "-c:v",
        "mpeg4",
        "-q:v",
        "4",
        "-an",
    )
    # no_face (960x540) then single_face: the face enters after 4 s
    make(
        "enter_noface_then_face.mp4",
        "-i",
        str(empty),
        "-i",
        str(face),
        "-filter_complex",
        "[0:v]scale=640:360,fps=30,setsar=1[a];[1:v]fps=30,setsar=1[b];[a][b]concat=n=2:v=1:a=0",
        *x264,
    )
    if quick:
        return made
    make(
        "face_640x360_vp9_60fps.webm",
        *loop3,
        "-i",
        str(face),
        "-vf",
        "fps=60",
        "-c:v",
        "libvpx-vp9",
        "-b:v",
        "1M",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-an",
    )
    make("face_640x360_mjpeg.avi", *loop3, "-i", str(face), "-c:v", "mjpeg", "-q:v", "3", "-an")
    make(
        "leave_face_then_noface.mp4",
        "-i",
        str(face),
        "-i",
        str(empty),
        "-filter_complex",
        "[0:v]fps=30,setsar=1[a];[1:v]scale=640:360,fps=30,setsar=1[b];[a][b]concat=n=2:v=1:a=0",
        *x264,
    )
    # a 320-wide window panning over the frame, and back: the face slides out of view and in again
    make(
        "pan_face_out_and_in.mp4",
        *loop3,
        "-i",
        str(face),
        "-vf",
        "crop=320:360:x='(iw-320)*abs(sin(t*0.9))':y=0",
        *x264,
    )
    make(
        "face_960x540_h265_25fps.mp4",
        *loop3,
        "-i",
        str(face),
        "-vf",
        "scale=960:540,fps=25",
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=none",
        "-pix_fmt",
        "yuv420p",
        "-an",
    )
    return made


def cpu_now() -> float:
    """CPU seconds of this process and of its finished children (ffmpeg)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def baseline(video: Path) -> tuple[list, float, float]:
    """The naive loop: stock MTCNN defaults, one `detect` per frame, one thread; (points or None per frame, s, CPU s)."""
    from facenet_pytorch import MTCNN

    torch.set_num_threads(1)
    mtcnn = MTCNN(select_largest=True, device="cpu")
    points = []
    wall, cpu = time.perf_counter(), cpu_now()
    for frame in iter_frames(video, FPS):
        boxes, _, landmarks = mtcnn.detect(frame, landmarks=True)
        points.append(None if boxes is None else np.asarray(landmarks[0], np.float32))
    return points, time.perf_counter() - wall, cpu_now() - cpu


def fast(video: Path, mtcnn_params: dict, threads: int) -> tuple[list, float, float]:
    """`detect_faces` as the workflow runs it; (points or None per frame, s, CPU s)."""
    torch.set_num_threads(threads)
    detector = make_detector(mtcnn_params)
    wall, cpu = time.perf_counter(), cpu_now()
    track = detect_faces(video, detector, fps=FPS)
    wall, cpu = time.perf_counter() - wall, cpu_now() - cpu
    points: list = [None] * track.n_frames
    for index, landmarks in zip(track.frame_index, track.landmarks):
        points[int(index)] = landmarks
    return points, wall, cpu


def agreement(base: list, ours: list) -> tuple[int, int, int, int, float]:
    """(frames, frames agreeing on face/no face, frames with a face in both, of those within 2 px, max deviation px)."""
    n = min(len(base), len(ours))
    same = sum(
        (base[i] is None) == (ours[i] is None) for i in range(n)
    )  # a frame only one of them has counts as a disagreement
    both = [float(np.abs(base[i] - ours[i]).max()) for i in range(n) if base[i] is not None and ours[i] is not None]
    return max(len(base), len(ours)), same, len(both), sum(d <= TOLERANCE_PX for d in both), max(both, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of the fast path (default 1, as the workflow's jobs and the CLI)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="preprocess.mtcnn.tracking.workers for the fast path (default: the config's)",
    )
    parser.add_argument("--quick", action="store_true", help="the fixtures and three variants only")
    parser.add_argument(
        "--record", action="store_true", help="write the figures, stamped, to benchmarks/records/faces.json"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    mtcnn_params = load_config()["preprocess"]["mtcnn"]
    if args.workers is not None:
        mtcnn_params = mtcnn_params | {"tracking": mtcnn_params.get("tracking", {}) | {"workers": args.workers}}
    print(
        f"fast path: {make_detector(mtcnn_params).mode}; preprocess.mtcnn = {mtcnn_params}; torch threads {args.threads}"
    )
    print("baseline: stock facenet-pytorch MTCNN defaults, one detect() per 30 fps frame, 1 torch thread")
    print(
        f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (wall-clock figures count other processes' load)"
    )
    with tempfile.TemporaryDirectory(prefix="affrepro-faces-bench-") as tmp:
        src = fixtures()
        videos = dict(src) | variants(src, Path(tmp), args.quick)
        header = (
            f"{'video':32s} {'frames':>6s} {'base f/s':>8s} {'fast f/s':>8s} {'ratio':>6s} {'base cpu ms/f':>13s} "
            f"{'fast cpu ms/f':>13s} {'cpu ratio':>9s} {'face agree':>10s} {'lm<=2px':>8s} {'max px':>7s}"
        )
        print(header)
        columns = ["video", "frames", "base f/s", "fast f/s", "ratio", "base cpu ms/f", "fast cpu ms/f", "cpu ratio"]
        columns += ["face agree %", "lm<=2px %", "max px"]
        rows = []
        totals = np.zeros(8)
        for name, path in videos.items():
            base, base_s, base_cpu = baseline(path)
            ours, ours_s, ours_cpu = fast(path, mtcnn_params, args.threads)
            n, same, both, within, worst = agreement(base, ours)
            totals += [n, base_s, ours_s, base_cpu, ours_cpu, same, both, within]
            row = [name, n, round(n / base_s, 1), round(n / ours_s, 1), round(base_s / ours_s, 2)]
            row += [round(1e3 * base_cpu / n, 1), round(1e3 * ours_cpu / n, 1), round(base_cpu / ours_cpu, 2)]
            row += [round(100 * same / n, 1), round(100 * within / max(both, 1), 1), round(worst, 3)]
            rows.append(row)
            print(
                f"{name:32s} {n:6d} {n / base_s:8.1f} {n / ours_s:8.1f} {base_s / ours_s:6.2f} "
                f"{1e3 * base_cpu / n:13.1f} {1e3 * ours_cpu / n:13.1f} "
                f"{base_cpu / ours_cpu:9.2f} {100 * same / n:9.1f}% {100 * within / max(both, 1):7.1f}% {worst:7.3f}",
                flush=True,
            )
        n, base_s, ours_s, base_cpu, ours_cpu, same, both, within = totals
        overall = ["OVERALL", int(n), round(n / base_s, 1), round(n / ours_s, 1), round(base_s / ours_s, 2)]
        overall += [round(1e3 * base_cpu / n, 1), round(1e3 * ours_cpu / n, 1), round(base_cpu / ours_cpu, 2)]
        overall += [round(100 * same / n, 1), round(100 * within / max(both, 1), 1), None]
        rows.append(overall)
        print(
            f"{'OVERALL':32s} {int(n):6d} {n / base_s:8.1f} {n / ours_s:8.1f} {base_s / ours_s:6.2f} "
            f"{1e3 * base_cpu / n:13.1f} {1e3 * ours_cpu / n:13.1f} "
            f"{base_cpu / ours_cpu:9.2f} {100 * same / n:9.1f}% {100 * within / max(both, 1):7.1f}%"
        )
        print(
            f"frames/s ratio {base_s / ours_s:.2f}x (target >= 3x); frames agreeing on face/no face {100 * same / n:.2f}% (>= 99%); "
            f"landmarks within {TOLERANCE_PX:g} px {100 * within / max(both, 1):.2f}% of {int(both)} frames with a face in both (>= 99%)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.record:
        write_record(
            "faces",
            {"frames/s and CPU ms per frame, naive loop (base) and fast path": {"columns": columns, "rows": rows}},
            load_before,
            settings={"fast path": make_detector(mtcnn_params).mode, "torch threads": args.threads},
        )


if __name__ == "__main__":
    main()
