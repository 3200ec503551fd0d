"""benchmarks/scale.py at a tiny size: its synthetic store is what the training job reads, and one EMI epoch runs through it."""

import subprocess
import sys

import numpy as np
from helpers import REPO

from affrepro.store import open_store

sys.path.insert(0, str(REPO / "benchmarks"))
import scale  # noqa: E402


def test_synthetic_emi_store_has_the_real_split_proportions(tmp_path):
    size = scale.synth_emi(tmp_path, 0.001, 8)
    store = open_store(tmp_path / "store.json")
    assert {split: len(store[split]) for split in store} == {
        "train": 8,
        "valid": 5,
        "test": 5,
    }  # 8,072 / 4,588 / 4,586 x 0.001
    lengths = [store[split].length(key) for split in store for key in store[split].keys]
    assert size == {"samples": 18, "frames": sum(lengths)} and min(lengths) >= 150 and max(lengths) <= 270
    assert np.array_equal(store["valid"].frames("valid2"), np.arange(store["valid"].length("valid2")))


def test_benchmark_runs_one_emi_epoch_and_prints_its_figures():
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scale.py"), "emi", "--fraction", "0.001"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    header, row = out.stdout.strip().splitlines()[-2:]
    assert header.split()[:4] == ["paper", "fraction", "samples", "frames"]
    fields = row.split()
    assert fields[:3] == ["emi", "0.00", "18"] and 0.1 < float(fields[-1]) < 3.0  # peak RSS (GB) of the job process
