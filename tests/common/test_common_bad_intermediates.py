"""Damaged intermediate files (issue 21.9): each is named with what to do, never read as if it were sound.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it."""

from __future__ import annotations

import re

import helpers
import numpy as np
import pytest
import yaml

from affrepro import jobconfig, jobs
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import effective_config
from affrepro.features import save_features
from affrepro.files import CorruptFileError, read_json, write_json
from affrepro.store import open_store, pack


def test_a_truncated_json_names_the_file_and_how_to_remake_it(tmp_path):
    path = tmp_path / "work" / "ecan" / "runs" / "x" / "metrics.json"
    write_json(path, {"run_id": "x", "test": {"accuracy": 0.5}})
    path.write_text(path.read_text()[:20])
    with pytest.raises(CorruptFileError, match=rf"{re.escape(str(path))}: not valid JSON .*rm {re.escape(str(path))}"):
        read_json(path)


def test_non_finite_values_in_a_packed_store_name_the_store_and_the_sample(tmp_path):
    rng = np.random.default_rng(0)
    for key in ("a", "b"):
        save_features(tmp_path / f"{key}.npz", rng.normal(size=(4, 3)).astype(np.float32), np.arange(4), 4)
    files = {k: tmp_path / f"{k}.npz" for k in ("a", "b")}
    pack("x", {"train": ["a", "b"]}, files, tmp_path / "p", tmp_path / "p.json")
    data = tmp_path / "p" / "train.npy"
    array = np.load(data)
    array[5, 1] = np.nan  # sample b, its second row
    np.save(data, array)
    split = open_store(tmp_path / "p.json")["train"]
    assert np.isfinite(split.rows("a")).all()
    with pytest.raises(
        ValueError, match=rf"{re.escape(str(data))}: sample b holds non-finite values .* rerun its pack job"
    ):
        split.rows("b")
    # and a feature file with NaNs is named when it is packed
    features = np.ones((2, 3), np.float32)
    np.savez(tmp_path / "c.npz", features=features * np.nan, frame_index=np.arange(2), n_frames=np.int64(2))
    with pytest.raises(ValueError, match=rf"{re.escape(str(tmp_path / 'c.npz'))}: the features hold non-finite values"):
        pack("x", {"train": ["c"]}, {"c": tmp_path / "c.npz"}, tmp_path / "q", tmp_path / "q.json")


def test_a_hand_edited_job_config_is_refused_by_jobs_and_rewritten_by_the_workflow(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = effective_config(helpers.repo_config(), "emi")
    path, content = jobconfig.view_file("emi", "emi.train", config, feature_set="aus")
    jobconfig.write_view(path, content)
    assert jobs.paper_config(path, "emi")["emi"]["train"] == config["emi"]["train"]
    edited = yaml.safe_load(open(path).read())
    edited["emi"]["train"]["epochs"] = 1
    (tmp_path / path).write_text(yaml.safe_dump(edited))
    with pytest.raises(ConfigError, match=rf"{re.escape(path)}: its content no longer matches the hash in its name"):
        jobs.parse("a job", "emi", ["--config", path])
    jobconfig.write_view(path, content)  # the workflow's start writes it again, and says so
    assert "edited by hand?" in capsys.readouterr().err
    assert jobs.paper_config(path, "emi")["emi"]["train"] == config["emi"]["train"]
