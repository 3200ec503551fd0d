"""`affrepro check`: a real-layout root with missing and broken weights is reported item by item, exit 1."""

from __future__ import annotations

import subprocess
import sys

import helpers
import torch
import torchvision
import yaml
from bad_inputs import hume_root


def run_check(tmp_path, config: dict, *papers: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "affrepro.cli", "check", "--config", str(path), "--workdir", str(tmp_path)]
    return subprocess.run(command + ["--paper", *papers], capture_output=True, text=True, env=helpers.snakemake_env())


def lines(proc: subprocess.CompletedProcess) -> dict[str, tuple[str, str]]:
    """item name -> (state, detail)"""
    found = {}
    for line in proc.stdout.splitlines()[:-1]:
        paper, state, name, detail = line[:5].strip(), line[6:14].strip(), line[15:43].strip(), line[44:]
        found[f"{paper} {name}"] = (state, detail)
    return found


def test_a_real_root_with_missing_and_broken_weights_is_reported_item_by_item(tmp_path):
    root = hume_root(tmp_path / "hume")
    good = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), good)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    config = helpers.repo_config()
    config["datasets"]["hume_vidmimic2"]["root"] = str(root)
    config["extractors"]["resnet18"]["weights"] = str(tmp_path / "junk.pth")
    config["extractors"]["dino"]["weights"] = None
    config["extractors"]["wav2vec2"]["weights"] = "random"
    proc = run_check(tmp_path, config, "emi")
    assert proc.returncode == 1, proc.stderr
    items = lines(proc)
    assert items["emi hume_vidmimic2"] == ("found", f"{root}: 3 clips (2 train, 1 valid, 0 test)")
    assert items["emi extractors.resnet18.weights"][0] == "wrong"
    assert "junk.pth: cannot be loaded as the paper's model" in items["emi extractors.resnet18.weights"][1]
    assert items["emi extractors.dino.weights"][0] == "missing"
    assert items["emi extractors.wav2vec2.weights"][0] == "wrong"
    assert items["emi extractors.openface.bin"][0] == "missing"
    assert items["emi compute.device"][0] == "found"
    assert proc.stdout.splitlines()[-1].endswith("missing or wrong")

    config["extractors"]["resnet18"]["weights"] = str(good)  # a torchvision ResNet-18 checkpoint loads
    items = lines(run_check(tmp_path, config, "emi"))
    assert items["emi extractors.resnet18.weights"] == ("found", f"{good}: loads into the paper's architecture")


def test_the_demo_config_is_not_ready_for_a_paper_run(tmp_path):
    proc = run_check(tmp_path, helpers.repo_config(), "ecan")
    assert proc.returncode == 1
    items = lines(proc)
    assert items["ecan rafdb"][0] == "missing" and "the embedded demo runs" in items["ecan rafdb"][1]
    assert items["ecan fer2013"][0] == "missing"


def test_the_disk_need_is_the_real_sizes_times_the_bytes_per_frame():
    from affrepro.features import mfcc
    from affrepro.registry import PAPERS

    config = helpers.repo_config()
    config["extractors"]["wav2vec2"] |= {"weights": "random", "random_arch": {"hidden_size": 1024}}
    frames = 210 * 17_246  # mean frames per clip x clips (job_costs.json; EMI Table 1)
    widths = 512 + 34 + 384 + 1024  # resnet18, AUs, DINO ViT-S/16, wav2vec2-large, float32, written twice
    assert PAPERS["emi"].work_bytes(config) == frames * (112 * 112 * 3 + 2 * 4 * widths)
    assert PAPERS["va"].work_bytes(config) == 2_000_000 * 2 * 4 * (512 + 128 + mfcc.DIM)
