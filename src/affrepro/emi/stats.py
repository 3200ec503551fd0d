"""Dataset statistics for EMI Table 1: duration and sample count per partition, plus a content fingerprint.

    python -m affrepro.emi.stats --root R --out work/emi/dataset_stats.json
"""

from __future__ import annotations

from pathlib import Path

from affrepro import jobs
from affrepro.data import hume
from affrepro.io import write_json
from affrepro.media import probe


def dataset_stats(root: Path) -> dict:
    partitions = {p: {"samples": 0, "duration_s": 0.0} for p in hume.PARTITIONS}
    for sample in hume.load_samples(root):
        partitions[sample.partition]["samples"] += 1
        partitions[sample.partition]["duration_s"] += float(probe(sample.video)["duration"])
    total = {"samples": sum(p["samples"] for p in partitions.values()), "duration_s": sum(p["duration_s"] for p in partitions.values())}
    for part in [*partitions.values(), total]:
        part["duration_s"] = round(part["duration_s"], 3)
    return {"partitions": partitions | {"total": total}, "fingerprint": hume.fingerprint(root)}


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(__doc__, "emi", argv, root=jobs.PATH, out=jobs.PATH)
    write_json(args.out, dataset_stats(args.root) | {"root": str(args.root), "demo": config["profile"] == "demo"})


if __name__ == "__main__":
    main()
