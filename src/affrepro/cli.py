"""`affrepro` command line: the workflow's preprocessing for your own files, and the reviewer's tools.

    affrepro faces VIDEO --out FILE.npz   aligned 112x112 faces at 30 fps (MTCNN, 5-point alignment)
    affrepro audio MEDIA --out FILE.wav   16 kHz mono 16-bit, peak-normalised to -3 dBFS
    affrepro trace TABLE ROW COLUMN       where one cell of a table comes from (affrepro.trace)
    affrepro check [--config C]           what a paper-comparable run still lacks (affrepro.check)
    affrepro verify [--built DIR]         rebuild every table and compare it with the committed one (affrepro.verify)

The preprocessing defaults are the `preprocess:` block of the repository's config.yaml (the
paper's settings), so the command line and the workflow cannot drift apart. They are read when a
command runs, not for --help or --version: from the checkout this code is in, else (a non-editable
install, `pip install .`) from $AFFREPRO_REPO_ROOT or the checkout around the working directory.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from affrepro.config.consistency import check_consistency
from affrepro.config.reading import ConfigError, read_yaml, repository_root
from affrepro.config.schema import SCHEMA_PATH, validate_config
from affrepro.media import MediaError


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def peak_dbfs(text: str) -> float:
    """An argparse type: a finite level in dBFS at or below 0 (above 0 would clip)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value > 0:
        raise argparse.ArgumentTypeError(
            f"{text} must be a finite level at or below 0 dBFS (a peak above 0 dBFS clips)"
        )
    return value


def check_writable(out: Path) -> None:
    """Fail before the work, not after it, when `out` cannot be written (its folder missing as a file, read-only, full)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".check"):
            pass
    except OSError as error:
        raise MediaError(f"{out}: cannot write there ({error.strerror or error}); choose a writable --out") from error


def _faces(args: argparse.Namespace) -> int:
    check_writable(args.out)
    import torch

    from affrepro.media import coverage
    from affrepro.preprocess.faces import detect_faces, make_detector

    torch.set_num_threads(args.threads)
    mtcnn = args.mtcnn | {"min_face_size": args.min_face_size}
    mtcnn["tracking"] = dict(mtcnn.get("tracking") or {}) | {"enabled": not args.full_search, "workers": args.workers}
    track = detect_faces(args.video, make_detector(mtcnn), fps=args.fps, size=args.size)
    coverage(args.video, track.n_frames / args.fps, "video frames")  # warns when the file is partial
    track.save(args.out)
    if len(track.frame_index) == 0:
        print(f"{args.video}: no face found in any of its {track.n_frames} frames; wrote {args.out} with 0 faces")
    else:
        print(f"{args.video}: {len(track.frame_index)} of {track.n_frames} frames have a face; wrote {args.out}")
    return 0


def _audio(args: argparse.Namespace) -> int:
    from affrepro.preprocess.audio import prepare_audio

    check_writable(args.out)
    result = prepare_audio(args.media, args.out, args.sample_rate, args.peak_dbfs)
    state = "silent track, left unnormalised" if result.silent else f"peak normalised to {args.peak_dbfs} dBFS"
    aligned = f", aligned to the first video frame (audio offset {result.audio_offset_s:+.3f} s)" * bool(
        result.audio_offset_s
    )
    print(
        f"{args.media}: {result.samples / result.sample_rate:.2f} s at {result.sample_rate} Hz, {state}{aligned}; wrote {args.out}"
    )
    return 0


# The reviewer's tools, each a module with its own parser (`affrepro <command> -h`).
TOOLS = {
    "trace": "TABLE ROW COLUMN: where one cell of a table comes from",
    "check": "[--config C]: what a paper-comparable run still lacks, item by item",
    "verify": "[--built DIR]: rebuild every table and compare it with the committed one",
}


def preprocess_defaults() -> dict:
    """The `preprocess:` block of the checkout's config.yaml, validated as the workflow validates it."""
    root = repository_root()
    path = root / "config.yaml"
    config = read_yaml(path)
    validate_config(config, source=str(path), schema_path=SCHEMA_PATH)
    check_consistency(config, source=str(path))
    return config["preprocess"]


# Options whose default is config.yaml's (preprocess block): None on the parser, filled in when a command runs.
CONFIG_DEFAULTS = {
    "fps": ("fps",),
    "size": ("face_size",),
    "min_face_size": ("mtcnn", "min_face_size"),
    "mtcnn": ("mtcnn",),
    "sample_rate": ("audio", "sample_rate"),
    "peak_dbfs": ("audio", "peak_dbfs"),
}


def fill_config_defaults(args: argparse.Namespace) -> None:
    defaults = None
    for name, keys in CONFIG_DEFAULTS.items():
        if hasattr(args, name) and getattr(args, name) is None:
            if defaults is None:
                defaults = preprocess_defaults()
            value = defaults
            for key in keys:
                value = value[key]
            setattr(args, name, value)


def run_tool(name: str, argv: list[str]) -> int:
    """One of TOOLS; each reads the checkout's config.yaml, papers/ and results/, so outside one it says how
    to name it (its --help needs none)."""
    import importlib

    if not {"-h", "--help"} & set(argv):
        try:
            repository_root()
        except ConfigError as error:
            print(f"affrepro: {error}", file=sys.stderr)
            return 2
    return importlib.import_module(f"affrepro.{name}").main(argv) or 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in TOOLS:  # each has its own parser (affrepro <command> -h)
        return run_tool(argv[0], argv[1:])
    parser = argparse.ArgumentParser(
        prog="affrepro",
        description=__doc__.splitlines()[0],
        epilog="\n".join(f"  affrepro {name:7} {text}" for name, text in TOOLS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"affrepro {version('affrepro')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{faces,audio,trace,check,verify}")
    faces = commands.add_parser("faces", help="aligned face crops from a video (paper EMI §3.1)")
    faces.add_argument("video", type=Path)
    faces.add_argument("--out", required=True, type=Path)
    faces.add_argument("--fps", type=positive_int, help="frames per second (default: config.yaml preprocess.fps)")
    faces.add_argument(
        "--size", type=positive_int, help="side of the aligned crop in pixels (default: preprocess.face_size)"
    )
    faces.add_argument("--min-face-size", type=positive_int, help="default: preprocess.mtcnn.min_face_size")
    faces.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch threads (MTCNN's small convolutions gain little from more; decoding runs beside it)",
    )
    faces.add_argument(
        "--workers",
        type=positive_int,
        default=len(os.sched_getaffinity(0)),
        help="threads searching runs of frames side by side (default: the usable cores; the output does not depend on it)",
    )
    faces.add_argument(
        "--full-search",
        action="store_true",
        help="MTCNN's full image pyramid on every frame (slower; by default a face found in one frame "
        "narrows the next frame's pyramid, config preprocess.mtcnn.tracking)",
    )
    faces.set_defaults(run=_faces, mtcnn=None)
    audio = commands.add_parser("audio", help="16 kHz mono 16-bit audio, peak-normalised (paper EMI §3.2.2)")
    audio.add_argument("media", type=Path)
    audio.add_argument("--out", required=True, type=Path)
    audio.add_argument("--sample-rate", type=positive_int, help="default: preprocess.audio.sample_rate")
    audio.add_argument("--peak-dbfs", type=peak_dbfs, help="default: preprocess.audio.peak_dbfs")
    audio.set_defaults(run=_audio)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        fill_config_defaults(args)
        return args.run(args)
    except (MediaError, ConfigError) as error:
        print(f"affrepro: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
