"""Dataset statistics for EMI Table 1: duration and sample count per partition, plus a content fingerprint.

The faces and audio shard manifests say which samples the run left out
(datasets.hume_vidmimic2.on_unreadable: skip) and which decoded only in part;
Table 1 counts the samples used, and lists the rest (`skipped`, `partial`).

    python -m affrepro.emi.stats --root R --manifests work/emi/faces/shard0.json ... --out work/emi/dataset_stats.json
"""

from __future__ import annotations

from pathlib import Path

from affrepro import jobs
from affrepro.data import hume
from affrepro.emi.settings import Stats
from affrepro.files import read_json, write_json
from affrepro.media import probe


def media_faults(manifests: list[dict]) -> dict:
    """From the prepare manifests: {"skipped": {key: why}, "partial": {key: {stage: coverage}}}, each only when not empty."""
    skipped = {key: why for m in manifests for key, why in m.get("skipped", {}).items()}
    partial: dict[str, dict] = {}
    for m in manifests:
        for key in m.get("partial", []):
            partial.setdefault(key, {})[m["stage"]] = m["samples"][key]["coverage"]
    return ({"skipped": skipped} if skipped else {}) | ({"partial": partial} if partial else {})


def dataset_stats(root: Path, manifests: list[dict] = ()) -> dict:
    faults = media_faults(list(manifests))
    skipped = faults.get("skipped", {})
    partitions = {p: {"samples": 0, "duration_s": 0.0} for p in hume.PARTITIONS}
    for sample in hume.load_samples(root):
        if str(sample.file_id) in skipped:
            partitions[sample.partition]["skipped"] = partitions[sample.partition].get("skipped", 0) + 1
            continue
        partitions[sample.partition]["samples"] += 1
        partitions[sample.partition]["duration_s"] += float(probe(sample.video)["duration"])
    total = {
        "samples": sum(p["samples"] for p in partitions.values()),
        "duration_s": sum(p["duration_s"] for p in partitions.values()),
    }
    for part in [*partitions.values(), total]:
        part["duration_s"] = round(part["duration_s"], 3)
    return {"partitions": partitions | {"total": total}, "fingerprint": hume.fingerprint(root)} | faults


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__, "emi", argv, root=jobs.PATH, manifests={**jobs.PATHS, "required": False, "default": []}, out=jobs.PATH
    )
    stats = dataset_stats(args.root, [read_json(path) for path in args.manifests])
    write_json(args.out, stats | {"root": str(args.root), "demo": Stats.from_config(config).profile == "demo"})


if __name__ == "__main__":
    main()
