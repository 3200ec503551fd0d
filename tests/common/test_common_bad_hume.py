"""Bad Hume-Vidmimic2 inputs (issue 13): empty splits, unreadable videos (fail, or left out with `skip` and noted).

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re
from pathlib import Path

import helpers
import numpy as np
import pytest
import yaml
from bad_inputs import (
    VIDEO,
    hume_root,
    message,
    real_hume_config,
    workdir_with,
)

from affrepro import store
from affrepro.data import DatasetError, hume
from affrepro.emi import pack as emi_pack
from affrepro.emi import plan as emi_plan
from affrepro.emi import prepare as emi_prepare
from affrepro.emi.stats import dataset_stats
from affrepro.features import save_features
from affrepro.files import read_json, write_json
from affrepro.media import unreadable
from affrepro.provenance import left_out, left_out_note

# ------------------------------------------------------------------ Hume-Vidmimic2


@pytest.mark.parametrize("split", ["train", "valid"])
def test_an_empty_hume_split_stops_start_up(split, tmp_path):
    root = hume_root(tmp_path / "hume", **{split: ""})
    with pytest.raises(DatasetError, match=rf"{split}_split.csv: no sample rows \(only a header\)"):
        hume.load_samples(root)
    proc = helpers.snakemake_run(workdir_with(tmp_path, real_hume_config(tmp_path, root)), "-n", "results/table3.csv")
    assert proc.returncode != 0 and f"{root / f'{split}_split.csv'}: no sample rows" in message(proc)


def prepare_job(root: Path, config: dict, stage: str, tmp_path: Path) -> dict:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    manifest = tmp_path / stage / "shard0.json"
    emi_prepare.main(
        [
            "--config",
            str(config_path),
            "--stage",
            stage,
            "--root",
            str(root),
            "--shard",
            "0",
            "--shards",
            "1",
            "--manifest",
            str(manifest),
        ]
    )
    return read_json(manifest)


def test_hume_unreadable_video_fails_by_default_and_is_left_out_with_skip(media, tmp_path):
    root = hume_root(
        tmp_path / "hume",
        valid="3,0.5,0.5,0.5,0.5,0.5,0.5\n4,0,0,0,0,0,0\n",
        videos={"1": VIDEO, "2": media["truncated"], "3": media["garbage"], "4": VIDEO},
    )
    config = real_hume_config(tmp_path, root)
    with pytest.raises(Exception, match=rf"{re.escape(str(root / 'raw' / '3.mp4'))}: ffmpeg c"):
        prepare_job(root, config, "audio", tmp_path)
    config["datasets"]["hume_vidmimic2"]["on_unreadable"] = "skip"
    manifests = [prepare_job(root, config, "audio", tmp_path)]
    assert list(manifests[0]["skipped"]) == ["3"] and "moov atom not found" in manifests[0]["skipped"]["3"]
    assert sorted(manifests[0]["samples"]) == ["1", "2", "4"]
    assert manifests[0]["partial"] == ["2"] and manifests[0]["samples"]["2"]["coverage"]["container_s"] == 2.42
    assert manifests[0]["samples"]["1"]["coverage"]["partial"] is False
    stats = dataset_stats(root, manifests)
    assert stats["partitions"]["valid"] == {
        "samples": 1,
        "duration_s": 2.42,
        "skipped": 1,
    }  # Table 1 counts what was used
    assert stats["skipped"] == manifests[0]["skipped"] and list(stats["partial"]) == ["2"]
    splits = emi_plan.labelled_splits(
        {"datasets": config["datasets"], "demo": config["demo"]}, root, left_out=stats["skipped"]
    )
    assert splits["valid"][0] == ["4"] and splits["train"][0] == ["1", "2"]


def test_the_store_and_training_leave_out_what_prepare_skipped(tmp_path):
    """A sample the prepare stage left out (on_unreadable: skip) is not packed, and training plans without it."""
    root = hume_root(
        tmp_path / "hume", valid="3,0.5,0.5,0.5,0.5,0.5,0.5\n4,0,0,0,0,0,0\n", videos={k: VIDEO for k in "1234"}
    )
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(real_hume_config(tmp_path, root)))
    for key in "124":
        save_features(tmp_path / f"{key}.npz", np.full((5, 3), float(key), np.float32), np.arange(5), 5)
    why = {"3": f"{root / 'raw' / '3.mp4'}: ffmpeg cannot read it (moov atom not found)"}
    manifest = {
        "stage": "features",
        "extractor": "au",
        "samples": {k: {"file": str(tmp_path / f"{k}.npz")} for k in "124"},
        "shard": 0,
        "shards": 1,
        "skipped": why,
    }
    write_json(tmp_path / "features.json", manifest)
    emi_pack.main(
        [
            "--config",
            str(config_path),
            "--root",
            str(root),
            "--features",
            str(tmp_path / "features.json"),
            "--out-dir",
            str(tmp_path / "packed"),
            "--manifest",
            str(tmp_path / "packed.json"),
        ]
    )
    assert read_json(tmp_path / "packed.json")["features"]["skipped"] == why
    opened = store.open_store(tmp_path / "packed.json")
    assert opened["train"].keys == ["1", "2"] and opened["valid"].keys == ["4"]


def test_a_left_out_sample_is_noted_in_every_table_row():
    provenance = left_out({"hume_vidmimic2": {"3": "raw/3.mp4: ffmpeg cannot read it"}, "rafdb": {}})
    assert provenance == {"skipped": {"hume_vidmimic2": {"3": "raw/3.mp4: ffmpeg cannot read it"}}}
    assert left_out_note(provenance).startswith("unreadable samples left out: 1 of hume_vidmimic2")
    assert left_out({"rafdb": {}}) == {} and left_out_note({}) == ""


def test_unreadable_says_why(media):
    assert unreadable(media["clip"]) is None
    assert "has no audio stream" in unreadable(media["no_audio"]) and "has no video stream" in unreadable(
        media["speech"]
    )
    assert unreadable(media["truncated"]) is None  # readable, only short: that is `partial`, not unreadable
