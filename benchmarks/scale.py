"""Memory and time of one training job at a fraction of the real dataset size, printed (not asserted).

    python benchmarks/scale.py emi --fraction 0.05      # one EMI branch job (Wav2Vec2-sized, 1024-dim)
    python benchmarks/scale.py va --fraction 0.05       # one VA fold job (IResNet-50 + VGGish + MFCC, 679 dims)
    python benchmarks/scale.py all --fractions 0.05 0.25 1

Synthesises features in the layout the training jobs read (the packed store of
`affrepro.store`, written directly, no videos), then runs one epoch of the job
in a fresh process through the workflow's own code (`affrepro.emi.train.run`,
`affrepro.va.train.train_fold`) with the repository's config.yaml (epochs 1,
one seed) and prints its peak resident memory, its wall time (the epoch with
the standardiser's passes and the predictions), its CPU time (which a busy
machine disturbs less) and the bytes on disk. Real size: Hume-Vidmimic2 17,246 clips (train 8,072 / valid 4,588 /
test 4,586) of 150-270 frames (mean 210); Aff-Wild2 VA about 2 M annotated
frames in trials of 1,000-5,800 frames. At 1x the EMI store takes about 15 GB
and the VA stores about 5.4 GB of disk (in --workdir, deleted afterwards
unless --keep).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
EMI_SPLITS = {"train": 8072, "valid": 4588, "test": 4586}
EMI_FRAMES = (150, 270)
EMI_DIM = 1024
VA_FRAMES = 2_000_000
VA_TRIAL_FRAMES = (1000, 5800)
VA_DIMS = {"iresnet50": 512, "vggish": 128, "mfcc": 39}
VA_MIN_TRIALS = 6  # one per cross-validation fold


def paper_config(paper: str, dataset: str, root: Path) -> dict:
    """config.yaml as a real-data run of `paper` sees it (no demo overrides), with the synthetic root."""
    from affrepro.config.resolve import effective_config

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"][dataset]["root"] = str(root)
    return copy.deepcopy(effective_config(config, paper))


def synth_emi(workdir: Path, fraction: float, dim: int) -> dict:
    """A packed EMI store (one extractor, three splits) and the splits' labels."""
    from affrepro.store import write_rows

    rng = np.random.default_rng(0)
    splits = {}
    for split, real in EMI_SPLITS.items():
        n = max(4, round(real * fraction))
        keys = [f"{split}{i}" for i in range(n)]
        lengths = rng.integers(EMI_FRAMES[0], EMI_FRAMES[1] + 1, n).tolist()
        rows = ((k, rng.standard_normal((t, dim), dtype=np.float32), np.arange(t)) for k, t in zip(keys, lengths))
        write_rows(workdir / "store", split, rows, lengths, dim)
        splits[split] = {"keys": keys, "frames": int(sum(lengths))}
        if split != "test":
            np.save(workdir / f"{split}.labels.npy", rng.uniform(0, 1, (n, 6)))
    manifest = {
        "directory": str(workdir / "store"),
        "extractor": "wav2vec2",
        "dim": dim,
        "splits": {s: {"samples": len(v["keys"])} for s, v in splits.items()},
    }
    (workdir / "store.json").write_text(json.dumps(manifest))
    return {
        "samples": sum(len(v["keys"]) for v in splits.values()),
        "frames": sum(v["frames"] for v in splits.values()),
    }


def run_emi(workdir: Path, threads: int) -> None:
    from affrepro import compute
    from affrepro.emi import train
    from affrepro.emi.settings import Train
    from affrepro.store import open_store

    config = paper_config("emi", "hume_vidmimic2", workdir)
    config["emi"]["seeds"], config["emi"]["train"]["epochs"] = [0], 1
    config["emi"]["feature_sets"] = {"scale": {"modality": "A", "extractors": ["wav2vec2"]}}
    config["compute"] |= {"threads": threads, "device": "cpu"}
    compute.setup(config["compute"])
    store = open_store(workdir / "store.json")
    splits = {s: (store[s].keys, np.load(workdir / f"{s}.labels.npy") if s != "test" else None) for s in store}
    train.run(
        Train.from_config(config, feature_set="scale"),
        splits,
        {"wav2vec2": store},
        {"metrics": workdir / "run" / "metrics.json", "predictions": workdir / "run" / "predictions.csv"},
    )


def synth_va(workdir: Path, fraction: float) -> dict:
    """One packed store per VA extractor (split "trials") and each trial's labels file, as the prepare job writes them (without the frames)."""
    from affrepro.files import write_npz
    from affrepro.store import write_rows

    rng = np.random.default_rng(0)
    lengths, target = [], VA_FRAMES * fraction
    while sum(lengths) < target or len(lengths) < VA_MIN_TRIALS:
        lengths.append(int(rng.integers(VA_TRIAL_FRAMES[0], VA_TRIAL_FRAMES[1] + 1)))
    names = [f"trial{i:04d}" for i in range(len(lengths))]
    for name, length in zip(names, lengths):
        labels = np.tanh(np.cumsum(rng.normal(0, 0.05, (length, 2)), axis=0))
        write_npz(workdir / "trials" / f"{name}.npz", rows=np.arange(length), labels=labels.astype(np.float32))
    for extractor, dim in VA_DIMS.items():
        rows = ((n, rng.standard_normal((t, dim), dtype=np.float32), np.arange(t)) for n, t in zip(names, lengths))
        write_rows(workdir / extractor, "trials", rows, lengths, dim)
        manifest = {
            "directory": str(workdir / extractor),
            "extractor": extractor,
            "dim": dim,
            "splits": {"trials": {"samples": len(names)}},
        }
        (workdir / f"{extractor}.json").write_text(json.dumps(manifest))
    return {"samples": len(names), "frames": int(sum(lengths))}


def run_va(workdir: Path, threads: int) -> None:
    from affrepro import compute
    from affrepro.store import open_store
    from affrepro.va import train
    from affrepro.va.settings import Train

    config = paper_config("va", "affwild2", workdir)
    config["va"]["train"]["epochs"] = 1
    config["compute"] |= {"threads": threads, "device": "cpu"}
    compute.setup(config["compute"])
    stores = {e: open_store(workdir / f"{e}.json")["trials"] for e in VA_DIMS}
    names = stores["iresnet50"].keys
    assignment = {name: i % config["va"]["cv"]["folds"] for i, name in enumerate(names)}
    label_files = {name: workdir / "trials" / f"{name}.npz" for name in names}
    metrics, _ = train.train_fold(Train.from_config(config), 0, assignment, label_files, stores, "paper")
    print(json.dumps({"training_windows": metrics["frames"]["training_windows"]}))


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(paper: str, fraction: float, workdir: Path, threads: int) -> dict:
    started = time.perf_counter()
    size = synth_emi(workdir, fraction, EMI_DIM) if paper == "emi" else synth_va(workdir, fraction)
    synth_s = time.perf_counter() - started
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, f"run-{paper}", "--workdir", str(workdir), "--threads", str(threads)]
    )
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the {paper} job failed at fraction {fraction}")
    return {
        "paper": paper,
        "fraction": fraction,
        **size,
        "disk_gb": disk_bytes(workdir) / 1e9,
        "synth_s": synth_s,
        "epoch_s": time.perf_counter() - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_gb": usage.ru_maxrss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["emi", "va", "all", "run-emi", "run-va"])
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--fractions", type=float, nargs="+", help="with `all`: each fraction for both papers")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="where the synthetic stores go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic stores")
    args = parser.parse_args()
    if args.what.startswith("run-"):
        (run_emi if args.what == "run-emi" else run_va)(args.workdir, args.threads)
        return
    papers = ["emi", "va"] if args.what == "all" else [args.what]
    print(
        f"{'paper':5} {'fraction':>8} {'samples':>8} {'frames':>10} {'disk GB':>8} {'synth s':>8} {'epoch s':>8} {'CPU s':>8} {'peak RSS GB':>11}",
        flush=True,
    )
    for fraction in args.fractions or [args.fraction]:
        for paper in papers:
            workdir = Path(tempfile.mkdtemp(prefix=f"scale-{paper}-", dir=args.workdir))
            try:
                r = measure(paper, fraction, workdir, args.threads)
            finally:
                if not args.keep:
                    shutil.rmtree(workdir, ignore_errors=True)
            print(
                f"{r['paper']:5} {r['fraction']:8.2f} {r['samples']:8d} {r['frames']:10d} {r['disk_gb']:8.2f} "
                f"{r['synth_s']:8.1f} {r['epoch_s']:8.1f} {r['cpu_s']:8.1f} {r['peak_rss_gb']:11.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
