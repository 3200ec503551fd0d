"""Bad Aff-Wild2 inputs (issue 13): empty folders, header-only annotations, too few videos, unreadable videos.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import helpers
import numpy as np
import pytest
import yaml
from bad_inputs import (
    VIDEO,
)

from affrepro.data import DatasetError, affwild2
from affrepro.files import read_json
from affrepro.va import plan as va_plan
from affrepro.va import prepare as va_prepare

# ------------------------------------------------------------------ Aff-Wild2


def affwild2_root(root: Path, trials: dict[str, Path], rows: int = 4) -> Path:
    """Train trials `a`, `b`... with their crops and video, and one validation trial `v`."""
    import cv2

    for split, names in (("train", list(trials)), ("valid", ["v"])):
        for name in names:
            path = affwild2.annotation_path(root, split, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("valence,arousal\n" + "0.1,0.2\n" * rows)
            (root / "cropped_aligned" / name).mkdir(parents=True)
            for frame in range(rows):
                cv2.imwrite(str(affwild2.frame_path(root, name, frame)), np.full((112, 112, 3), 60, np.uint8))
    (root / "videos").mkdir()
    for name, video in {**trials, "v": VIDEO}.items():
        shutil.copy(video, root / "videos" / f"{name}.mp4")
    return root


def test_an_empty_affwild2_split_folder_is_named(tmp_path):
    root = affwild2_root(tmp_path / "aff", {"a": VIDEO})
    affwild2.annotation_path(root, "valid", "v").unlink()
    with pytest.raises(DatasetError, match=r"Validation_Set: no annotation files"):
        affwild2.list_trials(root)


def test_a_header_only_annotation_is_named(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("valence,arousal\n")
    with pytest.raises(DatasetError, match=rf"{re.escape(str(path))}: no annotation rows after the header"):
        affwild2.read_annotation(path)


def test_too_few_affwild2_videos_for_the_folds_stop_start_up(tmp_path):
    root = affwild2_root(tmp_path / "aff", {"a": VIDEO, "b": VIDEO})
    config = helpers.repo_config()
    config["datasets"]["affwild2"]["root"] = str(root)
    with pytest.raises(
        DatasetError, match=r"VA_Estimation_Challenge: 3 annotated video\(s\) cannot fill va.cv.folds = 6 folds"
    ):
        va_plan.check_pool(config, root)


def test_affwild2_unreadable_video_fails_by_default_and_is_left_out_with_skip(media, tmp_path):
    root = affwild2_root(tmp_path / "aff", {"a": VIDEO, "b": media["garbage"]})
    config = helpers.repo_config()
    config["datasets"]["affwild2"]["root"] = str(root)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))

    def prepare():
        manifest = tmp_path / "prep" / "shard0.json"
        va_prepare.main(
            [
                "--config",
                str(tmp_path / "config.yaml"),
                "--root",
                str(root),
                "--shard",
                "0",
                "--shards",
                "1",
                "--out-dir",
                str(tmp_path / "prep" / "shard0"),
                "--manifest",
                str(manifest),
            ]
        )
        return read_json(manifest)

    with pytest.raises(Exception, match=rf"{re.escape(str(root / 'videos' / 'b.mp4'))}: ffmpeg c"):
        prepare()
    config["datasets"]["affwild2"]["on_unreadable"] = "skip"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    manifest = prepare()
    assert (
        sorted(manifest["trials"]) == ["a", "v"]
        and list(manifest["skipped"]) == ["b"]
        and "b.mp4" in manifest["skipped"]["b"]
    )
    assert manifest["trials"]["a"]["audio_coverage"] == {
        "container_s": 2.42,
        "decoded_s": pytest.approx(2.42, abs=0.05),
        "partial": False,
    }
