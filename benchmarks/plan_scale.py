"""Planning at the real size: `snakemake -n all` with a synthetic Hume-Vidmimic2 root of 17,246 clips.

    python benchmarks/plan_scale.py [--shards 8] [--keep DIR]

Writes, in a temporary folder, a root in the real layout: train_split.csv
(8,072 rows) and valid_split.csv (4,588 rows) with the file id and the six
labels, and raw/<id>.mp4 for all 17,246 ids (empty stub files: planning reads
no video); the 4,586 ids in no split are the test set. Its config.yaml points
datasets.hume_vidmimic2.root there with `allow_substitutes: true` and random
extractor weights (no checkpoint can be reached; the weights check passes as
for an exploratory run), and `preprocess.shards` as given; VA and ECAN stay on
their demos. It times `snakemake -n all` there (wall time and peak RSS, with
/usr/bin/time), prints the EMI jobs per rule, and checks that the per-sample
stages are one job per shard, not one per clip.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
SPLITS = {"train": 8_072, "valid": 4_588}
TEST = 4_586
LABELS = ["Admiration", "Amusement", "Determination", "Empathic Pain", "Excitement", "Joy"]


def write_root(root: Path) -> None:
    rng = np.random.default_rng(0)
    ids = iter(range(1, sum(SPLITS.values()) + TEST + 1))
    for split, n in SPLITS.items():
        rows = [f"{next(ids)}," + ",".join(f"{v:.4f}" for v in rng.uniform(0, 1, 6)) for _ in range(n)]
        (root / f"{split}_split.csv").write_text("Filename," + ",".join(LABELS) + "\n" + "\n".join(rows) + "\n")
    (root / "raw").mkdir()
    for file_id in range(1, sum(SPLITS.values()) + TEST + 1):
        (root / "raw" / f"{file_id}.mp4").touch()


def write_config(workdir: Path, root: Path, shards: int) -> Path:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"]["hume_vidmimic2"]["root"] = str(root)
    config["allow_substitutes"] = True
    for extractor in ("resnet18", "dino", "wav2vec2"):
        config["extractors"][extractor]["weights"] = "random"
    config["preprocess"]["shards"] = shards
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def plan(workdir: Path, config: Path) -> tuple[float, float, dict[str, int]]:
    """(wall seconds, peak RSS in MB, jobs per rule) of `snakemake -n all` in workdir."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    report = workdir / "time.txt"
    cmd = [
        "/usr/bin/time",
        "-f",
        "%e %M",
        "-o",
        str(report),
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
    ]
    proc = subprocess.run(
        cmd + ["--configfile", str(config), "--cores", "8", "-n", "-q", "rules", "all"],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    wall, peak_kb = report.read_text().split()[-2:]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", proc.stdout, re.M)}
    return float(wall), int(peak_kb) / 1024, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=8, help="preprocess.shards (config.yaml: 8)")
    parser.add_argument(
        "--keep", type=Path, help="write the root and workdir here and keep them (default: a temporary folder)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        root, workdir = base / "Hume-Vidmimic2", base / "run"
        root.mkdir(parents=True)
        workdir.mkdir()
        write_root(root)
        wall, peak, counts = plan(workdir, write_config(workdir, root, args.shards))
    emi = {rule: n for rule, n in counts.items() if rule.startswith("emi_")}
    print(
        f"snakemake -n all, Hume-Vidmimic2 of {sum(SPLITS.values()) + TEST:,} clips, preprocess.shards "
        f"{args.shards}: {wall:.1f} s, peak RSS {peak:.0f} MB"
    )
    print(f"all jobs: {counts.get('total')}; EMI jobs per rule: {emi}")
    per_sample = {"emi_prepare": 2 * args.shards, "emi_features": 4 * args.shards}
    for rule, expected in per_sample.items():
        assert emi.get(rule) == expected, (
            f"{rule}: {emi.get(rule)} jobs, expected one per shard and stage/extractor ({expected})"
        )
    print("per-sample stages: one job per shard (" + ", ".join(f"{rule} {n}" for rule, n in per_sample.items()) + ")")


if __name__ == "__main__":
    main()
