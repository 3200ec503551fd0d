"""DVC around the workflow: each stage's params are the config.yaml keys its paper reads, metrics files hold
table numbers only (provenance in a sidecar), and `dvc params diff`, `dvc plots show`, `dvc exp run -S` /
`dvc exp show` work as docs/dvc-and-report.md says.

The DVC commands run in small git repositories under tmp_path: a copy of the real dvc.yaml, config.yaml and
plot templates (params diff, plots show), or a toy stage with the same params/metrics/plots structure
(exp run, which would otherwise run the whole workflow).
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO, rendered_dom, snakemake_env

from affrepro import curves, environment
from affrepro.papers import PAPERS
from affrepro.tables import sidecar_path, training_environments
from affrepro.verify import machines

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="DVC's params diff and experiments need git")


def dvc_yaml() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())


def env() -> dict:
    who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return snakemake_env() | {"DVC_NO_ANALYTICS": "1", **who}


def run(cwd: Path, *cmd: str) -> str:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def dvc(cwd: Path, *args: str) -> str:
    return run(cwd, sys.executable, "-m", "dvc", *args)


def git_dvc_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    run(path, "git", "init", "-q")
    dvc(path, "init", "-q")
    return path


def commit(path: Path) -> None:
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-q", "-m", "state")


def lookup(tree: dict, dotted: str):
    for key in dotted.split("."):
        assert isinstance(tree, dict) and key in tree, f"no {dotted!r} in config.yaml"
        tree = tree[key]
    return tree


def stage_params(stage: dict) -> list[str]:
    return [key for entry in stage.get("params", []) if isinstance(entry, dict) for key in entry.get("config.yaml", [])]


@pytest.mark.parametrize("paper", PAPERS)
def test_each_stage_depends_on_its_papers_config_keys_not_the_whole_file(paper):
    stage, config = dvc_yaml()["stages"][paper], yaml.safe_load((REPO / "config.yaml").read_text())
    assert "config.yaml" not in stage["deps"]
    keys = stage_params(stage)
    assert {"compute.device", "compute.precision", "allow_substitutes", paper, f"demo.overrides.{paper}"} <= set(keys)
    assert "compute" not in keys and "compute.threads" not in keys  # jobs run their rule's threads
    for key in keys:
        lookup(config, key)  # DVC stops on a key config.yaml lacks
    other_papers = {p for p in PAPERS if p != paper}
    assert not [k for k in keys if k.split(".")[0] in other_papers or k.split(".")[-1] in other_papers]


@pytest.mark.parametrize("paper", PAPERS)
def test_metrics_are_numbers_and_provenance_is_a_sidecar_output(paper):
    stage = dvc_yaml()["stages"][paper]
    outs = {next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]}
    metrics = [next(iter(m)) for m in stage["metrics"]]
    assert metrics and all(str(sidecar_path(m)) in outs for m in metrics)
    assert f"results/{paper}/curves/training.csv" in outs
    for metric in metrics:  # every table is committed: its numbers only, its provenance beside it
        assert set(json.loads((REPO / metric).read_text())) == {"rows"}
        assert (REPO / sidecar_path(metric)).is_file()


def test_params_diff_lists_a_changed_key(tmp_path):
    repo = git_dvc_repo(tmp_path / "repo")
    for name in ("dvc.yaml", "config.yaml"):
        shutil.copy(REPO / name, repo / name)
    commit(repo)
    config = (repo / "config.yaml").read_text()
    assert "    lr: 0.1               # paper" in config
    (repo / "config.yaml").write_text(
        config.replace("    lr: 0.1               # paper", "    lr: 0.05              # paper", 1)
    )
    diff = json.loads(dvc(repo, "params", "diff", "--json"))
    assert list(diff) == ["config.yaml"] and list(diff["config.yaml"]) == ["ecan.train.lr"]
    assert (diff["config.yaml"]["ecan.train.lr"]["old"], diff["config.yaml"]["ecan.train.lr"]["new"]) == (0.1, 0.05)


def write_curves(repo: Path, paper: str, runs: int = 2, epochs: int = 4) -> None:
    """A curves CSV as affrepro.curves writes it, from ECAN-style run metrics."""
    files = []
    for r in range(runs):
        history = [
            {
                "epoch": e + 1,
                "train_loss": 2.0 / (e + 1 + r),
                "score": 0.5 + 0.1 * e,
                "lr": 0.1 * (epochs - e) / epochs,
            }
            for e in range(epochs)
        ]
        path = repo / "runs" / f"{r}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"run_id": f"run{r}", "history": history}))
        files.append(path)
    out = repo / "results" / paper / "curves" / "training.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(curves.render(curves.rows("ecan", files)))


def test_plots_show_writes_html_with_the_curves_and_figures(tmp_path):
    repo = git_dvc_repo(tmp_path / "repo")
    shutil.copy(REPO / "dvc.yaml", repo / "dvc.yaml")
    shutil.copytree(REPO / ".dvc" / "plots", repo / ".dvc" / "plots")
    for paper in PAPERS:
        write_curves(repo, paper)
    for figure in ("figure3", "figure4", "figure6", "figure7"):
        (repo / "results" / "ecan" / f"{figure}.csv").write_bytes(
            (REPO / "results" / "ecan" / f"{figure}.csv").read_bytes()
        )
    dvc(repo, "plots", "show", "-o", "dvc_plots")
    html = (repo / "dvc_plots" / "index.html").read_text()
    assert html.count("vegaEmbed(") == 13  # 3 papers x (loss, score, lr) + 4 ECAN figures
    assert '"run": "run1"' in html and '"valid_score": "0.7"' in html and "ECAN Figure 7" in html
    specs = json.loads(dvc(repo, "plots", "show", "--json"))["data"]
    assert specs["emi_lr"][0]["content"]["encoding"]["color"]["field"] == "run"

    # DVC's page loads Vega from a CDN: in a browser without network it draws nothing.
    targets = re.findall(r"vegaEmbed\('#([^']+)'", html)
    assert len(targets) == 13 and "cdn.jsdelivr.net" in html
    assert drawn_charts(rendered_dom(repo / "dvc_plots" / "index.html")) == {}
    # `make plots` (python -m affrepro.offline_plots): the same page with the local libraries draws every chart.
    run(repo, sys.executable, "-m", "affrepro.offline_plots")
    offline = (repo / "dvc_plots" / "index.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in offline and '<meta charset="utf-8">' in offline
    assert re.findall(r"vegaEmbed\('#([^']+)'", offline) == targets
    for name in ("vega", "vega-lite", "vega-embed"):
        assert (
            f'<script src="vendor/{name}.js">' in offline and (repo / "dvc_plots" / "vendor" / f"{name}.js").is_file()
        )
    # The charset counts: a minus sign on the page reads as one (undeclared, Chromium would decode it as windows-1252).
    (repo / "dvc_plots" / "index.html").write_text(
        offline.replace("</body>", '<p id="probe">\u22120.5</p>\n</body>'), encoding="utf-8"
    )
    dom = rendered_dom(repo / "dvc_plots" / "index.html")
    charts = drawn_charts(dom)
    assert sorted(charts) == sorted(targets), f"not drawn offline: {sorted(set(targets) - set(charts))}"
    assert all(w > 0 and h > 0 for w, h in charts.values())
    assert '<p id="probe">\u22120.5</p>' in dom
    # Idempotent: a second run (after `dvc plots show` rewrote the page, or not) gives the same page.
    run(repo, sys.executable, "-m", "affrepro.offline_plots", "--no-show")
    assert (repo / "dvc_plots" / "index.html").read_text(encoding="utf-8").count("<meta charset") == 1


def drawn_charts(dom: str) -> dict[str, tuple[int, int]]:
    """{vegaEmbed target id: (width, height)} of every target that holds a drawn Vega view (a canvas or an svg
    with its `marks` class, which vega-embed puts inside the target's div)."""
    charts = {}
    for target, body in re.findall(r'<div id="([^"]+)"[^>]*>(.*?)(?=<div id="|</body>)', dom, re.S):
        view = re.search(r'<(?:canvas|svg)\b[^>]*\bclass="marks"[^>]*>', body)
        if view:
            size = [re.search(rf'\b{side}="(\d+)"', view[0]) for side in ("width", "height")]
            charts[target] = tuple(int(s[1]) if s else 0 for s in size)
    return charts


TOY_STAGE = """\
import json, pathlib, yaml
from affrepro import curves
config = yaml.safe_load(open("config.yaml"))
lr = config["emi"]["train"]["lr"]
out = pathlib.Path("results/toy")
out.mkdir(parents=True, exist_ok=True)
(out / "table1.json").write_text(json.dumps({"rows": {"ours": {"rho_ours": round(1000 * lr, 6)}}}))
(out / "table1.provenance.json").write_text(json.dumps({"provenance": {"lr": lr}}))
history = [{"epoch": e + 1, "train_loss": lr / (e + 1), "score": 0.1 * e, "lr": lr} for e in range(3)]
pathlib.Path("m.json").write_text(json.dumps({"feature_set": "toy", "seeds": {"0": {"history": history}}}))
(out / "curves").mkdir(exist_ok=True)
(out / "curves" / "training.csv").write_text(curves.render(curves.rows("emi", [pathlib.Path("m.json")])))
"""


def test_exp_run_set_param_shows_parameter_beside_the_numbers(tmp_path):
    """The same structure as dvc.yaml (params from config.yaml, a rows-only metrics file, a sidecar and curves as
    uncached outs, a plot of the curves), with a stage that takes a second."""
    repo = git_dvc_repo(tmp_path / "repo")
    (repo / "config.yaml").write_text(yaml.safe_dump({"emi": {"train": {"lr": 0.001}}, "ecan": {"train": {"lr": 0.1}}}))
    (repo / "stage.py").write_text(TOY_STAGE)
    stage = {
        "cmd": f"{sys.executable} stage.py",
        "deps": ["stage.py"],
        "params": [{"config.yaml": ["emi"]}],
        "outs": [
            {"results/toy/table1.provenance.json": {"cache": False}},
            {"results/toy/curves/training.csv": {"cache": False}},
        ],
        "metrics": [{"results/toy/table1.json": {"cache": False}}],
    }
    plots = [
        {"toy_loss": {"template": "lines_by_run", "x": "epoch", "y": {"results/toy/curves/training.csv": "train_loss"}}}
    ]
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"toy": stage}, "plots": plots}, sort_keys=False))
    shutil.copytree(REPO / ".dvc" / "plots", repo / ".dvc" / "plots")
    dvc(repo, "repro", "-q")
    commit(repo)
    dvc(repo, "exp", "run", "-q", "-S", "config.yaml:emi.train.lr=0.002")
    experiments = json.loads(dvc(repo, "exp", "show", "--json"))
    found = [
        exp["data"]
        for rev in experiments
        for exp in [rev, *[e for branch in rev.get("experiments") or [] for e in branch.get("revs", [])]]
        if exp.get("data", {}).get("params")
    ]
    values = {
        (
            d["params"]["config.yaml"]["data"]["emi"]["train"]["lr"],
            d["metrics"]["results/toy/table1.json"]["data"]["rows"]["ours"]["rho_ours"],
        )
        for d in found
    }
    assert {(0.001, 1.0), (0.002, 2.0)} <= values
    table = dvc(repo, "exp", "show", "--no-pager", "--md")
    assert "emi.train.lr" in table and "rows.ours.rho_ours" in table
    assert "toy_loss" in json.loads(dvc(repo, "plots", "show", "--json"))["data"]


def test_environment_record_names_software_and_machine():
    record = environment.record("cpu", "bf16")
    assert record["device"] == "cpu" and record["precision"] == "bf16" and record["python"] == platform.python_version()
    assert record["packages"]["torch"] == importlib.metadata.version("torch")
    assert record["packages"]["numpy"] == importlib.metadata.version("numpy")
    assert record["cpu"] == environment.cpu_model() and record["cpu"]
    assert "gpu" not in record and "cuda" not in record  # recorded only for a CUDA device
    assert environment.record() == environment.record()  # deterministic within a machine


def test_table_sidecar_collects_the_distinct_training_environments(tmp_path):
    cpu, gpu = {"device": "cpu"}, {"device": "cuda:0", "gpu": "NVIDIA H200", "cuda": "12.4", "cudnn": 90100}
    (tmp_path / "run.json").write_text(json.dumps({"score": 1, "environment": cpu}))
    (tmp_path / "agg.json").write_text(json.dumps({"score": 2, "environments": [gpu, cpu]}))
    rows = [
        {"k": "a", "ours": {"m": {"file": "run.json", "value": "score"}}},
        {"k": "b", "ours": {"m": {"file": "agg.json", "value": "score"}}},
    ]
    paper = {"tables": {"t": {"keys": ["k"], "metrics": {"m": {}}, "rows": rows, "requires": ["x.csv"]}}}
    assert training_environments(paper, "t", tmp_path) == [gpu, cpu]  # files in name order, each record once
    assert str(sidecar_path("results/emi/table3.json")) == "results/emi/table3.provenance.json"
    sidecar = tmp_path / "results" / "table3.provenance.json"
    sidecar.parent.mkdir()
    sidecar.write_text(json.dumps({"environment": {"training": [gpu, cpu]}}))
    assert machines(tmp_path / "results")[0].startswith("device cuda:0, gpu NVIDIA H200")


def test_curves_are_one_row_per_run_and_epoch_in_order(tmp_path):
    history = [
        {"epoch": 2, "train_loss": 0.5, "score": 0.1, "lr": 1e-3},
        {"epoch": 1, "train_loss": 1 / 3, "score": None, "lr": 1e-3},
    ]
    (tmp_path / "m.json").write_text(
        json.dumps({"feature_set": "aus", "seeds": {"1": {"history": history}, "0": {"history": history[:1]}}})
    )
    assert curves.render(curves.rows("emi", [tmp_path / "m.json"])) == (
        "run,epoch,train_loss,valid_score,test_score,lr,collapse\naus/seed0,2,0.5,0.1,,0.001,\n"
        "aus/seed1,1,0.333333,,,0.001,\naus/seed1,2,0.5,0.1,,0.001,\n"
    )
    ecan = [{"epoch": 1, "train_loss": 2.0, "score": 0.25, "test_score": 0.2, "lr": 0.1, "collapse": True}]
    (tmp_path / "ecan.json").write_text(json.dumps({"run_id": "r", "history": ecan}))
    assert curves.render(curves.rows("ecan", [tmp_path / "ecan.json"])).splitlines()[1] == "r,1,2,0.25,0.2,0.1,1"
    (tmp_path / "again.json").write_bytes((tmp_path / "m.json").read_bytes())
    with pytest.raises(SystemExit, match="again.json names run 'aus/seed.', which another metrics file already named"):
        curves.rows("emi", [tmp_path / "m.json", tmp_path / "again.json"])


def test_environment_record_of_a_cuda_device_names_the_gpu_cuda_and_cudnn(monkeypatch):
    """No GPU here: torch's CUDA queries are stood in for, the record's shape is what is checked."""
    import torch

    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"NVIDIA H200 #{index}")
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 90100)
    record = environment.record(torch.device("cuda"), "bf16")
    assert {k: record[k] for k in ("device", "gpu", "cuda", "cudnn", "precision")} == {
        "device": "cuda:0",
        "gpu": "NVIDIA H200 #0",
        "cuda": "12.4",
        "cudnn": 90100,
        "precision": "bf16",
    }
