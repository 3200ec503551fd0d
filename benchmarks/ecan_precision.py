"""ECAN demo accuracies in fp32 and bf16 over seeds: is bf16 within seed noise of fp32?

    python benchmarks/ecan_precision.py [--seeds 0 1 2] [--datasets fer2013 rafdb] [--losses ensc+mva] [--threads 1]
        [--precisions fp32 bf16] [--record]

Writes the demo FER2013 and RAF-DB (src/affrepro/demo, the config's `demo:`
settings) to a temporary folder, then trains the demo configuration (the
config with its `demo.overrides` merged, as the workflow runs it) once per
seed and precision with the default run spec (strong augmentation, Eq. 11 with
the paper's λ1, λ2, V). Prints each run's test accuracy (RAF-DB test, FER2013
PublicTest; epoch selected on validation), then mean ± sample std over seeds
per dataset and precision, and the training throughput. Not a test: printed,
not asserted. `--precisions fp32` runs fp32 alone (on a CPU without AVX512-BF16
or AMX bf16 runs ~20x slower); `--record` writes the figures, stamped, to
benchmarks/records/ecan_precision.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from affrepro.config.resolve import effective_config
from affrepro.demo import expressions
from affrepro.ecan import prepare
from affrepro.ecan import train as ecan_train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stamp import write_record  # noqa: E402

LOCATIONS = {"fer2013": "fer2013.csv.gz", "rafdb": "rafdb"}


def write_demo(config: dict, root: Path) -> None:
    expressions.write_fer2013(root / LOCATIONS["fer2013"], config["demo"]["fer2013"])
    expressions.write_rafdb(root / LOCATIONS["rafdb"], config["demo"]["rafdb"])


def mean_std(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{100 * statistics.fmean(values):.2f} ± {100 * std:.2f}"


def mean_std_row(values: list[float]) -> list:
    """[mean, sample std] in % (std None for one seed), rounded as printed."""
    std = round(100 * statistics.stdev(values), 2) if len(values) > 1 else None
    return [round(100 * statistics.fmean(values), 2), std]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "config.yaml"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=["fer2013", "rafdb"], choices=list(LOCATIONS))
    parser.add_argument("--losses", default="ensc+mva")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument(
        "--record", action="store_true", help="write the figures, stamped, to benchmarks/records/ecan_precision.json"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs = []

    config = effective_config(yaml.safe_load(Path(args.config).read_text()), "ecan")
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_demo(config, Path(tmp))
        for dataset in args.datasets:
            location = Path(tmp) / LOCATIONS[dataset]
            splits = prepare.load_splits(dataset, location, config["ecan"], "fail")
            print(
                f"{dataset}: train {len(splits[0][1])}, val {len(splits[1][1])}, test {len(splits[2][1])} (demo)",
                flush=True,
            )
            for precision in args.precisions:
                for seed in args.seeds:
                    settings = ecan_train.Settings.from_config(
                        config, {"dataset": dataset, "losses": args.losses, "seed": seed}
                    )
                    settings = dataclasses.replace(
                        settings,
                        compute=config["compute"] | {"device": "cpu", "precision": precision, "threads": args.threads},
                    )
                    wall, cpu = time.perf_counter(), time.process_time()
                    result = ecan_train.run(settings, *splits)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    budget = result["budget"]
                    samples = (budget["steps"] + budget["init_steps"]) * settings.batch_size
                    results.setdefault((dataset, precision), []).append(result["test"]["accuracy"])
                    run = [dataset, precision, seed, round(100 * result["test"]["accuracy"], 2)]
                    run += [round(100 * result["val"]["accuracy"], 2), result["best_epoch"], settings.epochs]
                    runs.append(run + [round(wall, 1), round(cpu, 1), round(samples / wall), round(samples / cpu)])
                    print(
                        f"  {dataset} {precision} seed {seed}: test accuracy {100 * result['test']['accuracy']:.2f}% "
                        f"(val {100 * result['val']['accuracy']:.2f}%, best epoch {result['best_epoch']}/{settings.epochs}); "
                        f"{wall:.1f}s wall, {cpu:.1f}s CPU, {samples / wall:.0f} samples/s, {samples / cpu:.0f} samples/CPU-s",
                        flush=True,
                    )
    print(f"\ntest accuracy (%), mean ± std over seeds {args.seeds}, losses {args.losses}, {args.threads} thread(s):")
    summary = []
    for dataset in args.datasets:
        summary += [[dataset, p, len(args.seeds), *mean_std_row(results[(dataset, p)])] for p in args.precisions]
        if set(args.precisions) != {"fp32", "bf16"}:
            print(f"  {dataset:8s} " + "   ".join(f"{p} {mean_std(results[(dataset, p)])}" for p in args.precisions))
            continue
        fp32, bf16 = results[(dataset, "fp32")], results[(dataset, "bf16")]
        print(
            f"  {dataset:8s} fp32 {mean_std(fp32)}   bf16 {mean_std(bf16)}   (bf16 - fp32: "
            f"{100 * (statistics.fmean(bf16) - statistics.fmean(fp32)):+.2f})"
        )
    if args.record:
        columns = ["dataset", "precision", "seed", "test accuracy %", "val accuracy %", "best epoch", "epochs"]
        columns += ["wall s", "CPU s", "samples/s", "samples per CPU s"]
        figures = {
            "runs": {"columns": columns, "rows": runs},
            "test accuracy over seeds": {
                "columns": ["dataset", "precision", "seeds", "mean %", "std %"],
                "rows": summary,
            },
        }
        write_record("ecan_precision", figures, load_before, settings={"losses": args.losses, "threads": args.threads})


if __name__ == "__main__":
    main()
