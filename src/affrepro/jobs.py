"""The command line every workflow job shares.

A job module's `main` is one call: `config, args = jobs.parse(__doc__, "emi", argv, out=jobs.PATH)`.
It adds `--config` (the resolved config the workflow wrote), `--threads` (the
rule's `{threads}`: the job's torch threads, in place of `compute.threads`, which
is the count for runs outside Snakemake), one `--flag` per keyword (underscores
become dashes), sets up logging, and returns the paper's effective config (demo
overrides applied on demo data) with the parsed args.
Paths always come from the rule (`{input}`, `{output}`, `{params}`); no job
builds a workflow path of its own.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from affrepro import jobconfig
from affrepro.config.load import load_config
from affrepro.config.reading import read_yaml
from affrepro.config.resolve import effective_config

PATH = {"type": Path, "required": True}
PATHS = {"type": Path, "nargs": "+", "required": True}
INT = {"type": int, "required": True}
TEXT = {"required": True}
NAMED_PATHS = {"nargs": "*", "default": [], "metavar": "NAME=PATH"}


def one_of(names) -> dict:
    """A required flag whose value must be one of `names`."""
    return {"choices": list(names), "required": True}


def parse(
    doc: str, paper: str | None, argv: list[str] | None = None, /, **arguments: dict
) -> tuple[dict | None, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--config", default="config.yaml", help="the resolved config.yaml of the workflow")
    parser.add_argument(
        "--threads", type=int, help="torch threads (Snakemake's {threads}); default: the config's compute.threads"
    )
    for name, options in arguments.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, **options)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = paper_config(args.config, paper) if paper else None
    if config is not None and dict.__contains__(config, "compute"):
        # A plain dict: compute.threads is the rule's {threads}, not a key the job's view lists.
        compute = dict(jobconfig.plain(config["compute"]))
        config["compute"] = compute | ({"threads": args.threads} if args.threads is not None else {})
    return config, args


def paper_config(path: str | Path, paper: str) -> dict:
    """The config a paper's jobs run with: the job's view as the workflow wrote it (affrepro.jobconfig), or a
    whole config.yaml (a job run by hand), validated, with the demo overrides applied on demo data."""
    content = read_yaml(path)
    if jobconfig.is_view(content):
        return jobconfig.load_view(content, path)
    return effective_config(load_config(path), paper)


def named_paths(pairs: list[str]) -> dict[str, Path]:
    """`name=path` arguments (as a rule passes named inputs) -> {name: path}."""
    named = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"expected name=path, got {pair!r}")
        named[name] = Path(path)
    return named
