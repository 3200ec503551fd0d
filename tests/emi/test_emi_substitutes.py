"""Real EMI data never runs a stand-in silently: start-up refuses it, or (opted in) every run file names it."""

import os
import subprocess
import sys

import numpy as np
import yaml
from helpers import repo_config, snakemake_command

from affrepro.config.resolve import effective_config
from affrepro.data.hume import LABELS
from affrepro.emi import aggregate, train
from affrepro.emi.settings import Fusion, Train
from affrepro.features import save_features
from affrepro.store import open_store, pack
from affrepro.substitutes import substitutes

DEFAULT_HUB_IDS = ["facebook/dino-vits16", "audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim"]


def real_root(path, n_train=4, n_valid=4, n_test=1):
    """A Hume-Vidmimic2 root in the real layout: split CSVs with the 7 columns, stub videos under raw/."""
    (path / "raw").mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = iter(range(1, n_train + n_valid + n_test + 1))
    for partition, n in (("train", n_train), ("valid", n_valid)):
        rows = [f"{next(ids)}," + ",".join(f"{v:.3f}" for v in rng.uniform(0, 1, 6)) for _ in range(n)]
        (path / f"{partition}_split.csv").write_text("Filename," + ",".join(LABELS) + "\n" + "\n".join(rows) + "\n")
    for file_id in range(1, n_train + n_valid + n_test + 1):
        (path / "raw" / f"{file_id}.mp4").write_bytes(b"stub")
    return path


def dry_run(workdir, config):
    """`snakemake -n emi_tables` as a user runs it, with an empty Hugging Face cache; returns the process (may fail)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        HF_HUB_CACHE=str(workdir / "empty-hf-cache"),
        PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
    )
    cmd = [*snakemake_command(workdir, str(workdir / "config.yaml")), "--cores", "1", "-n", "emi_tables"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def real_config(root, allow=False, random=False):
    config = repo_config()
    config["datasets"]["hume_vidmimic2"]["root"] = str(root)
    config["allow_substitutes"] = allow
    for extractor in ("resnet18", "dino", "wav2vec2") if random else ():
        config["extractors"][extractor]["weights"] = "random"
    return config


def test_real_root_with_default_extractors_stops_at_start_up_naming_every_key(tmp_path):
    proc = dry_run(tmp_path / "run", real_config(real_root(tmp_path / "hume")))
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    for key in [
        "extractors.openface.bin",
        "extractors.resnet18.weights",
        "extractors.dino.weights",
        "extractors.wav2vec2.weights",
        *DEFAULT_HUB_IDS,
    ]:
        assert key in message, key
    assert "allow_substitutes" in message
    assert "emi_train" not in message  # stopped before planning any job


def test_real_root_with_the_opt_in_and_random_weights_plans_the_jobs(tmp_path):
    proc = dry_run(tmp_path / "run", real_config(real_root(tmp_path / "hume"), allow=True, random=True))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rule in ("emi_prepare", "emi_features", "emi_train", "emi_aggregate", "paper_table"):
        assert rule in proc.stdout, rule
    assert "emi_demo_data" not in proc.stdout


def texts(config, *components):
    found = substitutes(config, "emi")
    return [found[c] for c in components]


def write_features(tmp_path, keys, extractor, dim, rng):
    files = {}
    for key in keys:
        path = tmp_path / extractor / f"{key}.npz"
        path.parent.mkdir(exist_ok=True)
        save_features(path, rng.normal(0, 1, (10, dim)), np.arange(10), 10)
        files[key] = path
    return files


def test_train_and_fusion_metrics_name_the_substitutes_their_extractors_ran_with(tmp_path):
    config = effective_config(real_config(tmp_path, allow=True, random=True), "emi")
    config["emi"].update(seeds=[0], fusions={"both": ["resnet18_aus", "wav2vec2"]})
    config["emi"]["train"].update(seq_len=8, epochs=1, batch_size=4)
    rng = np.random.default_rng(1)
    splits = {part: ([f"{part}{i}" for i in range(4)], rng.uniform(0, 1, (4, 6))) for part in ("train", "valid")}
    keys = [k for part in splits.values() for k in part[0]]
    stores = {}
    for extractor, dim in (("resnet18", 3), ("au", 2)):
        files = write_features(tmp_path, keys, extractor, dim, rng)
        pack(
            extractor,
            {part: keys for part, (keys, _) in splits.items()},
            files,
            tmp_path / f"packed-{extractor}",
            tmp_path / f"packed-{extractor}.json",
        )
        stores[extractor] = open_store(tmp_path / f"packed-{extractor}.json")
    runs = tmp_path / "runs"
    metrics = train.run(
        Train.from_config(config, feature_set="resnet18_aus"),
        splits,
        stores,
        {"metrics": runs / "metrics.json", "predictions": runs / "predictions.csv"},
    )
    assert metrics["substitutes"] == texts(config, "extractor:resnet18", "openface:au")

    # a fusion carries the union of its members' substitutes, in member order, once each
    fused = aggregate.fuse(
        Fusion.from_config(config, fusion="both"),
        [runs / "predictions.csv"] * 2,
        splits["valid"],
        {"metrics": tmp_path / "f.json", "predictions": tmp_path / "f.csv"},
    )
    assert fused["substitutes"] == texts(config, "extractor:resnet18", "openface:au", "extractor:wav2vec2")
    config["emi"]["fusions"]["other"] = ["aus", "resnet18_aus"]
    assert fusion_substitutes(config, "other") == texts(config, "openface:au", "extractor:resnet18")


def test_no_substitute_is_recorded_for_the_papers_models_or_on_the_demo(tmp_path):
    (tmp_path / "w2v").mkdir()
    (tmp_path / "openface").write_text("")
    config = real_config(tmp_path, allow=True, random=True)
    config["extractors"]["wav2vec2"]["weights"] = str(tmp_path / "w2v")
    config["extractors"]["openface"]["bin"] = str(tmp_path / "openface")
    resolved = effective_config(config, "emi")
    resolved["emi"]["fusions"] |= {"a": ["aus", "wav2vec2"], "b": ["resnet18", "wav2vec2"]}
    assert fusion_substitutes(resolved, "a") == []
    assert fusion_substitutes(resolved, "b") == texts(resolved, "extractor:resnet18")
    demo = effective_config(repo_config(), "emi")
    demo["emi"]["fusions"]["all"] = list(demo["emi"]["feature_sets"])
    assert fusion_substitutes(demo, "all") == []


def fusion_substitutes(config: dict, fusion: str) -> list[str]:
    """What the fusion job records: the union of its members' substitutes."""
    return Fusion.from_config(config, fusion=fusion).substitutes
