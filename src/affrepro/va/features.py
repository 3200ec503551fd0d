"""VA features (paper §3.1, Table 1), one extractor and one shard of trials per job.

Every extractor emits exactly one row per trial frame: IResNet-50 on the
48x48 frames; VGGish and MFCC at the frames' times (row / fps). Audio rows
past the end of the audio are not computed; the matrix is then padded by
repeating its last row (or trimmed from the end) to the trial length (§3.2).

The trials and their files are those of one prepare manifest; each trial's
features go to `<out-dir>/<trial>.npz`, listed in the features manifest.

    python -m affrepro.va.features --config C --extractor vggish --prepared work/va/prepare/shard0.json \
        --out-dir work/va/features/vggish/shard0 --manifest work/va/features/vggish/shard0.json
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from affrepro import compute, jobs
from affrepro.data import DatasetError
from affrepro.data.affwild2 import fit_length
from affrepro.features import iresnet, mfcc, save_features, vggish
from affrepro.features.weights import parse_weights
from affrepro.files import read_json, write_json
from affrepro.va import plan
from affrepro.va.settings import Features

log = logging.getLogger("affrepro.va.features")


def load_trial(path: str | Path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def audio_times(trial: dict, n_audio_samples: int, sample_rate: int) -> np.ndarray:
    """Times (s) of the trial's frames that lie within the audio."""
    times = trial["rows"] / float(trial["fps"])
    return times[times <= n_audio_samples / sample_rate]


def check_audio(name: str, trial: dict) -> None:
    """The audio (trial["audio"]) must reach the trial's first frame and hold at least one 25 ms window."""
    path = trial["audio"]
    info = sf.info(path)
    if info.frames < mfcc.N_FFT or not len(audio_times(trial, info.frames, info.samplerate)):
        raise DatasetError(
            f"{path}: {info.frames / info.samplerate:.3f} s of audio, but trial {name}'s first annotated frame is at "
            f"{trial['rows'][0] / float(trial['fps']):.3f} s; the video's audio track is missing or truncated (re-extract it, or remove the trial)"
        )


def make_encoder(settings: Features, device):
    extractor = settings.va_extractor
    if extractor == "mfcc":

        def encode(trial):
            signal, rate = sf.read(trial["audio"], dtype="float32")
            return mfcc.extract(signal, audio_times(trial, len(signal), rate))

        return encode, {"weights": "none (torchaudio MFCC, 13 + delta + delta-delta)"}
    own, precision = settings.own, settings.precision
    if extractor == "iresnet50":
        spec = parse_weights(own["weights"], "iresnet50")
        size = own["input_size"]
        model = iresnet.build(spec, size)

        def encode(trial):
            return iresnet.extract(model, trial["frames"], device, precision, own["batch_size"], size)

        return encode, {"weights": spec.provenance(), "input_size": size}
    if extractor == "vggish":
        spec = parse_weights(own["weights"], "vggish")
        model = vggish.build(spec)

        def encode(trial):
            signal, rate = sf.read(trial["audio"], dtype="float32")
            return vggish.extract(
                model,
                signal,
                audio_times(trial, len(signal), rate),
                device,
                precision,
                own["batch_size"],
            )

        return encode, {"weights": spec.provenance()}
    raise ValueError(f"unknown VA extractor {extractor!r}; known: {', '.join(plan.EXTRACTORS)}")


def extract_trial(encode, extractor: str, name: str, files: dict) -> tuple[np.ndarray, np.ndarray]:
    """One row per trial frame (padded or trimmed to the trial length), and the frames' video rows."""
    trial = load_trial(files["trial"]) | {"audio": Path(files["audio"])}
    length = len(trial["rows"])
    if extractor in plan.AUDIO_EXTRACTORS:
        check_audio(name, trial)
    features = encode(trial)
    if len(features) != length:
        log.info(
            "%s: %s has %d rows for %d frames; padded/trimmed to the trial length",
            name,
            extractor,
            len(features),
            length,
        )
    return fit_length(features, length), trial["rows"]


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__,
        "va",
        argv,
        extractor=jobs.one_of(plan.EXTRACTORS),
        prepared=jobs.PATH,
        out_dir=jobs.PATH,
        manifest=jobs.PATH,
    )
    settings = Features.from_config(config, va_extractor=args.extractor)
    device = compute.setup(settings.compute)
    encode, info = make_encoder(settings, device)
    prepared = read_json(args.prepared)
    records, dim = {}, None
    for name, files in tqdm(prepared["trials"].items(), desc=args.extractor, mininterval=5):
        features, rows = extract_trial(encode, args.extractor, name, files)
        path = args.out_dir / f"{name}.npz"
        save_features(path, features, rows, len(rows))
        records[name] = {"file": str(path), "rows": int(len(rows))}
        dim = int(features.shape[1])
    manifest = {
        "stage": "features",
        "extractor": args.extractor,
        "precision": settings.precision,
        "dim": dim,
        **info,
    }
    # Trials the prepare stage left out (on_unreadable: skip) stay listed, for the store and the tables' provenance.
    write_json(
        args.manifest,
        manifest
        | {
            "trials": records,
            "shard": prepared["shard"],
            "shards": prepared["shards"],
            "skipped": prepared.get("skipped", {}),
        },
    )


if __name__ == "__main__":
    main()
