"""EMI features (paper §3.2, Table 2), one extractor and one shard of samples per job.

Visual extractors (ResNet-18, OpenFace AUs, DINO ViT) encode the aligned faces
of the faces stage; Wav2Vec2 encodes the audio stage's WAV on the 30 fps video
grid. Each sample's features go beside the job's manifest, which lists them
with the extractor's weights provenance.

    python -m affrepro.emi.features --extractor resnet18 --inputs work/emi/faces/shard0.json --manifest work/emi/features/resnet18/shard0.json
"""

from __future__ import annotations

import logging

import numpy as np
import soundfile as sf
from tqdm import tqdm

from affrepro import compute, jobs
from affrepro.emi import plan
from affrepro.emi.extractors import AUDIO, EXTRACTORS
from affrepro.emi.settings import Features
from affrepro.features import save_features
from affrepro.features.weights import parse_weights
from affrepro.files import read_json, write_json
from affrepro.preprocess.faces import load_faces

log = logging.getLogger("affrepro.emi.features")


def au_encoder(settings: dict, device, precision: str):
    from affrepro.features import au

    binary = settings["openface"]["bin"]

    def encode(track):
        if not len(track.faces):
            return np.zeros((0, au.DIM), np.float32), track.frame_index
        if binary:
            rows, feats = au.run_openface(binary, track.faces)
            return feats, track.frame_index[rows]
        return au.crop_au_proxy(track.faces), track.frame_index

    weights = (
        f"OpenFace 2.0 ({binary})" if binary else "crop-proxy (approximation of OpenFace AUs, see affrepro.features.au)"
    )
    return encode, {"weights": weights}


def resnet18_encoder(settings: dict, device, precision: str):
    from affrepro.features import resnet

    spec = parse_weights(settings["resnet18"]["weights"], "resnet18")
    model = resnet.build(spec)

    def encode(track):
        return resnet.extract(
            model, track.faces, device, precision, settings["resnet18"]["batch_size"]
        ), track.frame_index

    return encode, {"weights": spec.provenance()}


def dino_encoder(settings: dict, device, precision: str):
    from affrepro.features import dino

    spec = parse_weights(settings["dino"]["weights"], "dino")
    model, commit = dino.build(spec)
    size = settings["dino"]["image_size"]

    def encode(track):
        return dino.extract(
            model, track.faces, device, precision, settings["dino"]["batch_size"], size
        ), track.frame_index

    return encode, {"weights": spec.provenance(commit), "image_size": size}


def wav2vec2_encoder(settings: dict, device, precision: str, fps: int):
    from affrepro.features import wav2vec2

    options = settings["wav2vec2"]
    spec = parse_weights(options["weights"], "wav2vec2")
    model, commit = wav2vec2.build(spec, options["random_arch"])
    wav2vec2.check_layer(options["layer"], model.config.num_hidden_layers)

    def encode(wav_path):
        signal, rate = sf.read(wav_path, dtype="float32")
        feats = wav2vec2.extract(model, signal, rate, device, precision, fps, options)
        return feats, np.arange(len(feats)), len(feats)

    info = {
        "weights": spec.provenance(commit),
        "dim": int(model.config.hidden_size),
        "num_hidden_layers": model.config.num_hidden_layers,
    }
    return encode, info | {k: options[k] for k in ("layer", "pooling")}


VISUAL_ENCODERS = {
    "au": au_encoder,
    "resnet18": resnet18_encoder,
    "dino": dino_encoder,
}  # keys: affrepro.emi.extractors.VISUAL


def make_encoder(settings: Features, device):
    """encode(per-sample input file) -> (features (T, D), frame index (T,), frames of the video), and the weights' provenance."""
    extractor, precision = settings.extractor, settings.precision
    if extractor in AUDIO:
        return wav2vec2_encoder(settings.extractors, device, precision, settings.fps)
    encode_track, info = VISUAL_ENCODERS[extractor](settings.extractors, device, precision)

    def encode(faces_path):
        track = load_faces(faces_path)
        feats, index = encode_track(track)
        return feats, index, track.n_frames

    return encode, info


def extract_shard(settings: Features, inputs: dict, out_dir) -> dict:
    """Encode every sample of an upstream shard manifest; returns this job's manifest."""
    device = compute.setup(settings.compute)
    extractor = settings.extractor
    encode, info = make_encoder(settings, device)
    info = {"stage": "features", "extractor": extractor, "precision": settings.precision} | info
    records = {}
    for key, sample in tqdm(inputs["samples"].items(), desc=extractor, mininterval=5):
        feats, index, n_frames = encode(sample[plan.SAMPLE_FILE])
        path = out_dir / f"{key}.npz"
        save_features(path, feats, index, n_frames)
        records[key] = {plan.SAMPLE_FILE: str(path), "n_rows": int(len(feats)), "n_frames": int(n_frames)}
        if info.setdefault("dim", int(feats.shape[1])) != feats.shape[1]:
            raise ValueError(
                f"{extractor}: sample {key} has {feats.shape[1]} features, the checkpoint's config says {info['dim']}"
            )
    return info | {"samples": records}


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__, "emi", argv, extractor=jobs.one_of(EXTRACTORS), inputs=jobs.PATH, manifest=jobs.PATH
    )
    upstream = read_json(args.inputs)
    info = extract_shard(Features.from_config(config, extractor=args.extractor), upstream, args.manifest.parent)
    # Samples the prepare stage left out (on_unreadable: skip) stay listed, for the store and the tables' provenance.
    write_json(
        args.manifest,
        info | {"shard": upstream["shard"], "shards": upstream["shards"], "skipped": upstream.get("skipped", {})},
    )
    log.info(
        "%s shard %d/%d: %d samples -> %s",
        args.extractor,
        upstream["shard"],
        upstream["shards"],
        len(upstream["samples"]),
        args.manifest,
    )


if __name__ == "__main__":
    main()
