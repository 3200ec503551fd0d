"""Per-sample stages run as one Snakemake job per shard: faces, audio, features.

Each job writes one file per sample (atomically) and a shard manifest that
lists them with counts, faults and the extractor's weights provenance.

    python -m affrepro.stages faces    --paper emi --shard 0 --shards 4 --manifest M
    python -m affrepro.stages audio    --paper emi --shard 0 --shards 4 --manifest M
    python -m affrepro.stages features --paper emi --extractor resnet18 --shard 0 --shards 4 --manifest M
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
from affrepro.emi import plan
from affrepro.features import AUDIO, EXTRACTORS, save_features
from affrepro.features.weights import parse_weights
from affrepro.io import write_json
from affrepro.preprocess.faces import load_faces

log = logging.getLogger("affrepro.stages")
PLANS = {"emi": plan}


def run_faces(config: dict, plan_module, keys: list[str]) -> dict:
    from affrepro.preprocess.faces import detect_faces, make_detector

    device = compute.setup(config["compute"])
    pre = config["preprocess"]
    detector = make_detector(pre["mtcnn"], device=str(device))
    videos = plan_module.videos(config)
    records = {}
    for key in tqdm(keys, desc="faces", mininterval=5):
        track = detect_faces(videos[key], detector, fps=pre["fps"], size=pre["face_size"])
        track.save(plan_module.faces_path(key))
        records[key] = {"n_frames": track.n_frames, "n_faces": int(len(track.frame_index))}
        if len(track.frame_index) < track.n_frames:
            log.warning("%s: no face in %d of %d frames (dropped, indices kept)", videos[key], track.n_frames - len(track.frame_index), track.n_frames)
    return {"stage": "faces", "detector": "MTCNN (facenet-pytorch 2.6.0, bundled weights)", "mtcnn": pre["mtcnn"], "samples": records}


def run_audio(config: dict, plan_module, keys: list[str]) -> dict:
    from affrepro.preprocess.audio import prepare_audio

    audio = config["preprocess"]["audio"]
    videos = plan_module.videos(config)
    records = {}
    for key in tqdm(keys, desc="audio", mininterval=5):
        result = prepare_audio(videos[key], plan_module.audio_path(key), audio["sample_rate"], audio["peak_dbfs"])
        records[key] = {"samples": result.samples, "silent": result.silent}
    n_silent = sum(r["silent"] for r in records.values())
    if n_silent:
        log.warning("%d silent audio track(s) in this shard", n_silent)
    return {"stage": "audio", "sample_rate": audio["sample_rate"], "peak_dbfs": audio["peak_dbfs"], "samples": records}


def run_features(config: dict, plan_module, keys: list[str], extractor: str) -> dict:
    device = compute.setup(config["compute"])
    precision = config["compute"]["precision"]
    settings = config["extractors"]
    info: dict = {"stage": "features", "extractor": extractor, "precision": precision}
    if extractor == "au":
        from affrepro.features import au

        binary = settings["openface"]["bin"]
        info["weights"] = f"OpenFace 2.0 ({binary})" if binary else "crop-proxy (approximation of OpenFace AUs, see affrepro.features.au)"

        def encode(track):
            if not len(track.faces):
                return np.zeros((0, au.DIM), np.float32), track.frame_index
            if binary:
                rows, feats = au.run_openface(binary, track.faces)
                return feats, track.frame_index[rows]
            return au.crop_au_proxy(track.faces), track.frame_index
    elif extractor == "resnet18":
        from affrepro.features import resnet

        spec = parse_weights(settings["resnet18"]["weights"], "resnet18")
        model = resnet.build(spec)
        info["weights"] = spec.provenance()

        def encode(track):
            return resnet.extract(model, track.faces, device, precision, settings["resnet18"]["batch_size"]), track.frame_index
    elif extractor == "dino":
        from affrepro.features import dino

        spec = parse_weights(settings["dino"]["weights"], "dino")
        model, commit = dino.build(spec)
        info["weights"] = spec.provenance(commit)
        info["image_size"] = settings["dino"]["image_size"]

        def encode(track):
            feats = dino.extract(model, track.faces, device, precision, settings["dino"]["batch_size"], settings["dino"]["image_size"])
            return feats, track.frame_index
    elif extractor == "wav2vec2":
        from affrepro.features import wav2vec2

        spec = parse_weights(settings["wav2vec2"]["weights"], "wav2vec2")
        model, commit = wav2vec2.build(spec, settings["wav2vec2"]["random_arch"])
        info["weights"] = spec.provenance(commit)
        fps = config["preprocess"]["fps"]
    else:
        raise ValueError(f"unknown extractor {extractor!r}; known: {', '.join(EXTRACTORS)}")

    records = {}
    for key in tqdm(keys, desc=extractor, mininterval=5):
        if extractor in AUDIO:
            signal, rate = sf.read(plan_module.audio_path(key), dtype="float32")
            feats = wav2vec2.extract(model, signal, rate, device, precision, settings["wav2vec2"]["chunk_seconds"], fps)
            index, n_frames = np.arange(len(feats)), len(feats)
        else:
            track = load_faces(plan_module.faces_path(key))
            feats, index = encode(track)
            n_frames = track.n_frames
        save_features(plan_module.features_path(extractor, key), feats, index, n_frames)
        records[key] = {"n_rows": int(len(feats)), "n_frames": int(n_frames)}
        info["dim"] = int(feats.shape[1])
    return info | {"samples": records}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one shard of a per-sample stage.")
    parser.add_argument("stage", choices=["faces", "audio", "features"])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--paper", default="emi", choices=sorted(PLANS))
    parser.add_argument("--extractor", choices=EXTRACTORS)
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("--manifest", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = effective_config(load_config(args.config), args.paper)
    plan_module = PLANS[args.paper]
    keys = [s.key for s in plan_module.shard(config, args.shard, args.shards)]
    if args.stage == "faces":
        info = run_faces(config, plan_module, keys)
    elif args.stage == "audio":
        info = run_audio(config, plan_module, keys)
    else:
        if args.extractor is None:
            parser.error("features needs --extractor")
        info = run_features(config, plan_module, keys, args.extractor)
    write_json(args.manifest, info | {"shard": args.shard, "shards": args.shards})
    log.info("shard %d/%d: %d samples -> %s", args.shard, args.shards, len(keys), args.manifest)


if __name__ == "__main__":
    main()
