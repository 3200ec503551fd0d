"""Each job reads only the config keys its module lists (affrepro.jobconfig), strictly; DVC lists them too."""

import copy
import pickle
from pathlib import Path

import helpers
import pytest
import yaml

from affrepro import jobconfig
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import deep_merge, effective_config
from affrepro.jobconfig import StrictConfig, UndeclaredKeyError
from affrepro.jobsettings import cut


def _config() -> dict:
    return {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": {"g": [1, 2]}, "h": 4}


def _strict(keys: tuple[str, ...], tmp_path: Path) -> StrictConfig:
    content = {jobconfig.VIEW_KEY: {"module": "toy", "keys": list(keys)}, **cut(_config(), keys)}
    path = tmp_path / f"toy-{jobconfig.sha256_json(content)[:16]}.yaml"
    return jobconfig.load_view(content, path)


def test_a_view_holds_the_listed_keys_and_refuses_every_other(tmp_path):
    config = _strict(("a.c", "f", "x.y"), tmp_path)
    assert config["a"]["c"] == {"d": 2, "e": 3} and config["f"]["g"] == [1, 2]
    assert type(config["a"]["c"]) is dict  # a listed value is plain: it can be hashed, dumped, copied
    assert config.get("x", "absent") == "absent"  # listed but not in the config
    assert "y" not in config.get("x", {}) and config["a"].get("c") == {"d": 2, "e": 3}
    for read in (
        lambda: config["h"],
        lambda: config.get("h"),
        lambda: "h" in config,
        lambda: config["a"]["b"],
        lambda: list(config["a"]),
        lambda: config["a"].items(),
        lambda: dict(config),
    ):
        with pytest.raises(UndeclaredKeyError, match="toy"):
            read()
    # A missing key that a listed key covers is an ordinary KeyError, as in any dict.
    with pytest.raises(KeyError):
        config["a"]["c"]["zz"]
    # Copies and pickles keep the values and the strictness.
    for copied in (copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        assert copied["a"]["c"]["e"] == 3 and jobconfig.plain(copied) == {
            "a": {"c": {"d": 2, "e": 3}},
            "f": {"g": [1, 2]},
        }
        with pytest.raises(UndeclaredKeyError):
            copied["h"]


def test_the_view_changes_exactly_when_a_listed_value_changes():
    keys = ("a.c.d", "f")
    first = cut(_config(), keys)
    other = _config() | {"h": 5}
    other["a"]["c"]["e"] = 30
    assert cut(other, keys) == first  # unlisted values changed: same view, same file
    changed = _config()
    changed["a"]["c"]["d"] = 20
    assert cut(changed, keys) != first


def test_a_job_view_edited_by_hand_is_refused(tmp_path):
    config = helpers.tiny_config("ecan")
    path, content = jobconfig.view_file("ecan", "ecan.stats", effective_config(config, "ecan"))
    path = tmp_path / path
    jobconfig.write_view(path, content)
    from affrepro import jobs

    assert jobs.paper_config(path, "ecan")["ecan"]["augment"] == config["ecan"]["augment"]
    edited = yaml.safe_load(path.read_text())
    edited["ecan"]["augment"]["rafdb"]["levels"]["none"] = ["crop"]
    path.write_text(yaml.safe_dump(edited))
    with pytest.raises(ConfigError, match="no longer matches the hash in its name"):
        jobs.paper_config(path, "ecan")
    jobconfig.write_view(path, content)  # the workflow writes it again
    assert yaml.safe_load(path.read_text()) == content


def test_the_ecan_training_view_holds_its_own_dataset_only():
    config = effective_config(helpers.repo_config(), "ecan")
    _, rafdb = jobconfig.view_file("ecan", "ecan.train", config, setting="rafdb-strong-ce-l1_0.2-l2_0.7-V5")
    _, fer = jobconfig.view_file("ecan", "ecan.train", config, setting="fer2013-none-ensc+mva-l1_0.2-l2_0.7-V5")
    assert set(rafdb["ecan"]) == {"loss", "model", "train", "seeds", "rafdb", "augment"} and set(
        rafdb["ecan"]["augment"]
    ) == {"rafdb"}
    assert set(fer["datasets"]) == {"fer2013"} and "rafdb" not in fer["ecan"]
    assert fer["compute"] == {"device": config["compute"]["device"], "precision": config["compute"]["precision"]}


def test_the_dvc_check_finds_a_key_dvc_does_not_list(tmp_path):
    """The check the workflow tests run on their job views, on a view that reads an unlisted key."""
    config = deep_merge(helpers.repo_config(), {"demo": {"overrides": {"preprocess": {"fps": 5}}}})
    content = {jobconfig.VIEW_KEY: {"module": "toy", "keys": ["va.seed", "preprocess.fps", "extractors.dino"]}}
    jobconfig.write_view(tmp_path / "work" / "config" / "toy-0.yaml", content)
    assert helpers.views_within_dvc_params(tmp_path, "va", config) == [
        "toy: preprocess.fps",
        "toy: demo.overrides.preprocess.fps",
        "toy: extractors.dino",
        "toy: demo.overrides.extractors.dino.weights",  # config.yaml's own demo overrides of DINO
        "toy: demo.overrides.extractors.dino.image_size",
    ]
    assert helpers.views_within_dvc_params(tmp_path, "emi", config) == ["toy: va.seed"]
