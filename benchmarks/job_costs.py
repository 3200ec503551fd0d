"""Wall time and peak RSS of the per-sample jobs, at the demo's settings and at the papers' model sizes.

    python benchmarks/job_costs.py WORKDIR [--only emi.features:dino ...] [--write]

WORKDIR is a directory where the demo workflow has run (`snakemake --cores 2 all`
there, or in a scratch clone). Each job module runs on shard 0 of its stage, as
the workflow runs it (`python -m affrepro.<module> --config ... --threads 1 ...`),
under `/usr/bin/time` (wall and CPU seconds, peak RSS), writing into a temporary folder: once with the demo's
settings and once with the papers' model sizes and fp32 (random weights: no hub
is reached; the cost of a network does not depend on its weights). It prints one
line per job: wall and CPU seconds, peak RSS (MB), the shard's frames (EMI: 30 fps
frames; VA: annotated frames), and CPU seconds per frame. With --write it also
puts the figures into src/affrepro/job_costs.json's `per_frame` section (the jobs
it measured; the others keep theirs), stamped with the command, commit, date,
CPU and load; affrepro.resources sizes the jobs' scheduler requests from them.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from stamp import stamp

COSTS_FILE = Path(__file__).resolve().parents[1] / "src" / "affrepro" / "job_costs.json"

# The papers' model sizes, set over the demo overrides (the demo's data, the papers' networks).
PAPER_SIZES = {
    "compute": {"precision": "fp32"},
    "preprocess": {"mtcnn": {"min_face_size": 20}},
    "extractors": {
        "dino": {"image_size": 224},
        # audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim: wav2vec2-large pruned to 12 layers
        "wav2vec2": {
            "random_arch": {
                "hidden_size": 1024,
                "num_hidden_layers": 12,
                "num_attention_heads": 16,
                "intermediate_size": 4096,
            }
        },
        "iresnet50": {"input_size": 112},
    },
}


def jobs(workdir: Path, out: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (job arguments after --config/--threads, what the unit is), each on shard 0."""
    emi, va = workdir / "work" / "emi", workdir / "work" / "va"
    root = workdir / "work" / "data" / "hume_vidmimic2"
    found = {
        f"emi.prepare:{stage}": (
            [
                "affrepro.emi.prepare",
                "--stage",
                stage,
                "--root",
                str(root),
                "--shard",
                "0",
                "--shards",
                "4",
                "--manifest",
                str(out / f"{stage}.json"),
            ],
            "frames",
        )
        for stage in ("faces", "audio")
    }
    for extractor in ("resnet18", "au", "dino", "wav2vec2"):
        stage = "audio" if extractor == "wav2vec2" else "faces"
        found[f"emi.features:{extractor}"] = (
            [
                "affrepro.emi.features",
                "--extractor",
                extractor,
                "--inputs",
                str(emi / stage / "shard0.json"),
                "--manifest",
                str(out / f"{extractor}.json"),
            ],
            "frames",
        )
    found["va.prepare"] = (
        [
            "affrepro.va.prepare",
            "--root",
            str(workdir / "work" / "data" / "affwild2"),
            "--shard",
            "0",
            "--shards",
            "2",
            "--out-dir",
            str(out / "va"),
            "--manifest",
            str(out / "va.json"),
        ],
        "va frames",
    )
    for extractor in ("iresnet50", "vggish", "mfcc"):
        found[f"va.features:{extractor}"] = (
            [
                "affrepro.va.features",
                "--extractor",
                extractor,
                "--prepared",
                str(va / "prepare" / "shard0.json"),
                "--out-dir",
                str(out / extractor),
                "--manifest",
                str(out / f"{extractor}-va.json"),
            ],
            "va frames",
        )
    return found


def units(workdir: Path, kind: str) -> int:
    """Frames in shard 0: EMI's 30 fps frames (faces manifest), or VA's annotated frames (prepare manifest)."""
    if kind == "frames":
        samples = json.loads((workdir / "work" / "emi" / "faces" / "shard0.json").read_text())["samples"]
        return sum(s["n_frames"] for s in samples.values())
    trials = json.loads((workdir / "work" / "va" / "prepare" / "shard0.json").read_text())["trials"]
    return sum(t["length"] for t in trials.values())


def timed(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one job, from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", report.name, *command], cwd=cwd, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr[-3000:]}")
        wall, user, system, peak_kb = report.read().split()[-4:]
    return float(wall), float(user) + float(system), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="a directory where the demo workflow has run")
    parser.add_argument("--only", nargs="*", help="job names (default: all), e.g. emi.features:dino")
    parser.add_argument("--write", action="store_true", help=f"record the figures in {COSTS_FILE.name}")
    args = parser.parse_args()
    load_before = os.getloadavg()
    measured = {}
    workdir = args.workdir.resolve()
    resolved = sorted((workdir / "work" / "config").glob("config-*.yaml"), key=lambda p: p.stat().st_mtime)[-1]
    demo = yaml.safe_load(resolved.read_text())
    paper = copy.deepcopy(demo)
    for section, values in PAPER_SIZES.items():
        for key, value in values.items():
            target = paper["demo"]["overrides"].setdefault(section, {})
            target[key] = {**target.get(key, {}), **value} if isinstance(value, dict) else value
    with tempfile.TemporaryDirectory() as tmp:
        configs = {}
        for name, config in (("demo", demo), ("paper", paper)):
            configs[name] = Path(tmp) / f"{name}.yaml"
            configs[name].write_text(yaml.safe_dump(config))
        print(f"{'job':24} {'sizes':6} {'wall s':>7} {'CPU s':>7} {'peak MB':>8} {'units':>7} {'unit':10} CPU s/unit")
        for name, (arguments, kind) in jobs(workdir, Path(tmp) / "out").items():
            if args.only and name not in args.only:
                continue
            n = units(workdir, kind)
            for sizes, config in configs.items():
                out = Path(tmp) / "out"
                subprocess.run(["rm", "-rf", str(out)], check=True)
                out.mkdir()
                wall, cpu, peak = timed(
                    [sys.executable, "-m", arguments[0], "--config", str(config), "--threads", "1", *arguments[1:]],
                    workdir,
                )
                print(
                    f"{name:24} {sizes:6} {wall:7.1f} {cpu:7.1f} {peak:8.0f} {n:7d} {kind:10} {cpu / n:.5f}", flush=True
                )
                measured.setdefault(name, {})[sizes] = {"peak_mb": round(peak), "cpu_s_per_frame": round(cpu / n, 4)}
    if args.write:
        write(measured, load_before)


def write(measured: dict, load_before: tuple[float, float, float]) -> None:
    costs = json.loads(COSTS_FILE.read_text())
    section = costs["per_frame"]
    for job, by_sizes in measured.items():
        section["jobs"].setdefault(job, {}).update(by_sizes)
    section["measured"] = stamp(load_before) | {"jobs": sorted(measured), "note": section["measured"].get("note", "")}
    COSTS_FILE.write_text(json.dumps(costs, indent=2) + "\n")
    print(f"wrote {len(measured)} jobs' figures into {COSTS_FILE}")


if __name__ == "__main__":
    main()
