# Shared machinery, no rules: imports, config validation, the resolved config every job reads,
# dataset locations, the job command line, and the registries each paper's .smk fills.
# Each paper's .smk needs only this file before it; results.smk holds the rules shared by the papers.
import os
import sys
from pathlib import Path

from affrepro import claim_inputs
from affrepro import jobconfig
from affrepro import papers
from affrepro import registry
from affrepro import resources as job_resources  # `resources` is Snakemake's own name in a Snakefile
from affrepro.codeversion import code_version
from affrepro.fingerprints import digest as content_digest  # raw files' content as a param (docs/running.md)
from affrepro.config.command_line import apply_command_line
from affrepro.config.consistency import check_consistency
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import dataset_location, effective_config, mixed_data_notice
from affrepro.config.schema import validate_config
from affrepro.config.weights import check_weights
from affrepro.papers import load_paper
from affrepro.tables import input_files

# envs/affrepro.post-deploy.sh installs this checkout into a new conda environment (--sdm conda): Snakemake
# runs it from a copy beside the environment, so the checkout's place comes from here (this file's, two up).
# (set, not read: the envvars directive is for variables a user must provide)
os.environ.update(AFFREPRO_REPO_ROOT=str(Path(str(workflow.current_basedir)).resolve().parents[1]))

try:
    # Snakemake reads nested --config values as text ('{shards: 2}' gives "2"): type them as config.yaml would.
    # A value given there is meant, so it also wins over demo.overrides on demo data (said below).
    KEPT_OVER_DEMO = apply_command_line(config, workflow.config_settings.config)
    validate_config(config, source="config (config.yaml plus any --config/--configfile overrides)")
    check_consistency(config, source="config")
except ConfigError as error:
    sys.exit(f"affrepro: {error}")
if KEPT_OVER_DEMO:
    print(f"affrepro: --config value(s) kept over demo.overrides on demo data: {'; '.join(KEPT_OVER_DEMO)}", file=sys.stderr)

# Each job reads only the config keys its settings class lists (affrepro.jobconfig): the rule's `params: config=
# job_config(...)` writes that view to a content-addressed file, so a changed value reruns exactly the jobs that
# read it. The results rules of a paper also read its record, the config.yaml keys the paper's DVC stage lists
# (dvc.yaml, checked against the jobs' keys by the tests): in a fresh clone the record is new, so
# `make reproduce` recomputes the committed tables rather than printing them (Snakemake does not rerun a job
# whose output exists for an input a rule could still make). Where a file cannot be written (a full or
# read-only disk) a dry run still plans and a real run stops at start.
CONFIG_WRITE_ERRORS = {}


def write_config_file(path, content):
    try:
        jobconfig.write_view(path, content)
    except OSError as error:
        CONFIG_WRITE_ERRORS[path] = (
            f"cannot write the config file {path} ({error.strerror or error}); free space or make the working "
            "directory writable, then rerun"
        )
    return path


def job_config(paper, module, /, **fields):
    """A params function: the config view of `module`'s job (written now), its keys' fields from the job's
    wildcards and from `fields` (name: value, or a function of the wildcards); the keys: the job's settings
    class (affrepro.<paper>.settings)."""

    def path(wildcards):
        values = dict(wildcards.items()) | {k: f(wildcards) if callable(f) else f for k, f in fields.items()}
        return write_config_file(*jobconfig.view_file(paper, module, PAPER_CONFIGS[paper], **values))

    return path


PAPER_RECORDS = {paper: jobconfig.paper_record(config, paper) for paper in papers.PAPERS}


def write_paper_record(paper, path, log):
    jobconfig.write_view(path, PAPER_RECORDS[paper][1])
    Path(log).write_text(f"wrote {path}\n")

for _path, _content in PAPER_RECORDS.values():
    write_config_file(_path, _content)


onstart:
    if CONFIG_WRITE_ERRORS:
        sys.exit("affrepro: " + "\n".join(CONFIG_WRITE_ERRORS.values()))


# Where each dataset is read from: the configured location, or the demo a rule writes there (affrepro.registry).
DEMO_DATA = registry.demo_locations()


def data_location(dataset):
    value = dataset_location(config, dataset)
    return DEMO_DATA[dataset] if value is None else value


def folder_of(key, up=1):
    """A params function: the folder `up` levels above the first file of the rule's named input or output
    `key` (0: the file itself), e.g. a dataset's root from the index file the rule reads or writes there.
    A job that reads a whole folder thus gets it from its declared files, not from a path typed twice."""

    def folder(wildcards, input, output):
        files = dict(output.items()) | dict(input.items())
        first = Path(files[key] if isinstance(files[key], str) else files[key][0])
        return str(first.parents[up - 1] if up else first)

    return folder


def paper_config(paper):
    """The paper's effective config (demo overrides on demo data); real weights checked at start-up."""
    resolved = effective_config(config, paper)
    if mixed_data_notice(config, paper):
        print(f"affrepro: {mixed_data_notice(config, paper)}", file=sys.stderr)
    try:
        check_weights(resolved, paper)
    except ConfigError as error:
        sys.exit(f"affrepro: {error}")
    return resolved


def gpus(resolved):
    """GPUs a training or feature job asks the scheduler for (set compute.device: cuda on a GPU cluster)."""
    return 1 if resolved["compute"]["device"] == "cuda" else 0


def cluster_mb(job_mb):
    """mem_mb of a job that may go to a cluster (call it inside the rule's lambda: the executor is known
    only once jobs are planned); a SLURM job's memory also holds two Snakemake processes."""
    return job_resources.with_slurm_wrappers(job_mb, workflow.non_local_exec)


def job(module, arguments="", reads=(), config=True):
    """A job's shell command: one call into src/affrepro with its config view (`config`: the rule's
    params.config, from job_config) and the rule's {threads} (the job's torch threads), everything into the
    rule's log.

    The command carries the hash of the job's code (its module, `reads`, and every affrepro module they
    import), so Snakemake's `code` rerun trigger reruns a job whenever the code it runs changes.
    """
    # A paper's job also reads its paper's declaration (affrepro.registry loads it by name, which the
    # static import scan cannot see), e.g. which of its components are substitutes: its own code, not the
    # modules its other functions import (`affrepro check`'s, the cost models), which would rerun it for nothing.
    key = module.split(".")[0]
    own = (f"affrepro.{key}.paper",) if key in registry.PAPERS else ()
    code = code_version(f"affrepro.{module}", *(f"affrepro.{m}" for m in reads), own=own)
    view = "--config {params.config:q} " if config else ""
    return f"AFFREPRO_CODE={code} python -m affrepro.{module} {view}--threads {{threads}} {arguments} > {{log:q}} 2>&1"


wildcard_constraints:
    shard=r"\d+",
    table=r"table\d+(_nested)?",
    paper="|".join(papers.PAPERS),


# Every result file of each paper (the `<paper>_tables` target and `all`; dvc.yaml's outs).
PAPER_TARGETS = {paper: papers.targets(paper) for paper in papers.PAPERS}
# Filled by each paper's .smk: its effective config, the files its tables' provenance reads
# ({name: path}), and its training jobs' metrics files (their per-epoch histories make results/<paper>/curves/).
PAPER_CONFIGS = {}
PROVENANCE = {}
TRAINING_RUNS = {}
