"""One ECAN training run as a workflow job.

    python -m affrepro.ecan.run --config C --run rafdb-strong-ensc+mva-l1_0.2-l2_0.7-V5-s0 --out M

The run id names its spec (affrepro.ecan.plan); the dataset is the configured
one or, when its location is null, the demo the workflow wrote.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from affrepro.config import effective_config, load_config
from affrepro.ecan import plan
from affrepro.ecan.train import run_from_config
from affrepro.io import write_json


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--run", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = effective_config(load_config(args.config), "ecan")
    runs = plan.runs(config)
    if args.run not in runs:
        raise SystemExit(f"unknown ECAN run {args.run!r}; the config plans: {', '.join(sorted(runs))}")
    spec = runs[args.run]
    result = run_from_config(config, spec | {"data": str(plan.location(config, spec["dataset"]))})
    result["data"] = {"kind": "demo" if plan.is_demo(config, spec["dataset"]) else "real", "location": str(plan.location(config, spec["dataset"]))}
    write_json(args.out, result)


if __name__ == "__main__":
    main()
