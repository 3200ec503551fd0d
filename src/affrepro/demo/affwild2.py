"""Demo Aff-Wild2 VA in the real layout (see affrepro.data.affwild2).

Each trial has frame-level valence v(t) and arousal a(t) in [-1, 1]: smooth
random curves (a few slow sinusoids through tanh). The face shows valence in
the mouth corners and a little arousal in the brows; the voice shows arousal
in its pitch and a little valence in its breathiness. So a further slow
component in the annotations is shown by neither (annotator view). The visual branch
recovers mostly valence, the audio branches mostly arousal, and the fused
model both. The faults of the real set are planted: -5 stretches in some
annotation files, crops missing from `cropped_aligned/`, and one two-person
video with `_left`/`_right` trials (one shared audio track, the left
person's voice). Deterministic from the seed.

    python -m affrepro.demo.affwild2 --config C --out work/data/affwild2
"""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf

from affrepro import jobs
from affrepro.data.affwild2 import ANNOTATIONS, SPLITS, annotation_path, video_group
from affrepro.demo import synth, write_dataset
from affrepro.files import write_json
from affrepro.media import encode_video

AUDIO_RATE = 22050  # source rate; preprocessing resamples to 16 kHz
CROP_SIZE = 112  # Aff-Wild2's cropped_aligned images are 112x112
VIDEO_SIZE = 56  # the VA pipeline reads only the videos' audio and frame count; small frames keep encoding fast
PAIR_VIDEO = "pair-video"


def trial_names(params: dict) -> dict[str, list[str]]:
    """Trial names per split; a pure function of the demo parameters (the workflow plans jobs from it).

    The last two training trials are the `_left`/`_right` people of one video.
    """
    n_train, n_valid, n_test = params["n_train"], params["n_valid"], params["n_test"]
    train = [f"demo-{i:03d}" for i in range(n_train - 2)] + [f"{PAIR_VIDEO}_left", f"{PAIR_VIDEO}_right"]
    valid = [f"demo-{i:03d}" for i in range(n_train - 2, n_train - 2 + n_valid)]
    test = [f"demo-test-{i:03d}" for i in range(n_test)]
    return {"train": train, "valid": valid, "test": test}


def smooth_curve(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    """A slowly varying curve in (-1, 1): three sinusoids of 0.03-0.25 Hz through tanh."""
    t = np.arange(n) / fps
    curve = sum(
        rng.uniform(0.4, 1.0) * np.sin(2 * np.pi * rng.uniform(0.03, 0.25) * t + rng.uniform(0, 2 * np.pi))
        for _ in range(3)
    )
    return np.tanh(1.2 * curve + rng.uniform(-0.3, 0.3))


def face_crops(rng: np.random.Generator, valence: np.ndarray, arousal: np.ndarray) -> list[np.ndarray]:
    """112x112 aligned crops; expression follows the labels, pose and light jitter slowly."""
    base = synth.face_patch(CROP_SIZE)
    gain = rng.uniform(0.8, 1.2)
    tint = rng.uniform(-0.08, 0.08)
    drift = rng.uniform(-3, 3, size=2)
    noise = rng.normal(0, 4, (7, CROP_SIZE, CROP_SIZE, 3)).astype(np.float32)  # sensor noise, cycled
    crops = []
    for index, (v, a) in enumerate(zip(valence, arousal)):
        patch = synth.expression_warp(base, smile=-0.06 * v, brow=-0.02 * a)
        patch = synth.tint(patch, tint)
        shift = drift * np.sin(2 * np.pi * index / 90.0)
        matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        patch = cv2.warpAffine(patch, matrix, (CROP_SIZE, CROP_SIZE), borderMode=cv2.BORDER_REFLECT)
        crops.append(np.clip(patch.astype(np.float32) * gain + noise[index % len(noise)], 0, 255).astype(np.uint8))
    return crops


def _annotation_text(valence: np.ndarray, arousal: np.ndarray, ignored: np.ndarray) -> str:
    lines = ["valence,arousal"]
    for v, a, skip in zip(valence, arousal, ignored):
        lines.append("-5,-5" if skip else f"{v:.6f},{a:.6f}")
    return "\n".join(lines) + "\n"


def _stretch(rng: np.random.Generator, n: int, fraction: float) -> np.ndarray:
    mask = np.zeros(n, bool)
    length = int(fraction * n)
    start = int(rng.integers(0, n - length))
    mask[start : start + length] = True
    return mask


def _write_crops(folder: Path, crops: np.ndarray, missing: np.ndarray) -> None:
    """The aligned crops as Aff-Wild2 ships them (00001.jpg, ...), less the frames planted as missing."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, crop in enumerate(crops):
        if not missing[index]:
            path = str(folder / f"{index + 1:05d}.jpg")
            cv2.imwrite(path, cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])


def _write_voice(wav: Path, expressed: dict, seconds: float, rng: np.random.Generator) -> Path:
    """A voice whose pitch follows the speaker's expressed arousal and breathiness the valence, as 16-bit PCM."""
    pitch, breathiness = 1.6 * expressed["arousal"], 0.6 * expressed["valence"]
    sf.write(
        wav, synth.voice(rng, seconds, AUDIO_RATE, pitch=pitch, breathiness=breathiness), AUDIO_RATE, subtype="PCM_16"
    )
    return wav


def _write_trial(
    root: Path, tmp: Path, params: dict, names: list[str], split: str, rng: np.random.Generator, faults: dict
) -> dict:
    """One video (one or two people) with its crops, annotations and audio; returns what was planted."""
    duration = rng.uniform(*params["duration_s"])
    fps = int(rng.choice(params["source_fps"]))
    n = int(round(duration * fps))
    people = []
    for name in names:
        valence, arousal = smooth_curve(rng, n, fps), smooth_curve(rng, n, fps)
        crops = face_crops(rng, valence, arousal)
        expressed = {"valence": valence, "arousal": arousal}
        # Annotators see more than the face and voice carry: a slow component no modality shows.
        valence = np.clip(valence + 0.6 * smooth_curve(rng, n, fps), -1, 1)
        arousal = np.clip(arousal + 0.6 * smooth_curve(rng, n, fps), -1, 1)
        missing = np.zeros(n, bool)
        if name in faults["missing_crops"]:
            missing = rng.uniform(size=n) < params["missing_crop_fraction"]
            missing |= _stretch(rng, n, 0.03)
        ignored = _stretch(rng, n, 0.08) if name in faults["ignored_rows"] else np.zeros(n, bool)
        _write_crops(root / "cropped_aligned" / name, crops, missing)
        if split != "test":
            text = _annotation_text(valence, arousal, ignored)
            annotation_path(root, split, name).write_text(text)
        people.append(
            {
                "name": name,
                "crops": crops,
                "expressed": expressed,
                "missing": int(missing.sum()),
                "ignored": int(ignored.sum()),
            }
        )
    wav = _write_voice(tmp / "audio.wav", people[0]["expressed"], n / fps, rng)  # one track: the left person's voice
    small = VIDEO_SIZE
    frames = (
        np.concatenate(
            [cv2.resize(p["crops"][i], (small, small), interpolation=cv2.INTER_AREA) for p in people], axis=1
        )
        for i in range(n)
    )
    encode_video(root / "videos" / f"{video_group(names[0])}.mp4", frames, (small * len(people), small), fps, wav)
    return {
        p["name"]: {
            "split": split,
            "fps": fps,
            "n_frames": n,
            "missing_crops": p["missing"],
            "ignored_rows": p["ignored"],
        }
        for p in people
    }


def generate(params: dict, root: Path) -> None:
    rng = np.random.default_rng(params["seed"])
    names = trial_names(params)
    labelled = names["train"] + names["valid"]
    faults = {
        "missing_crops": set(rng.choice(labelled, size=params["trials_with_missing_crops"], replace=False).tolist()),
        "ignored_rows": set(rng.choice(labelled, size=params["trials_with_ignored_rows"], replace=False).tolist()),
    }
    for folder in SPLITS.values():
        (root / ANNOTATIONS / folder).mkdir(parents=True, exist_ok=True)
    (root / "videos").mkdir(parents=True, exist_ok=True)
    planted = {}
    with tempfile.TemporaryDirectory() as tmp:
        for split, trials in names.items():
            groups: dict[str, list[str]] = {}
            for name in trials:
                groups.setdefault(video_group(name), []).append(name)
            for video, members in groups.items():
                trial_rng = np.random.default_rng([params["seed"], zlib.crc32(video.encode())])
                planted |= _write_trial(root, Path(tmp), params, members, split, trial_rng, faults)
    # Not part of the real layout: what was planted, for inspection.
    write_json(root / "planted.json", {"params": params, "trials": planted})


def main(argv: list[str] | None = None) -> None:
    from affrepro.va.settings import DemoData  # here: the paper's plan imports this module

    config, args = jobs.parse(
        __doc__, "va", argv, out={**jobs.PATH, "help": "dataset root to create (replaced if it exists)"}
    )
    params = DemoData.from_config(config).demo
    write_dataset(args.out, lambda root: generate(params, root))


if __name__ == "__main__":
    main()
