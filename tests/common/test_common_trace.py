"""`affrepro trace` follows one cell of each paper's tables down to the function that computes it (issue 20.7).
Run on the committed tables in a fresh working directory: the chain comes from papers/*.yaml, the workflow's
rules (Snakemake's --detailed-summary) and the sources, not from run files."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys

import pytest
from helpers import REPO, snakemake_env

CELLS = [
    (
        ["results/ecan/table5.csv", "ECAN (ours)", "Accuracy_ours"],
        [
            "papers/ecan.yaml tables.table5.rows[7]: paper 73.73",
            "written by rule paper_table",
            "work/ecan/experiments/table5.json: ecan.accuracy_pct",
            "written by rule ecan_aggregate",
            "'accuracy_pct' -> affrepro.ecan.aggregate.summarise",
            "written by rule ecan_train (affrepro.ecan.train)",
            "'accuracy' -> affrepro.metrics.classification_scores",
        ],
    ),
    (
        ["results/table3.csv", "ResNet18+AUs+Wav2Vec2.0", "rho_ours"],
        [
            "copied by rule emi_headline_table from results/emi/table3.csv",
            "work/emi/fusion/resnet18_aus_wav2vec2/metrics.json: valid_mean_pearson.mean",
            "'valid_mean_pearson' -> affrepro.emi.aggregate.fuse",
            "'mean' -> affrepro.metrics.mean_std",
            "written by rule emi_train (affrepro.emi.train)",
        ],
    ),
    (
        ["results/va/table2.csv", "fold-2", "Valence_ours"],
        [
            "papers/va.yaml tables.table2.rows[2]: paper 0.5547",
            "written by rule va_train_fold",
            "'valence' -> affrepro.metrics.va_score",
        ],
    ),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working directory holding the committed tables and config, nothing built."""
    path = tmp_path_factory.mktemp("trace")
    shutil.copytree(REPO / "results", path / "results")
    shutil.copy(REPO / "config.yaml", path / "config.yaml")
    return path


def trace(workdir, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "affrepro.cli", "trace", *args, "-d", str(workdir), "-s", str(REPO / "Snakefile")]
    return subprocess.run(command, capture_output=True, text=True, env=snakemake_env(), cwd=workdir)


@pytest.mark.parametrize("args, expected", CELLS, ids=["ecan", "emi", "va"])
def test_trace_reaches_the_computing_function(args, expected, workdir):
    proc = trace(workdir, *args)
    assert proc.returncode == 0, proc.stderr
    committed = next(line for line in proc.stdout.splitlines() if line.startswith("cell"))
    assert committed.endswith("(not built here)") is False  # the committed CSV's value is shown
    for text in expected:
        assert text in proc.stdout, f"{text!r} not in:\n{proc.stdout}"


def test_a_paper_cell_is_typed_and_a_wrong_row_lists_the_rows(workdir):
    proc = trace(workdir, "results/ecan/table5.csv", "MBCC [37]", "Accuracy_paper")
    assert proc.returncode == 0 and "typed from the paper text" in proc.stdout and "= 71.52" in proc.stdout
    proc = trace(workdir, "results/va/table2.csv", "2", "Valence_ours")
    assert proc.returncode == 2 and "no row '2'; the rows are: fold-0; fold-1" in proc.stderr


def test_the_readme_headline_block_is_rendered_from_the_committed_results():
    from affrepro import headline

    assert headline.block((REPO / "README.md").read_text()) == headline.render(REPO / "results"), (
        "README's headline block is stale: python -m affrepro.headline --write README.md"
    )


def test_the_readmes_trace_excerpt_is_what_trace_prints(workdir):
    text = (REPO / "README.md").read_text()
    excerpt = text.split("```text\n$ affrepro trace ", 1)[1].split("```", 1)[0].splitlines()
    proc = trace(workdir, *shlex.split(excerpt[0]))
    assert proc.returncode == 0, proc.stderr
    for line in excerpt[1:]:
        for piece in line.split("..."):  # "..." stands for what the excerpt leaves out
            assert piece.strip(", ") in proc.stdout, f"{piece!r} not in:\n{proc.stdout}"


def test_trace_says_where_and_when_the_table_was_built_from_its_run_info(tmp_path):
    """The tracked sidecar says nothing of where and when (issue 23.5); trace reads the untracked run info."""
    import json

    shutil.copytree(REPO / "results", tmp_path / "results")
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    args = ["results/table3.csv", "ResNet18+AUs+Wav2Vec2.0", "rho_ours"]
    assert "built  work/runinfo/emi/table3.json: none here" in trace(tmp_path, *args).stdout
    info = {
        "table": "results/emi/table3.csv",
        "git_revision": "0123abc",
        "written_utc": "2026-12-07T06:00:00+00:00",
        "host": "node7",
        "table_job": {"cpu": "AMD EPYC", "platform": "Linux-6.1"},
        "training": [{"cpu": "AMD EPYC"}, {"cpu": "AMD EPYC", "gpu": "NVIDIA H200"}],
    }
    (tmp_path / "work/runinfo/emi").mkdir(parents=True)
    (tmp_path / "work/runinfo/emi/table3.json").write_text(json.dumps(info))
    assert (
        "built  2026-12-07T06:00:00+00:00 at revision 0123abc on node7 (AMD EPYC, Linux-6.1); "
        "its training runs on: AMD EPYC; NVIDIA H200"
    ) in trace(tmp_path, *args).stdout
