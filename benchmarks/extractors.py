"""Throughput and peak memory of the per-frame stages, printed (not asserted).

    python benchmarks/extractors.py [--video work/data/hume_vidmimic2/raw/10001.mp4] [--threads 2]

Measures MTCNN detection + alignment (ms/frame) on a video, and ResNet-18 and
DINO ViT-S/16 feature extraction (frames/s) on 112x112 crops in fp32, fp32 +
channels_last, and bf16 autocast + channels_last (the `compute.precision` choice).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch

from affrepro.features import dino, resnet
from affrepro.features.weights import parse_weights
from affrepro.preprocess.faces import detect_faces, make_detector

CPU = torch.device("cpu")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeats: int = 3) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=Path("work/data/hume_vidmimic2/raw/10001.mp4"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--min-face-size", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")

    if args.video.is_file():
        detector = make_detector({"min_face_size": args.min_face_size, "thresholds": [0.6, 0.7, 0.7], "factor": 0.709})
        start = time.perf_counter()
        track = detect_faces(args.video, detector)
        elapsed = time.perf_counter() - start
        print(f"MTCNN + alignment: {1000 * elapsed / max(track.n_frames, 1):.1f} ms/frame over {track.n_frames} frames of {args.video} (min_face_size {args.min_face_size})")
    else:
        print(f"skipping MTCNN: {args.video} not found (run `snakemake --cores 2 work/emi/faces/shard0.json` first)")

    crops = np.random.default_rng(0).integers(0, 255, (args.frames, 112, 112, 3), dtype=np.uint8)
    model = resnet.build(parse_weights("random", "resnet18"))
    for label, precision in [("fp32 + channels_last", "fp32"), ("bf16 autocast + channels_last", "bf16")]:
        seconds = timed(lambda: resnet.extract(model, crops, CPU, precision, batch_size=64))
        print(f"ResNet-18 112x112 {label}: {args.frames / seconds:.0f} frames/s")
    plain = model.to(memory_format=torch.contiguous_format)
    with torch.inference_mode():
        batch = resnet.to_tensor(crops)
        seconds = timed(lambda: [plain(batch[i : i + 64]) for i in range(0, len(batch), 64)])
    print(f"ResNet-18 112x112 fp32 (contiguous): {args.frames / seconds:.0f} frames/s")

    vit, _ = dino.build(parse_weights("random", "dino"))
    for size in (224, 112):
        for precision in ("fp32", "bf16"):
            n = args.frames // 4
            seconds = timed(lambda: dino.extract(vit, crops[:n], CPU, precision, batch_size=32, image_size=size), repeats=1)
            print(f"DINO ViT-S/16 at {size}px {precision}: {n / seconds:.0f} frames/s")
    print(f"peak resident memory: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
