"""The pack job: one extractor's per-sample features (every shard) -> its packed store (affrepro.store).

The splits are the paper's, so each paper has its own pack module naming the settings that give them
(affrepro.<key>.pack, affrepro.<key>.settings).
"""

from __future__ import annotations

import logging

from affrepro import jobs
from affrepro.files import read_json
from affrepro.jobsettings import JobSettings
from affrepro.store import pack, sample_files

log = logging.getLogger("affrepro.pack")


def main(argv: list[str] | None, doc: str, paper: str, settings: type[JobSettings]) -> None:
    """A paper's pack job: its `settings` class (affrepro.jobsettings) gives the splits its training jobs read
    (`splits(root)`), each in the plan's sample order."""
    config, args = jobs.parse(
        doc,
        None,
        argv,
        root=jobs.PATH,
        features=jobs.PATHS,
        out_dir=jobs.PATH,
        manifest=jobs.PATH,
    )
    config = jobs.paper_config(args.config, paper)
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
        for split, keys in settings.from_config(config).splits(args.root).items()
    }
    store = pack(extractor, splits, sample_files(manifests), args.out_dir, args.manifest, info)
    log.info("%s: packed %s", extractor, {split: entry["rows"] for split, entry in store["splits"].items()})
