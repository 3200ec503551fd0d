"""Dataset statistics for EMI Table 1: duration and sample count per partition, plus a content fingerprint.

    python -m affrepro.emi.stats --out work/emi/dataset_stats.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affrepro.config import effective_config, load_config
from affrepro.data import hume
from affrepro.emi import plan
from affrepro.io import write_json
from affrepro.media import probe


def compute(root: Path) -> dict:
    partitions = {p: {"samples": 0, "duration_s": 0.0} for p in hume.PARTITIONS}
    for sample in hume.load_samples(root):
        partitions[sample.partition]["samples"] += 1
        partitions[sample.partition]["duration_s"] += float(probe(sample.video)["duration"])
    total = {"samples": sum(p["samples"] for p in partitions.values()), "duration_s": sum(p["duration_s"] for p in partitions.values())}
    for part in [*partitions.values(), total]:
        part["duration_s"] = round(part["duration_s"], 3)
    return {"partitions": partitions | {"total": total}, "fingerprint": hume.fingerprint(root)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    config = effective_config(load_config(args.config), "emi")
    root = plan.dataset_root(config)
    write_json(args.out, compute(root) | {"root": str(root), "demo": config["profile"] == "demo"})


if __name__ == "__main__":
    main()
