"""Do the demo's features depend on the processor? Printed, not asserted.

    python benchmarks/precision_isa.py

Extracts random-init ResNet-18 features (the demo's extractor) of 64 fixed
112x112 images in fp32 and in bf16, once per instruction set oneDNN may use
(ONEDNN_MAX_CPU_ISA emulates a processor without AMX or AVX512-BF16 on this
one), and prints how far each is from the machine's default. Measured on a
Xeon with AMX: fp32 identical at every level; bf16 identical with AMX and
AVX512_CORE_BF16 but 0.6 % off (max relative) with AVX512_CORE or AVX2, the
size of the bf16-vs-fp32 gap itself. Training amplifies such differences, so
demo tables computed from bf16 features agree across machines only within
tolerance (`make verify`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

LEVELS = ["DEFAULT", "AVX512_CORE_AMX", "AVX512_CORE_BF16", "AVX512_CORE", "AVX2"]

EXTRACT = """
import sys, numpy as np, torch
from affrepro.features import resnet
from affrepro.features.weights import parse_weights
torch.set_num_threads(1)
faces = (np.random.default_rng(0).random((64, 112, 112, 3)) * 255).astype(np.uint8)
model = resnet.build(parse_weights("random", "resnet18"))
np.savez(sys.argv[1], **{p: resnet.extract(model, faces, torch.device("cpu"), p, 32) for p in ("fp32", "bf16")})
"""


def extract(level: str, out: Path) -> dict[str, np.ndarray]:
    env = dict(os.environ)
    if level != "DEFAULT":
        env["ONEDNN_MAX_CPU_ISA"] = level
    subprocess.run([sys.executable, "-c", EXTRACT, str(out)], check=True, env=env)
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        features = {level: extract(level, Path(tmp) / f"{level}.npz") for level in LEVELS}
    reference = features["DEFAULT"]
    for precision in ("fp32", "bf16"):
        for level in LEVELS[1:]:
            a, b = reference[precision], features[level][precision]
            gap = (
                "identical"
                if np.array_equal(a, b)
                else f"max relative difference {np.abs(a - b).max() / np.abs(a).max():.2e}"
            )
            print(f"{precision} {level:>18}: {gap}")
    fp32, bf16 = reference["fp32"], reference["bf16"]
    print(f"bf16 vs fp32 (default ISA): max relative difference {np.abs(fp32 - bf16).max() / np.abs(fp32).max():.2e}")


if __name__ == "__main__":
    main()
