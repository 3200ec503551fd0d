"""EMI preprocessing (paper §3.1-3.2), one shard of samples per job.

faces: each video at 30 fps -> MTCNN face and five key points -> aligned
112x112 crops (frames without a face dropped, their indices kept).
audio: each video's track -> 16 kHz mono 16-bit WAV, peak-normalised to -3 dBFS.

Each job writes one file per sample beside its shard manifest (atomically) and
the manifest, which lists every sample's file with its counts and faults: how
much of the video was decoded against its stated duration (`coverage`, a
partial file is logged and listed under `partial`), and, with
datasets.hume_vidmimic2.on_unreadable: skip, the samples left out and why
(`skipped`; both stages apply the same check, so both leave out the same samples).

    python -m affrepro.emi.prepare --stage faces --root R --shard 0 --shards 4 --manifest work/emi/faces/shard0.json
"""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from affrepro import compute, jobs
from affrepro.emi import plan
from affrepro.emi.settings import Prepare
from affrepro.files import write_json
from affrepro.media import coverage, unreadable

log = logging.getLogger("affrepro.emi.prepare")


def faces(settings: Prepare, videos: dict[str, Path], out_dir: Path) -> dict:
    from affrepro.preprocess.faces import detect_faces, make_detector

    device = compute.setup(settings.compute)
    detector = make_detector(settings.mtcnn, device=str(device))
    records = {}
    for key, video in tqdm(videos.items(), desc="faces", mininterval=5):
        track = detect_faces(video, detector, fps=settings.fps, size=settings.face_size)
        path = out_dir / f"{key}.npz"
        track.save(path)
        records[key] = {plan.SAMPLE_FILE: str(path), "n_frames": track.n_frames, "n_faces": int(len(track.frame_index))}
        records[key]["coverage"] = coverage(video, track.n_frames / settings.fps, "video frames")
        if len(track.frame_index) < track.n_frames:
            log.warning(
                "%s: no face in %d of %d frames (dropped, indices kept)",
                video,
                track.n_frames - len(track.frame_index),
                track.n_frames,
            )
    return {
        "stage": "faces",
        "detector": "MTCNN (facenet-pytorch 2.6.0, bundled weights)",
        "mtcnn": settings.mtcnn,
        "samples": records,
    }


def audio(prepare: Prepare, videos: dict[str, Path], out_dir: Path) -> dict:
    from affrepro.preprocess.audio import prepare_audio

    settings = prepare.audio
    records = {}
    for key, video in tqdm(videos.items(), desc="audio", mininterval=5):
        path = out_dir / f"{key}.wav"
        result = prepare_audio(video, path, settings["sample_rate"], settings["peak_dbfs"])
        records[key] = {
            plan.SAMPLE_FILE: str(path),
            "samples": result.samples,
            "silent": result.silent,
            "coverage": result.coverage,
            "audio_offset_s": result.audio_offset_s,
        }
    n_silent = sum(r["silent"] for r in records.values())
    if n_silent:
        log.warning("%d silent audio track(s) in this shard", n_silent)
    return {
        "stage": "audio",
        "sample_rate": settings["sample_rate"],
        "peak_dbfs": settings["peak_dbfs"],
        "samples": records,
    }


STAGES = {"faces": faces, "audio": audio}


def usable(videos: dict[str, Path], policy: str) -> tuple[dict[str, Path], dict[str, str]]:
    """(the videos to process, {key: why} of those left out) under datasets.hume_vidmimic2.on_unreadable.

    `fail` processes every video (an unreadable one stops the job, naming it);
    `skip` first leaves out every video ffmpeg cannot open or that lacks the
    video or audio stream, so the faces and audio stages leave out the same samples.
    """
    if policy == "fail":
        return videos, {}
    skipped = {key: reason for key, video in videos.items() if (reason := unreadable(video))}
    for key, reason in skipped.items():
        log.warning("sample %s left out (datasets.hume_vidmimic2.on_unreadable: skip): %s", key, reason)
    return {key: video for key, video in videos.items() if key not in skipped}, skipped


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__,
        "emi",
        argv,
        stage=jobs.one_of(sorted(STAGES)),
        root=jobs.PATH,
        shard=jobs.INT,
        shards=jobs.INT,
        manifest=jobs.PATH,
    )
    settings = Prepare.from_config(config, stage=args.stage)
    found = plan.videos(args.root)
    videos, skipped = usable(
        {s.key: found[s.key] for s in plan.shard(settings.samples, args.root, args.shard, args.shards)},
        settings.on_unreadable,
    )
    info = STAGES[args.stage](settings, videos, args.manifest.parent)
    partial = sorted(key for key, record in info["samples"].items() if record["coverage"]["partial"])
    write_json(
        args.manifest, info | {"shard": args.shard, "shards": args.shards, "partial": partial, "skipped": skipped}
    )
    log.info(
        "shard %d/%d: %d samples (%d partial, %d left out) -> %s",
        args.shard,
        args.shards,
        len(videos),
        len(partial),
        len(skipped),
        args.manifest,
    )


if __name__ == "__main__":
    main()
