"""Bad config values (issue 13): each is refused at start-up with a message naming the key, or handled as documented.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import helpers
import pytest
import yaml
from bad_inputs import (
    message,
    workdir_with,
)
from helpers import REPO

from affrepro.config.command_line import command_line_config

# ------------------------------------------------------------------ config


@pytest.mark.parametrize(
    "overrides, key, typed",
    [
        ({"ecan": "{fer2013: {max_train: 3500}}"}, ("ecan", "fer2013", "max_train"), 3500),
        ({"preprocess": "{shards: 2, audio: {peak_dbfs: -6.5}}"}, ("preprocess", "audio", "peak_dbfs"), -6.5),
        ({"datasets": "{hume_vidmimic2: {root: null}}"}, ("datasets", "hume_vidmimic2", "root"), None),
        ({"datasets": "{rafdb: {root: /data/RAF-DB}}"}, ("datasets", "rafdb", "root"), "/data/RAF-DB"),
        ({"emi": "{train: {lr: 1e-4}, seeds: [0, 1]}"}, ("emi", "train", "lr"), 1e-4),
        ({"extractors": "{wav2vec2: {layer: 12}}"}, ("extractors", "wav2vec2", "layer"), 12),
        ({"allow_substitutes": "true"}, ("allow_substitutes",), True),
    ],
)
def test_command_line_config_values_get_the_schema_types(overrides, key, typed):
    """Snakemake leaves every nested --config scalar as text; they are typed as config.yaml would type them."""
    parsed = {
        name: yaml.load(value, Loader=yaml.BaseLoader) for name, value in overrides.items()
    }  # what Snakemake hands over
    value = command_line_config(parsed)
    for part in key:
        value = value[part]
    assert value == typed and type(value) is type(typed)


def test_command_line_config_is_applied_before_validation(tmp_path):
    workdir = workdir_with(tmp_path, helpers.repo_config())
    proc = helpers.snakemake_run(
        workdir,
        "-n",
        "results/table3.csv",
        "--config",
        "preprocess={shards: 3}",
        "datasets={hume_vidmimic2: {root: null}}",
    )
    assert proc.returncode == 0, message(proc)[-2000:]
    assert (
        "emi_prepare" in proc.stdout and "shard2" in proc.stdout and "shard3" not in proc.stdout
    )  # 3 shards, on the demo
    assert (
        "--config value(s) kept over demo.overrides on demo data: preprocess.shards = 3" in proc.stderr
    )  # not replaced by the demo's 2
    proc = helpers.snakemake_run(
        workdir, "-n", "results/ecan/table5.csv", "--config", "ecan={fer2013: {max_train: abc}}"
    )
    assert proc.returncode != 0 and "'ecan.fer2013.max_train': 'abc' is not of type 'integer', 'null'" in message(proc)


def test_dotted_config_keys_are_refused_before_the_workflow_runs(tmp_path):
    """Snakemake itself refuses `--config a.b=1` before the workflow is read (its message, upstream snakemake#3907); nothing runs."""
    workdir = workdir_with(tmp_path, helpers.repo_config())
    proc = helpers.snakemake_run(workdir, "results/table3.csv", "--config", "preprocess.shards=2")
    assert proc.returncode != 0 and "Invalid config definition" in message(proc)
    assert not (workdir / "work").exists()


def test_missing_configfile_is_named(tmp_path):
    workdir = workdir_with(tmp_path, helpers.repo_config())
    proc = helpers.snakemake_run(workdir, "-n", "results/table3.csv", "--configfile", str(tmp_path / "nope.yaml"))
    assert proc.returncode != 0 and f"No such file or directory: '{tmp_path / 'nope.yaml'}'" in message(proc)


def run_only(
    workdir: Path, rule: str, target: str, snakefile: Path = REPO / "Snakefile", env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `target` with only `rule` allowed, first creating each input it lacks as an empty file (as if upstream had run)."""
    base = [
        sys.executable,
        "-m",
        "snakemake",
        target,
        "-s",
        str(snakefile),
        "-d",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        "1",
        "--allowed-rules",
        rule,
    ]
    env = env or helpers.snakemake_env()
    for _ in range(3):
        text = message(subprocess.run(base + ["-n"], capture_output=True, text=True, env=env))
        missing = (
            re.findall(r"^ {8}(\S.*?)\s*$", text.split("affected files:", 1)[1], re.M)
            if "affected files:" in text
            else []
        )
        for path in missing:
            (workdir / path).parent.mkdir(parents=True, exist_ok=True)
            (workdir / path).write_text("")
        if not missing:
            break
    return subprocess.run(base, capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    "section, rule, target",
    [
        ("feature_sets", "emi_train", "work/emi/runs/{name}/metrics.json"),
        ("fusions", "emi_aggregate", "work/emi/fusion/{name}/metrics.json"),
    ],
)
def test_a_name_from_the_config_cannot_run_a_command(section, rule, target, tmp_path):
    """A feature-set or fusion name with shell syntax used to run `touch` (it reached `shell:` unquoted).

    Now the schema refuses it at start-up, naming the key, and every value a rule passes to a shell is quoted.
    (Before the fix this test created PWNED: run it with the Snakefile and src/ of commit e34aed1.)
    """
    name = "x||touch PWNED||y"
    config = helpers.repo_config()
    config["emi"][section][name] = (
        {"modality": "V", "extractors": ["resnet18"]} if section == "feature_sets" else ["vit", "wav2vec2"]
    )
    workdir = workdir_with(tmp_path, config)
    proc = run_only(workdir, rule, target.format(name=name))
    assert not (workdir / "PWNED").exists()
    assert proc.returncode != 0 and f"'emi.{section}': '{name}' is not allowed" in message(proc)


def test_every_value_a_rule_hands_to_a_shell_is_quoted():
    unquoted = []
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        unquoted += [
            f"{path.name}: {m}"
            for m in re.findall(r"\{(?:wildcards|params|input|output|log)(?:\.\w+)?\}", path.read_text())
        ]
    assert not unquoted, unquoted


def test_a_dry_run_plans_and_a_real_run_names_an_unwritable_config(tmp_path):
    """`work/config` is a file here, so the config files cannot be written (as on a full or read-only disk)."""
    workdir = workdir_with(tmp_path, helpers.repo_config())
    (workdir / "work").mkdir()
    (workdir / "work" / "config").write_text("in the way")
    proc = helpers.snakemake_run(workdir, "-n", "results/table3.csv")
    assert proc.returncode == 0, message(proc)[-2000:]
    assert sorted(p.name for p in (workdir / "work").iterdir()) == ["config"]
    proc = helpers.snakemake_run(workdir, "work/data/fer2013/fer2013.csv.gz")
    assert proc.returncode != 0 and re.search(
        r"cannot write the config file work/config/[\w.-]+-[0-9a-f]{16}\.yaml", message(proc)
    )
    assert "Traceback" not in message(proc) and not (workdir / "work" / "data").exists()


def test_outputs_get_the_umasks_mode(tmp_path):
    """Atomic writes used to leave results 0600 (mkstemp); a file now gets what open() gives under the umask."""
    code = "import os; os.umask(0o027); from affrepro.files import write_text; write_text({!r}, 'x')"
    subprocess.run([sys.executable, "-c", code.format(str(tmp_path / "a.csv"))], check=True)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o640
    subprocess.run([sys.executable, "-c", code.replace("0o027", "0o002").format(str(tmp_path / "b.csv"))], check=True)
    assert (tmp_path / "b.csv").stat().st_mode & 0o777 == 0o664


@pytest.mark.parametrize(
    "section, value, expected",
    [
        ("emi", {"train": {"epochs": 3.0}}, "'emi.train.epochs': 3.0 is not of type 'integer'"),
        ("preprocess", {"shards": 2.0}, "'preprocess.shards': 2.0 is not of type 'integer'"),
        (
            "emi",
            {"train": {"seq_len": 10**12}},
            "'emi.train.seq_len': 1000000000000 is greater than the maximum of 10000",
        ),
        ("datasets", {"rafdb": {"root": ""}}, "'datasets.rafdb.root': '' should be non-empty"),
    ],
)
def test_numbers_and_paths_of_the_wrong_kind_are_refused_at_start_up(section, value, expected):
    from affrepro.config.reading import ConfigError
    from affrepro.config.resolve import deep_merge
    from affrepro.config.schema import validate_config

    config = deep_merge(helpers.repo_config(), {section: value})
    with pytest.raises(ConfigError, match=re.escape(expected)):
        validate_config(config, "config.yaml")


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("paper", "Accuracy", "73.73x"), "'tables.table5.rows.7.paper.Accuracy': '73.73x' is not a number"),
        (("paper", "Acuracy", 73.73), "'tables.table5.rows.7.paper': ['Acuracy'] not among the table's metrics"),
        (("ours", "F1", {"file": "work/x.json", "value": "a"}), "'tables.table5.rows.7.ours': ['F1'] not among"),
        (
            ("ours", "Accuracy", {"file": "/tmp/x.json", "value": "a"}),
            "'tables.table5.rows.7.ours.Accuracy.file': '/tmp/x.json' must be a workflow file",
        ),
    ],
)
def test_a_paper_file_with_a_malformed_value_key_or_run_file_is_refused_at_load(edit, expected, tmp_path):
    from affrepro.papers import PaperFileError, load_paper

    paper = yaml.safe_load((REPO / "papers" / "ecan.yaml").read_text())
    part, metric, value = edit
    row = paper["tables"]["table5"]["rows"][7]
    assert row["Method"] == "ECAN (ours)"
    row[part][metric] = value
    (tmp_path / "ecan.yaml").write_text(yaml.safe_dump(paper))
    with pytest.raises(PaperFileError, match=re.escape(str(tmp_path / "ecan.yaml")) + r"(.|\n)*" + re.escape(expected)):
        load_paper("ecan", tmp_path)
