"""Throughput and peak memory of the per-frame stages, printed (not asserted).

    python benchmarks/extractors.py [--video work/data/hume_vidmimic2/raw/10001.mp4] [--threads 2]
        [--precision fp32 bf16] [--record]

Measures MTCNN detection + alignment (ms/frame) on a video, and ResNet-18,
IResNet-50 and DINO ViT-S/16 feature extraction (frames/s) on 112x112 crops with
`compute.precision` fp32 and bf16 (the extractors' own `extract`: uint8 crops
normalised in one pass to the forward dtype, channels_last, one autocast region).
Beside ResNet-18's figures, the bare forward pass on already-normalised bf16
channels_last input in the same process: what `extract` can at best reach.
Each line gives frames per wall second and per CPU second (the process's CPU
time: on a shared machine wall time stretches, CPU time shows the work).
`--precision fp32` measures fp32 only (on a CPU without AVX512-BF16/AMX bf16
runs ~20x slower; the bare bf16 forward pass is then left out). `--record`
writes the figures, stamped, to benchmarks/records/extractors.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from affrepro import compute
from affrepro.features import dino, iresnet, resnet
from affrepro.features.weights import parse_weights
from affrepro.preprocess.faces import detect_faces, make_detector

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stamp import write_record  # noqa: E402

CPU = torch.device("cpu")
ROWS: list[list] = []  # [label, frames, frames/s, frames per CPU second] of each line `rate` prints


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeats: int = 3) -> tuple[float, float]:
    """(wall, CPU) seconds per call, after a warm-up call."""
    fn()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats, (time.process_time() - cpu) / repeats


def rate(label: str, frames: int, seconds: tuple[float, float]) -> None:
    wall, cpu = seconds
    ROWS.append([label, frames, round(frames / wall), round(frames / cpu)])
    print(f"{label}: {frames / wall:.0f} frames/s ({frames / cpu:.0f} frames per CPU second)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=Path("work/data/hume_vidmimic2/raw/10001.mp4"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64, help="extractors.resnet18/iresnet50.batch_size")
    parser.add_argument("--min-face-size", type=int, default=20)
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument(
        "--record", action="store_true", help="write the figures, stamped, to benchmarks/records/extractors.json"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    mtcnn = []
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")

    if args.video.is_file():
        detector = make_detector({"min_face_size": args.min_face_size, "thresholds": [0.6, 0.7, 0.7], "factor": 0.709})
        start = time.perf_counter()
        track = detect_faces(args.video, detector)
        elapsed = time.perf_counter() - start
        mtcnn = [[str(args.video), track.n_frames, round(1000 * elapsed / max(track.n_frames, 1), 1)]]
        print(
            f"MTCNN + alignment: {1000 * elapsed / max(track.n_frames, 1):.1f} ms/frame over {track.n_frames} "
            f"frames of {args.video} (min_face_size {args.min_face_size})"
        )
    else:
        print(f"skipping MTCNN: {args.video} not found (run `snakemake --cores 2 work/emi/faces/shard0.json` first)")

    crops = np.random.default_rng(0).integers(0, 255, (args.frames, 112, 112, 3), dtype=np.uint8)
    model = resnet.build(parse_weights("random", "resnet18"))
    for precision in args.precision:
        rate(
            f"ResNet-18 112x112 extract {precision}, batch {args.batch_size}",
            args.frames,
            timed(lambda precision=precision: resnet.extract(model, crops, CPU, precision, args.batch_size)),
        )
    if "bf16" in args.precision:
        ready = compute.normalised_nchw(crops, resnet.MEAN, resnet.STD, torch.bfloat16)
        bare = model.to(memory_format=torch.channels_last)

        def forward_only():
            with torch.inference_mode(), compute.autocast(CPU, "bf16"):
                for i in range(0, len(ready), args.batch_size):
                    bare(ready[i : i + args.batch_size])

        rate(
            f"ResNet-18 112x112 bare forward bf16 (reference), batch {args.batch_size}",
            args.frames,
            timed(forward_only),
        )

    ir50 = iresnet.build(parse_weights("random", "iresnet50"), input_size=112)
    for precision in args.precision:
        rate(
            f"IResNet-50 112x112 extract {precision}, batch {args.batch_size}",
            args.frames,
            timed(
                lambda precision=precision: iresnet.extract(ir50, crops, CPU, precision, args.batch_size, 112),
                repeats=1,
            ),
        )

    vit, _ = dino.build(parse_weights("random", "dino"))
    for size in (224, 112):
        for precision in args.precision:
            n = args.frames // 4
            rate(
                f"DINO ViT-S/16 at {size}px {precision}, batch 32",
                n,
                timed(
                    lambda n=n, precision=precision, size=size: dino.extract(
                        vit, crops[:n], CPU, precision, batch_size=32, image_size=size
                    ),
                    repeats=1,
                ),
            )
    print(f"peak resident memory: {peak_rss_mb():.0f} MB")
    if args.record:
        figures = {
            "feature extraction": {"columns": ["extractor", "frames", "frames/s", "frames per CPU s"], "rows": ROWS},
            "peak resident memory": {"columns": ["process", "MB"], "rows": [["this benchmark", round(peak_rss_mb())]]},
        }
        if mtcnn:
            figures["MTCNN + alignment"] = {"columns": ["video", "frames", "ms/frame"], "rows": mtcnn}
        write_record("extractors", figures, load_before, settings={"torch threads": args.threads})


if __name__ == "__main__":
    main()
