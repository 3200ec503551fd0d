"""VA features (paper §3.1, Table 1), one extractor and one shard of trials per job.

Every extractor emits exactly one row per trial frame: IResNet-50 on the
48x48 frames; VGGish and MFCC at the frames' times (row / fps). Audio rows
past the end of the audio are not computed; the matrix is then padded by
repeating its last row (or trimmed from the end) to the trial length (§3.2).

    python -m affrepro.va.features --config C --extractor vggish --shard 0 --shards 4 --manifest M
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from affrepro import compute
from affrepro.config import effective_config, load_config
from affrepro.data import DatasetError
from affrepro.data.affwild2 import fit_length
from affrepro.features import iresnet, mfcc, save_features, vggish
from affrepro.features.weights import parse_weights
from affrepro.io import write_json
from affrepro.va import plan

log = logging.getLogger("affrepro.va.features")


def load_trial(name: str) -> dict:
    with np.load(plan.trial_path(name)) as data:
        return {k: data[k] for k in data.files}


def audio_times(trial: dict, n_audio_samples: int, sample_rate: int) -> np.ndarray:
    """Times (s) of the trial's frames that lie within the audio."""
    times = trial["rows"] / float(trial["fps"])
    return times[times <= n_audio_samples / sample_rate]


def check_audio(name: str, trial: dict) -> None:
    """The audio must reach the trial's first frame and hold at least one 25 ms window."""
    path = plan.audio_path(name)
    info = sf.info(path)
    if info.frames < mfcc.N_FFT or not len(audio_times(trial, info.frames, info.samplerate)):
        raise DatasetError(
            f"{path}: {info.frames / info.samplerate:.3f} s of audio, but trial {name}'s first annotated frame is at "
            f"{trial['rows'][0] / float(trial['fps']):.3f} s; the video's audio track is missing or truncated (re-extract it, or remove the trial)"
        )


def make_encoder(config: dict, extractor: str, device):
    settings = config["extractors"]
    precision = config["compute"]["precision"]
    if extractor == "iresnet50":
        spec = parse_weights(settings["iresnet50"]["weights"], "iresnet50")
        size = settings["iresnet50"]["input_size"]
        model = iresnet.build(spec, size)

        def encode(trial):
            return iresnet.extract(model, trial["frames"], device, precision, settings["iresnet50"]["batch_size"], size)

        return encode, {"weights": spec.provenance(), "input_size": size}
    if extractor == "vggish":
        spec = parse_weights(settings["vggish"]["weights"], "vggish")
        model = vggish.build(spec)

        def encode(trial):
            signal, rate = sf.read(plan.audio_path(trial["name"]), dtype="float32")
            return vggish.extract(model, signal, audio_times(trial, len(signal), rate), device, precision, settings["vggish"]["batch_size"])

        return encode, {"weights": spec.provenance()}
    if extractor == "mfcc":

        def encode(trial):
            signal, rate = sf.read(plan.audio_path(trial["name"]), dtype="float32")
            return mfcc.extract(signal, audio_times(trial, len(signal), rate))

        return encode, {"weights": "none (torchaudio MFCC, 13 + delta + delta-delta)"}
    raise ValueError(f"unknown VA extractor {extractor!r}; known: {', '.join(plan.EXTRACTORS)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Extract one VA feature for one shard of trials.")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--extractor", required=True, choices=plan.EXTRACTORS)
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("--manifest", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = effective_config(load_config(args.config), "va")
    device = compute.setup(config["compute"])
    encode, info = make_encoder(config, args.extractor, device)
    records, dim = {}, None
    for name in tqdm(plan.shard(config, args.shard, args.shards), desc=args.extractor, mininterval=5):
        trial = load_trial(name) | {"name": name}
        length = len(trial["rows"])
        if args.extractor in plan.AUDIO_EXTRACTORS:
            check_audio(name, trial)
        features = encode(trial)
        if len(features) != length:
            log.info("%s: %s has %d rows for %d frames; padded/trimmed to the trial length", name, args.extractor, len(features), length)
        features = fit_length(features, length)
        save_features(plan.features_path(args.extractor, name), features, trial["rows"], length)
        records[name] = {"rows": int(length)}
        dim = int(features.shape[1])
    manifest = {"stage": "features", "extractor": args.extractor, "precision": config["compute"]["precision"], "dim": dim, **info}
    write_json(args.manifest, manifest | {"trials": records, "shard": args.shard, "shards": args.shards})


if __name__ == "__main__":
    main()
