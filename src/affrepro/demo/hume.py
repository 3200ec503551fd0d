"""Demo Hume-Vidmimic2 in the real layout: train_split.csv, valid_split.csv, raw/<id>.mp4.

Each sample has two face latents (expression: mouth corners and brows; skin
tint) and two voice latents (pitch; breathiness: aspiration noise and spectral tilt).
Every one of the six labels mixes a face part and a voice part, so a visual
model recovers one part, an audio model the other, and their late fusion beats
either alone. Faults of real data are planted: stretches of frames without a
face, and a silent audio track. Deterministic from the seed.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from affrepro import jobs
from affrepro.data.hume import LABELS
from affrepro.demo import synth, write_dataset
from affrepro.files import write_json
from affrepro.media import encode_video

AUDIO_RATE = 44100  # source audio rate; preprocessing resamples to 16 kHz
# Loadings of the six labels on the face latents (columns: expression, tint) and voice latents (pitch, breathiness).
FACE_LOADINGS = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [1.0, 0.0], [0.0, 1.0], [0.7, -0.7]])
VOICE_LOADINGS = np.array([[0.0, 1.0], [1.0, 0.0], [0.7, 0.7], [0.7, -0.7], [1.0, 0.0], [0.0, 1.0]])


def sample_ids(params: dict) -> dict[str, list[int]]:
    """File ids per partition; a pure function of the demo parameters (the workflow plans jobs from it)."""
    n_train, n_valid, n_test = params["n_train"], params["n_valid"], params["n_test"]
    ids = list(range(10001, 10001 + n_train + n_valid + n_test))
    return {"train": ids[:n_train], "valid": ids[n_train : n_train + n_valid], "test": ids[n_train + n_valid :]}


def labels_from_latents(face: np.ndarray, voice: np.ndarray, noise: np.ndarray) -> np.ndarray:
    return np.clip(0.5 + 0.15 * (FACE_LOADINGS @ face + VOICE_LOADINGS @ voice) + 0.02 * noise, 0.0, 1.0)


def _frames(rng, params, face_latent, n_frames, fps, faceless):
    width, height = params["width"], params["height"]
    background = synth.smooth_background(rng, height, width)
    size = int(rng.integers(int(0.5 * height), int(0.62 * height)))
    base = synth.face_patch(size)
    gain = rng.uniform(0.85, 1.15)
    start = np.array([rng.uniform(0.1, 0.9) * (width - size), rng.uniform(0.1, 0.9) * (height - size)])
    drift = rng.uniform(-12, 12, size=2)
    period = rng.uniform(1.0, 2.0)
    for index in range(n_frames):
        frame = background.copy()
        if faceless is None or not (faceless[0] <= index < faceless[1]):
            phase = 0.7 + 0.3 * np.sin(2 * np.pi * index / (fps * period))
            patch = synth.expression_warp(
                base, smile=-0.035 * face_latent[0] * phase, brow=-0.02 * face_latent[0] * phase
            )
            patch = synth.tint(patch, 0.09 * face_latent[1])
            patch = np.clip(patch.astype(np.float32) * gain, 0, 255).astype(np.uint8)
            left, top = np.clip(start + drift * index / n_frames, 0, [width - size, height - size]).astype(int)
            synth.paste(frame, patch, int(top), int(left))
        yield frame


def generate(params: dict, root: Path) -> None:
    rng = np.random.default_rng(params["seed"])
    partitions = sample_ids(params)
    all_ids = [i for ids in partitions.values() for i in ids]
    labelled = partitions["train"] + partitions["valid"]
    faceless_ids = set(
        rng.choice(labelled, size=min(params["faceless_samples"], len(labelled)), replace=False).tolist()
    )
    silent_ids = set(rng.choice(labelled, size=min(params["silent_samples"], len(labelled)), replace=False).tolist())
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rows, truth = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for file_id in all_ids:
            sample_rng = np.random.default_rng([params["seed"], file_id])
            face_latent = np.clip(sample_rng.standard_normal(2), -2, 2)
            voice_latent = np.clip(sample_rng.standard_normal(2), -2, 2)
            labels = labels_from_latents(face_latent, voice_latent, sample_rng.standard_normal(6))
            duration = sample_rng.uniform(*params["duration_s"])
            fps = int(sample_rng.choice(params["source_fps"]))
            n_frames = int(round(duration * fps))
            faceless = None
            if file_id in faceless_ids:
                length = int(0.3 * n_frames)
                first = int(sample_rng.integers(0, n_frames - length))
                faceless = (first, first + length)
            audio = synth.voice(
                sample_rng, n_frames / fps, AUDIO_RATE, pitch=voice_latent[0], breathiness=voice_latent[1]
            )
            if file_id in silent_ids:
                audio = np.zeros_like(audio)
            wav = Path(tmp) / f"{file_id}.wav"
            sf.write(wav, audio, AUDIO_RATE, subtype="PCM_16")
            frames = _frames(sample_rng, params, face_latent, n_frames, fps, faceless)
            encode_video(raw / f"{file_id}.mp4", frames, (params["width"], params["height"]), fps, wav)
            rows[file_id] = labels
            truth[str(file_id)] = {
                "face_latent": face_latent.round(6).tolist(),
                "voice_latent": voice_latent.round(6).tolist(),
                "faceless_frames": list(faceless) if faceless else None,
                "silent_audio": file_id in silent_ids,
                "source_fps": fps,
            }
    for split in ("train", "valid"):
        with open(root / f"{split}_split.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Filename", *LABELS])
            for file_id in partitions[split]:
                writer.writerow([file_id, *(f"{v:.6f}" for v in rows[file_id])])
    # Not part of the real layout: what was planted, for inspection (test labels stay out of the splits).
    write_json(
        root / "planted.json",
        {
            "params": params,
            "samples": truth,
            "test_labels": {str(i): rows[i].round(6).tolist() for i in partitions["test"]},
        },
    )


def main(argv: list[str] | None = None) -> None:
    from affrepro.emi.settings import DemoData  # here: the paper's plan imports this module

    config, args = jobs.parse(
        __doc__, "emi", argv, out={"required": True, "help": "dataset root to create (replaced if it exists)"}
    )
    params = DemoData.from_config(config).demo
    write_dataset(args.out, lambda root: generate(params, root))


if __name__ == "__main__":
    main()
