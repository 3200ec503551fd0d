"""Baseline (ResNet-18 + CE) vs ECAN on the real FER2013, with a budget that fits a CPU.

Not a test: a reduced-budget sanity check that the ECAN code trains on real
data. Prints PublicTest accuracy, mean class accuracy and macro-F1 for both,
and the budget used (Training subset, epochs, threads, precision).

    python benchmarks/ecan_fer2013.py /path/to/fer2013.csv.gz [--train 3500 --epochs 5 --augment weak ...]
    python benchmarks/ecan_fer2013.py work/demo/fer2013.csv.gz --demo --train 500 --val 150 --record

`--demo` first writes the demo FER2013 (the config's `demo.fer2013`: 500 Training images) to the path;
`--record` writes the figures, stamped, to benchmarks/records/ecan_fer2013.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from affrepro.data import fer2013
from affrepro.ecan import train as ecan_train
from affrepro.ecan.prepare import stratified_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stamp import write_record  # noqa: E402


def stratified_subset(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n indices drawn per class in proportion to the class counts (seeded), sorted."""
    fraction = n / len(labels)
    _, chosen = stratified_split(labels, fraction, seed)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="fer2013.csv or fer2013.csv.gz")
    parser.add_argument(
        "--config", default=None, help="config.yaml to read the ecan block from (default: the repository's)"
    )
    parser.add_argument("--train", type=int, default=3500, help="class-stratified subset of Training")
    parser.add_argument(
        "--val", type=int, default=700, help="class-stratified subset of PrivateTest used for model selection"
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.025)
    parser.add_argument(
        "--augment",
        default="weak",
        help="weak by default: with strong, neither model got past majority-class prediction in this budget",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", default="bf16", choices=["fp32", "bf16"])
    parser.add_argument("--key-momentum", type=float, default=0.99)
    parser.add_argument("--demo", action="store_true", help="first write the demo FER2013 (demo.fer2013) to path")
    parser.add_argument(
        "--record", action="store_true", help="write the figures, stamped, to benchmarks/records/ecan_fer2013.json"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()

    config_path = Path(args.config) if args.config else Path(__file__).resolve().parents[1] / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    torch.set_num_threads(args.threads)
    if args.demo:
        from affrepro.demo.expressions import write_fer2013

        Path(args.path).parent.mkdir(parents=True, exist_ok=True)
        write_fer2013(args.path, config["demo"]["fer2013"])
    started = time.perf_counter()
    data = fer2013.load(args.path)
    load_s = time.perf_counter() - started
    train_idx = stratified_subset(data["Training"]["labels"], args.train, seed=0)
    val_idx = stratified_subset(data["PrivateTest"]["labels"], args.val, seed=0)
    train = (data["Training"]["images"][train_idx], data["Training"]["labels"][train_idx])
    val = (data["PrivateTest"]["images"][val_idx], data["PrivateTest"]["labels"][val_idx])
    test = (data["PublicTest"]["images"], data["PublicTest"]["labels"])
    print(
        f"FER2013 {args.path}: loaded in {load_s:.1f}s; Training subset {len(train_idx)} of {len(data['Training']['labels'])} "
        f"(class-stratified), val = PrivateTest subset {len(val_idx)}, test = full PublicTest {len(test[1])}"
    )
    print(
        f"budget: {args.epochs} epochs, batch {args.batch_size}, lr {args.lr} (cosine), augment {args.augment}, input 48, "
        f"random init, {args.threads} thread(s), {args.precision}, key momentum {args.key_momentum}; paper: 28,709 "
        "images, 200 epochs, batch 256, lr 0.1"
    )
    results = {}
    rows = []
    for losses in ("ce", "ensc+mva"):
        t0, cpu0 = time.perf_counter(), time.process_time()
        settings = dataclasses.replace(
            ecan_train.Settings.from_config(config, {"dataset": "fer2013", "augment": args.augment, "losses": losses}),
            key_momentum=args.key_momentum,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            input_size=48,
            weights="random",
            seed=0,
            compute={"device": "cpu", "precision": args.precision, "threads": args.threads},
            eval_batch_size=256,
            progress=True,
        )
        result = ecan_train.run(settings, train, val, test)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        budget = result["budget"]
        samples = (
            budget["steps"] + budget["init_steps"]
        ) * settings.batch_size  # training samples (each seen in views_per_sample views)
        name = "baseline (ResNet-18 + CE)" if losses == "ce" else "ECAN (CE + ENSC + MVA)"
        test_scores = result["test"]
        print(
            f"{name}: PublicTest accuracy {100 * test_scores['accuracy']:.2f}%, mean class accuracy "
            f"{100 * test_scores['mean_class_accuracy']:.2f}%, macro-F1 {100 * test_scores['macro_f1']:.2f}% "
            f"(best epoch {result['best_epoch']}, val acc {100 * result['val']['accuracy']:.2f}%, {wall:.0f}s)",
            flush=True,
        )
        print(
            f"  throughput (whole run incl. evaluation): {samples / wall:.0f} images/s, {samples / cpu:.0f} images per CPU second "
            f"({samples} training images x {budget['views_per_sample']} view(s), {wall:.0f}s wall, {cpu:.0f}s CPU)",
            flush=True,
        )
        results[losses] = result
        row = [name, round(100 * test_scores["accuracy"], 2), round(100 * test_scores["mean_class_accuracy"], 2)]
        row += [round(100 * test_scores["macro_f1"], 2), result["best_epoch"], round(samples / wall)]
        rows.append(row + [round(samples / cpu), samples, round(wall), round(cpu)])
    print(
        "confusion matrices (rows true Angry..Neutral):",
        json.dumps({k: v["test_confusion_matrix"] for k, v in results.items()}),
    )
    print(f"total {time.perf_counter() - started:.0f}s")
    if args.record:
        columns = ["model", "PublicTest accuracy %", "mean class accuracy %", "macro-F1 %", "best epoch", "images/s"]
        columns += ["images per CPU s", "training images", "wall s", "CPU s"]
        budget = {
            "columns": ["Training subset", "val subset", "PublicTest", "epochs", "batch", "threads", "precision"],
            "rows": [
                [len(train_idx), len(val_idx), len(test[1]), args.epochs, args.batch_size, args.threads, args.precision]
            ],
        }
        write_record(
            "ecan_fer2013",
            {"budget": budget, "PublicTest scores and throughput": {"columns": columns, "rows": rows}},
            load_before,
        )


if __name__ == "__main__":
    main()
