"""VA paper: Aff-Wild2 annotations, trials and frames, and the plan of trials and shards."""

import cv2
import numpy as np
import pytest

from affrepro.data import DatasetError, affwild2
from affrepro.va import plan
from affrepro.va.prepare import load_frames


def test_annotation_rows_without_minus_five(tmp_path):
    path = tmp_path / "trial.txt"
    path.write_text("valence,arousal\n0.1,0.2\n-5,-5\n-5,-5\n0.3,-0.4\n0.5,0.6\n")
    values = affwild2.read_annotation(path)
    assert values.tolist() == [[0.1, 0.2], [-5, -5], [-5, -5], [0.3, -0.4], [0.5, 0.6]]
    assert affwild2.valid_rows(values).tolist() == [0, 3, 4]
    assert values[affwild2.valid_rows(values)].tolist() == [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]


@pytest.mark.parametrize(
    "text, message",
    [
        ("v,a\n0.1,0.2\n", "header"),
        ("valence,arousal\n0.1,1.5\n", "line 2"),
        ("valence,arousal\n0.1,0.2\n0.1\n0.2\n", "line 3"),  # one value per line must not pair up into rows
        ("valence,arousal\n0.1,0.2,0.3,0.4\n", "line 2"),
    ],
)
def test_bad_annotation_names_the_file(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message) as error:
        affwild2.read_annotation(path)
    assert str(path) in str(error.value)


def test_pad_repeats_last_row_and_trim_cuts_the_end():
    features = np.array([[1.0, 10], [2, 20], [3, 30]])
    assert affwild2.fit_length(features, 5).tolist() == [[1, 10], [2, 20], [3, 30], [3, 30], [3, 30]]
    assert affwild2.fit_length(features, 2).tolist() == [[1, 10], [2, 20]]
    assert affwild2.fit_length(features, 3).tolist() == features.tolist()


def test_missing_frames_take_the_last_available_one():
    available = np.array([False, True, False, False, True, True, False])
    assert affwild2.fill_missing(available).tolist() == [1, 1, 1, 1, 4, 5, 5]
    assert affwild2.fill_missing(np.zeros(3, bool)).tolist() == [-1, -1, -1]


def write_real_layout(root, splits: dict[str, list[str]], videos: list[str]) -> None:
    for split, names in splits.items():
        for name in names:
            path = affwild2.annotation_path(root, split, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("valence,arousal\n0,0\n")
    (root / "videos").mkdir()
    for video in videos:
        (root / "videos" / f"{video}.mp4").write_bytes(b"")


def test_trials_and_pairs(tmp_path):
    write_real_layout(tmp_path, {"train": ["a", "vid_left", "vid_right"], "valid": ["b"]}, ["a", "vid", "b", "c"])
    trials = affwild2.list_trials(tmp_path)
    assert [(t.name, t.split) for t in trials] == [
        ("a", "train"),
        ("vid_left", "train"),
        ("vid_right", "train"),
        ("b", "valid"),
        ("c", "test"),
    ]
    assert [affwild2.video_group(t.name) for t in trials] == ["a", "vid", "vid", "b", "c"]
    assert affwild2.video_path(tmp_path, trials[2]) == tmp_path / "videos" / "vid.mp4"
    assert trials[3].annotation == tmp_path / "VA_Estimation_Challenge" / "Validation_Set" / "b.txt"


def test_plan_of_a_real_root_lists_annotated_trials_and_shards_them(tmp_path):
    write_real_layout(tmp_path, {"train": ["a", "vid_left", "vid_right"], "valid": ["b"]}, ["a", "vid", "b", "c"])
    config = {"datasets": {"affwild2": {"root": str(tmp_path)}}, "va": {"preprocess": {"shards": 8}}}
    assert plan.trials(config, tmp_path) == ["a", "vid_left", "vid_right", "b"]  # the test video "c" is not in the pool
    assert plan.annotation_files(config, tmp_path)[-1] == str(
        tmp_path / "VA_Estimation_Challenge" / "Validation_Set" / "b.txt"
    )
    assert plan.n_shards(config, tmp_path) == 4
    assert [plan.shard(config, tmp_path, k, 2) for k in range(2)] == [["a", "vid_right"], ["vid_left", "b"]]


def test_plan_of_the_demo_comes_from_the_generator_parameters(tmp_path):
    config = {
        "datasets": {"affwild2": {"root": None}},
        "demo": {"affwild2": {"n_train": 4, "n_valid": 2, "n_test": 1}},
        "va": {"preprocess": {"shards": 8}},
    }
    assert plan.trials(config, tmp_path) == [
        "demo-000",
        "demo-001",
        "pair-video_left",
        "pair-video_right",
        "demo-002",
        "demo-003",
    ]
    assert plan.annotation_files(config, "root")[0] == "root/VA_Estimation_Challenge/Train_Set/demo-000.txt"
    assert plan.annotation_files(config, "root")[-1] == "root/VA_Estimation_Challenge/Validation_Set/demo-003.txt"
    assert plan.n_shards(config, tmp_path) == 6


def test_rows_map_to_crops_numbered_from_one_and_gaps_are_filled(tmp_path):
    assert affwild2.frame_path(tmp_path, "t", 0) == tmp_path / "cropped_aligned" / "t" / "00001.jpg"
    folder = tmp_path / "cropped_aligned" / "t"
    folder.mkdir(parents=True)
    for frame in (1, 2, 4):  # video frames 1, 2, 4 (0-based) have crops; 3 is missing
        cv2.imwrite(str(folder / f"{frame + 1:05d}.jpg"), np.full((112, 112, 3), 40 * frame, np.uint8))
    frames, missing = load_frames(tmp_path, "t", np.array([1, 2, 3, 4]), 48)  # rows 0 and 5.. were -5
    assert frames.shape == (4, 48, 48, 3) and missing == 1
    assert [int(np.median(f)) for f in frames] == [40, 80, 80, 160]  # row 3 takes row 2's crop
