"""VA preprocessing (paper §3.2), one shard of trials per job.

For a train/validation trial the length N is the number of annotation rows
that are not -5; its frames are those rows' crops resized to 48x48x3, a
missing crop replaced by the last available one (the first available one
before any crop exists), and its labels are the same rows. Audio: mono 16 kHz
16-bit WAV, level unchanged (the paper names no normalisation). Feature
extractors then emit one row per trial frame (affrepro.va.features).

Each trial's frames and labels go to `<out-dir>/<trial>.npz`, its audio to
`<out-dir>/<trial>.wav`; the manifest lists both files per trial, and the
dataset root, for the jobs downstream.

    python -m affrepro.va.prepare --config C --root work/data/affwild2 --shard 0 --shards 2 \
        --out-dir work/va/prepare/shard0 --manifest work/va/prepare/shard0.json
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from affrepro import jobs
from affrepro.data import DatasetError, affwild2
from affrepro.files import write_json, write_npz
from affrepro.media import MediaError, probe
from affrepro.preprocess.audio import prepare_audio
from affrepro.va import plan
from affrepro.va.settings import Prepare

log = logging.getLogger("affrepro.va.prepare")


def load_frames(root: Path, name: str, rows: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """(N, size, size, 3) uint8 RGB crops for video frames `rows`, gaps filled; and how many were missing."""
    available = np.array([affwild2.frame_path(root, name, int(r)).is_file() for r in rows], dtype=bool)
    if not available.any():
        raise DatasetError(
            f"{root / 'cropped_aligned' / name}: no crop for any annotated frame of trial {name}; check the folder name"
        )
    source = affwild2.fill_missing(available)
    frames = np.zeros((len(rows), size, size, 3), np.uint8)
    cache: dict[int, np.ndarray] = {}
    for position, use in enumerate(source):
        if use not in cache:
            path = affwild2.frame_path(root, name, int(rows[use]))
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise DatasetError(
                    f"{path}: cannot be read as an image; replace or delete it (a deleted crop is filled from the previous frame)"
                )
            cache = {
                use: cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), (size, size), interpolation=cv2.INTER_AREA)
            }
        frames[position] = cache[use]
    return frames, int((~available).sum())


def prepare_trial(root: Path, trial: affwild2.Trial, out_dir: Path, settings: Prepare) -> dict:
    """Write the trial's frames, labels and audio into out_dir; return its manifest record."""
    frame_size, sample_rate = settings.frame_size, settings.sample_rate
    files = {"trial": out_dir / f"{trial.name}.npz", "audio": out_dir / f"{trial.name}.wav"}
    video = affwild2.video_path(root, trial)
    fps = float(probe(video)["fps"])
    values = affwild2.read_annotation(trial.annotation)
    rows = affwild2.valid_rows(values)
    if len(rows) == 0:
        raise DatasetError(f"{trial.annotation}: every row is -5; remove the trial or fix its annotation")
    frames, n_missing = load_frames(root, trial.name, rows, frame_size)
    write_npz(
        files["trial"],
        frames=frames,
        rows=rows.astype(np.int64),
        labels=values[rows].astype(np.float32),
        fps=np.float64(fps),
    )
    audio = prepare_audio(video, files["audio"], sample_rate, peak_dbfs=None)
    if n_missing:
        log.info("%s: %d of %d crops missing, filled with the last available one", trial.name, n_missing, len(rows))
    counts = {
        "length": int(len(rows)),
        "annotation_rows": int(len(values)),
        "ignored_rows": int(len(values) - len(rows)),
        "missing_crops": n_missing,
    }
    return (
        {name: str(path) for name, path in files.items()}
        | counts
        | {
            "fps": fps,
            "silent_audio": audio.silent,
            "audio_coverage": audio.coverage,
            "audio_offset_s": audio.audio_offset_s,
        }
    )


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__, "va", argv, root=jobs.PATH, shard=jobs.INT, shards=jobs.INT, out_dir=jobs.PATH, manifest=jobs.PATH
    )
    by_name = {t.name: t for t in affwild2.list_trials(args.root)}
    settings = Prepare.from_config(config)
    records, skipped = {}, {}
    for name in tqdm(plan.shard(settings.trials, args.root, args.shard, args.shards), desc="prepare", mininterval=5):
        try:
            records[name] = prepare_trial(args.root, by_name[name], args.out_dir, settings)
        except (DatasetError, MediaError) as error:  # the message names the file
            if settings.on_unreadable == "fail":
                raise
            skipped[name] = str(error)
            log.warning("trial %s left out (datasets.affwild2.on_unreadable: skip): %s", name, error)
    partial = sorted(name for name, record in records.items() if record["audio_coverage"]["partial"])
    shard = {"root": str(args.root), "shard": args.shard, "shards": args.shards, "partial": partial, "skipped": skipped}
    write_json(
        args.manifest,
        {
            "stage": "prepare",
            "frame_size": settings.frame_size,
            "sample_rate": settings.sample_rate,
            "trials": records,
        }
        | shard,
    )


if __name__ == "__main__":
    main()
