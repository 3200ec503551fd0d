"""The pack job: one extractor's per-sample features (every shard) -> its packed store (affrepro.store).

Splits are the paper's: EMI's partitions (train, valid, test) in the plan's
sample order; VA's one cross-validation pool ("trials"), dealt to folds later.

    python -m affrepro.pack --config C --paper emi --root R --features work/emi/features/au/shard0.json ... \
        --out-dir work/emi/packed/au --manifest work/emi/packed/au.json
"""

from __future__ import annotations

import logging
from pathlib import Path

from affrepro import jobs
from affrepro.emi import plan as emi_plan
from affrepro.files import read_json
from affrepro.store import pack, sample_files
from affrepro.va import plan as va_plan

log = logging.getLogger("affrepro.pack")


def pack_splits(config: dict, paper: str, root: Path) -> dict[str, list[str]]:
    """The splits a paper's training jobs read, each in the plan's sample order."""
    if paper == "emi":
        return emi_plan.partition_keys(config, root)
    return {"trials": va_plan.trials(config, root)}  # VA: one pool, dealt to folds by affrepro.va.folds


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__,
        None,
        argv,
        paper=jobs.one_of(["emi", "va"]),
        root=jobs.PATH,
        features=jobs.PATHS,
        out_dir=jobs.PATH,
        manifest=jobs.PATH,
    )
    config = jobs.paper_config(args.config, args.paper)
    manifests = [read_json(path) for path in args.features]
    extractors = {m["extractor"] for m in manifests}
    if len(extractors) != 1:
        raise SystemExit(f"--features: manifests of one extractor expected, got {sorted(extractors)}")
    extractor = extractors.pop()
    info = {k: v for k, v in manifests[0].items() if k not in ("samples", "trials", "shard", "shards")}
    # Samples the prepare stage left out (datasets.<name>.on_unreadable: skip) are not packed; the store lists them.
    info["skipped"] = {key: why for m in manifests for key, why in m.get("skipped", {}).items()}
    splits = {
        split: [key for key in keys if key not in info["skipped"]]
        for split, keys in pack_splits(config, args.paper, args.root).items()
    }
    store = pack(extractor, splits, sample_files(manifests), args.out_dir, args.manifest, info)
    log.info("%s: packed %s", extractor, {split: entry["rows"] for split, entry in store["splits"].items()})


if __name__ == "__main__":
    main()
