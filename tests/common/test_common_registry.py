"""The paper registry (affrepro.registry): each paper is declared once, and the shared code reads the declarations.

dvc.yaml is generated from it, the workflow's targets and demo locations come from it, and the shared
modules name no paper (the two modules still to move are named below, with what they still branch on).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
import yaml
from helpers import REPO, snakemake_command, snakemake_env

from affrepro import dvcfile, papers, registry
from affrepro.config import resolve

# Shared modules that still name papers, and why (issue 20: the config package split moves them next).
DATASETS = {name for paper in registry.PAPERS.values() for name in paper.datasets}


def test_the_committed_dvc_yaml_is_the_one_the_registry_generates(tmp_path, capsys):
    assert dvcfile.main(["--check"]) == 0, "dvc.yaml is stale: python -m affrepro.dvcfile"
    edited = tmp_path / "dvc.yaml"
    edited.write_text(dvcfile.render().replace("      - datasets.affwild2\n", ""))
    assert dvcfile.main(["--check", "--path", str(edited)]) == 1
    assert "python -m affrepro.dvcfile" in capsys.readouterr().err


def planned_outputs(workdir, target: str) -> dict[str, set[str]]:
    """rule -> the files under results/ its jobs would write, from a forced Snakemake dry run of `target`
    (the workflow's own account, independent of the registry that dvc.yaml is generated from)."""
    command = snakemake_command(workdir, str(REPO / "config.yaml"))
    proc = subprocess.run(
        [*command, "--cores", "1", "--dry-run", "--forceall", "--printshellcmds", target],
        capture_output=True,
        text=True,
        env=snakemake_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found: dict[str, set[str]] = {}
    for job in proc.stdout.split("\nrule ")[1:]:
        rule = job.split(":", 1)[0]
        for line in job.splitlines():
            if line.strip().startswith("output:"):
                paths = (p.strip().removesuffix(" (update)") for p in line.split(":", 1)[1].split(","))
                found.setdefault(rule, set()).update(p for p in paths if p.startswith("results/"))
    return found


def test_each_stage_outputs_what_its_snakemake_target_writes_under_results(tmp_path):
    """A DVC stage's outs and metrics are every file under results/ that its command's target writes, no
    more, no fewer; the verdicts stage's out is the verdict rule's, and its deps hold every claims file."""
    stages = yaml.safe_load(dvcfile.render())["stages"]
    for key in registry.PAPERS:
        stage = stages[key]
        declared = {next(iter(entry)) for part in ("outs", "metrics") for entry in stage[part]}
        written = set().union(*planned_outputs(tmp_path, stage["cmd"].split()[-1]).values())
        assert written == declared, (key, sorted(written ^ declared))
    verdicts = stages[dvcfile.VERDICTS_STAGE]
    planned = planned_outputs(tmp_path, verdicts["cmd"].split()[-1])
    assert {next(iter(entry)) for entry in verdicts["outs"]} == planned["verdicts"]
    claims = set().union(*(outs for rule, outs in planned.items() if rule == "paper_claims"))
    assert claims and claims <= set(verdicts["deps"])


def test_each_stage_is_the_papers_targets_and_config_keys():
    stages = yaml.safe_load(dvcfile.render())["stages"]
    assert list(stages) == [*registry.PAPERS, dvcfile.VERDICTS_STAGE] and list(registry.PAPERS) == list(papers.PAPERS)
    verdicts = stages[dvcfile.VERDICTS_STAGE]  # the verdict page reads every paper's claims
    assert verdicts["outs"] == [{"results/index.html": {"cache": False, "persist": True}}]
    assert {f"results/{key}/claims.csv" for key in registry.PAPERS} <= set(verdicts["deps"])
    for key, paper in registry.PAPERS.items():
        stage = stages[key]
        files = [next(iter(entry)) for part in ("outs", "metrics") for entry in stage[part]]
        assert sorted(files) == sorted(papers.targets(key))
        overrides = yaml.safe_load((REPO / "config.yaml").read_text())["demo"]["overrides"]
        assert stage["params"] == [{"config.yaml": list(registry.config_keys(paper, overrides))}]
        assert stage["cmd"].endswith(f" {key}_tables") and f"papers/{key}.yaml" in stage["deps"]
    # the tables and figures come from papers/<key>.yaml, the headline paper's tables also at the top
    ecan = papers.targets("ecan")
    assert "results/ecan/table5.csv" in ecan and "results/ecan/figure7.png" in ecan
    assert "results/table3.csv" in papers.targets(registry.HEADLINE) and "results/table3.csv" not in ecan


def test_the_config_reads_each_papers_datasets_from_the_registry():
    assert {key: resolve.paper_datasets(key) for key in registry.PAPERS} == {
        "emi": ["hume_vidmimic2"],
        "va": ["affwild2"],
        "ecan": ["rafdb", "fer2013"],
    }
    assert set(registry.demo_locations()) == DATASETS
    assert registry.dataset_titles()["rafdb"] == "RAF-DB"


def paper_names_in_code(path) -> list[str]:
    """String constants that are a paper key or dataset name (or start with '<key>.'), and imports of a paper
    package, in a module's code (docstrings and comments may mention papers)."""
    keys = set(registry.PAPERS)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            if value in keys | DATASETS or any(value.startswith(f"{key}.") for key in keys):
                found.append(f"{path.name}:{node.lineno}: {value!r}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[:2][-1] in keys:
            found.append(f"{path.name}:{node.lineno}: from {node.module}")
    return found


def test_no_shared_module_names_a_paper(tmp_path):
    package = REPO / "src" / "affrepro"
    modules = sorted(package.glob("*.py")) + sorted((package / "config").glob("*.py"))
    assert {package / "curves.py", package / "pack.py", package / "config" / "consistency.py"} <= set(modules)
    found = [hit for path in modules for hit in paper_names_in_code(path)]
    assert found == [], "a shared module names a paper: declare it in affrepro/<key>/paper.py instead"
    # the check finds what it looks for
    named = tmp_path / "named.py"
    named.write_text('"""Docstrings may say emi."""\nfrom affrepro.emi import plan\n\nKEYS = ["ecan.train", "rafdb"]\n')
    assert [hit.split(": ", 1)[1] for hit in paper_names_in_code(named)] == [
        "from affrepro.emi",
        "'ecan.train'",
        "'rafdb'",
    ]
    quoted = re.compile(r"[\"'](" + "|".join(sorted(set(registry.PAPERS) | DATASETS)) + r")[\"'/.]")
    for name in ("Snakefile", "workflow/rules/common.smk", "workflow/rules/results.smk"):
        code = "\n".join(line.split("#")[0] for line in (REPO / name).read_text().splitlines())
        assert not quoted.findall(code), f"{name} names a paper"


@pytest.mark.parametrize("module", registry.PAPER_MODULES)
def test_a_declaration_imports_first(module):
    """A declaration imports affrepro.declarations, not the registry that loads it (no import cycle)."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module} as m; print(m.PAPER.key)"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == module.split(".")[1]


@pytest.mark.parametrize("key", list(registry.PAPERS))
def test_each_paper_declares_its_rules_and_how_its_histories_read(key):
    paper = registry.paper(key)
    assert (REPO / registry.rules_file(paper)).is_file()
    runs = paper.history_runs(
        {
            "emi": {"feature_set": "audio", "seeds": {"0": {"history": [{"epoch": 1}]}}},
            "va": {"protocol": "own", "fold": 2, "history": [{"epoch": 1}]},
            "ecan": {"run_id": "rafdb-strong-ce-s0", "history": [{"epoch": 1}]},
        }[key]
    )
    assert runs == {"emi": {"audio/seed0": [{"epoch": 1}]}, "va": {"own/fold2": [{"epoch": 1}]}}.get(
        key, {"rafdb-strong-ce-s0": [{"epoch": 1}]}
    )
    with pytest.raises(ValueError, match="unknown paper 'nope'; known: emi, va, ecan"):
        registry.paper("nope")
