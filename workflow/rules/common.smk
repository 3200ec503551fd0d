# Shared rule machinery: imports, config validation, the resolved config every job reads,
# dataset locations, the job command line, and the one rule that renders any paper table.
# Each paper's .smk needs only this file before it.
import shlex
import sys
from pathlib import Path

import yaml

from affrepro import papers
from affrepro.codeversion import code_version
from affrepro.config import ConfigError, check_consistency, check_weights, config_hash, dataset_location, effective_config, validate_config
from affrepro.io import write_text
from affrepro.papers import PAPERS_DIR, load_paper
from affrepro.tables import input_files

try:
    validate_config(config, source="config (config.yaml plus any --config/--configfile overrides)")
    check_consistency(config, source="config")
except ConfigError as error:
    sys.exit(f"affrepro: {error}")

# Jobs read the validated config from a content-addressed copy, so --config
# overrides reach them too; a changed config gets a new file.
RESOLVED_CONFIG = f"work/config/config-{config_hash(config)}.yaml"
if not Path(RESOLVED_CONFIG).exists():
    write_text(RESOLVED_CONFIG, yaml.safe_dump(dict(config), sort_keys=True))

# Where each dataset is read from: the configured location, or the demo a rule writes there.
DEMO_DATA = {
    "hume_vidmimic2": "work/data/hume_vidmimic2",
    "affwild2": "work/data/affwild2",
    "rafdb": "work/data/rafdb",
    "fer2013": "work/data/fer2013/fer2013.csv.gz",
}


def data_location(dataset):
    value = dataset_location(config, dataset)
    return DEMO_DATA[dataset] if value is None else value


def paper_config(paper):
    """The paper's effective config (demo overrides on demo data); real weights checked at start-up."""
    resolved = effective_config(config, paper)
    try:
        check_weights(resolved, paper)
    except ConfigError as error:
        sys.exit(f"affrepro: {error}")
    return resolved


def gpus(resolved):
    """GPUs a training or feature job asks the scheduler for (set compute.device: cuda on a GPU cluster)."""
    return 1 if resolved["compute"]["device"] == "cuda" else 0


def job(module, arguments="", reads=()):
    """A job's shell command: one call into src/affrepro with the resolved config, everything into the rule's log.

    The command carries the hash of the job's code (its module, `reads`, and every affrepro module they
    import), so Snakemake's `code` rerun trigger reruns a job whenever the code it runs changes.
    """
    code = code_version(f"affrepro.{module}", *(f"affrepro.{m}" for m in reads))
    return f"AFFREPRO_CODE={code} python -m affrepro.{module} --config {shlex.quote(RESOLVED_CONFIG)} {arguments} > {{log:q}} 2>&1"


wildcard_constraints:
    shard=r"\d+",
    table=r"table\d+(_nested)?",
    paper="|".join(papers.PAPERS),


# Filled by each paper's .smk: the files its tables' provenance reads ({name: path}),
# and every result file of the paper (the `<paper>_tables` target and `all`).
PROVENANCE = {}
PAPER_TARGETS = {}


rule paper_table:
    input:
        # The tables depend on the config they were computed with; in a fresh
        # clone this record is new, so the committed tables are recomputed.
        config=RESOLVED_CONFIG,
        paper=lambda w: str(PAPERS_DIR / f"{w.paper}.yaml"),
        runs=lambda w: input_files(load_paper(w.paper), w.table),
        provenance=lambda w: list(PROVENANCE[w.paper].values()),
    output:
        csv="results/{paper}/{table}.csv",
        json="results/{paper}/{table}.json",
    params:
        provenance=lambda w: " ".join(shlex.quote(f"{name}={path}") for name, path in PROVENANCE[w.paper].items()),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/{paper}/{table}.log",
    shell:
        job(
            "tables",
            "--paper {wildcards.paper} --table {wildcards.table} --csv {output.csv:q} --json {output.json:q} --provenance {params.provenance}",
            reads=[f"{paper}.report" for paper in papers.PAPERS],
        )
