"""Job settings (affrepro.jobsettings): one declaration gives a job's keys, its values and its paper's DVC keys."""

import copy
from dataclasses import FrozenInstanceError, dataclass

import pytest
from helpers import repo_config

from affrepro import jobconfig, registry
from affrepro.config.resolve import effective_config
from affrepro.ecan import plan as ecan_plan
from affrepro.jobsettings import JobSettings, OnDevice, cut, derived, part, setting


@dataclass(frozen=True, kw_only=True)
class Toy(OnDevice, module="toy.job"):
    branch: str
    seeds: list = setting("toy.seeds")
    block: dict = setting("toy.blocks.{branch}", choices={"branch": ("a", "b")})
    audio: dict = setting("toy.audio", when={"branch": ("b",)})
    total: int = derived(
        lambda config, branch, **_: [f"toy.blocks.{branch}.n"],
        lambda config, branch, **_: 2 * config["toy"]["blocks"][branch]["n"],
    )
    data: dict = part(lambda config: ["toy.data"] + (["toy.demo"] if config["toy"]["data"] is None else []))


CONFIG = {
    "compute": {"device": "cpu", "precision": "fp32", "threads": 3},
    "toy": {
        "seeds": [0, 1],
        "blocks": {"a": {"n": 4}, "b": {"n": 5}},
        "audio": {"rate": 16000},
        "data": None,
        "demo": {"k": 1},
    },
}


def test_the_keys_follow_the_fields_the_branch_and_the_config():
    assert Toy.keys(CONFIG, branch="a", shard="3") == (
        "compute.device",
        "compute.precision",
        "toy.blocks.a",
        "toy.blocks.a.n",
        "toy.data",
        "toy.demo",
        "toy.seeds",
    )
    assert "toy.audio" in Toy.keys(CONFIG, branch="b")  # `when`
    real = copy.deepcopy(CONFIG) | {"toy": CONFIG["toy"] | {"data": "/data"}}
    assert "toy.demo" not in Toy.keys(real, branch="a")  # a part's keys depend on the config's values


def test_the_values_are_read_from_those_keys_and_frozen():
    toy = Toy.from_config(CONFIG, branch="b")
    assert (toy.branch, toy.seeds, toy.block, toy.audio, toy.total) == ("b", [0, 1], {"n": 5}, {"rate": 16000}, 10)
    assert toy.data == {"toy": {"data": None, "demo": {"k": 1}}}
    assert toy.compute == {"device": "cpu", "precision": "fp32", "threads": 3}  # threads: the rule's, not a key
    assert Toy.from_config(CONFIG, branch="a").audio is None
    with pytest.raises(FrozenInstanceError):
        toy.seeds = [2]
    with pytest.raises(KeyError, match="toy.job: the config has no toy.blocks.c"):
        Toy.from_config(CONFIG, branch="c")


def test_stage_keys_expand_the_choices_and_leave_derived_keys_to_the_paper():
    assert Toy.stage_keys() == (
        "compute.device",
        "compute.precision",
        "toy.seeds",
        "toy.blocks.a",
        "toy.blocks.b",
        "toy.audio",
    )

    @dataclass(frozen=True, kw_only=True)
    class Open(JobSettings, module="toy.open"):
        name: str
        block: dict = setting("toy.blocks.{name}.inner")

    assert Open.stage_keys() == ("toy.blocks",)  # no choices: cut before the braces

    @dataclass(frozen=True, kw_only=True)
    class Nameless(JobSettings, module="toy.nameless"):
        name: str
        block: dict = setting("{name}.inner")

    with pytest.raises(ValueError, match="names no key before its first field"):
        Nameless.stage_keys()


def test_a_plain_default_is_not_a_field_the_job_must_give_and_when_takes_one_value():
    @dataclass(frozen=True, kw_only=True)
    class Quiet(JobSettings, module="toy.quiet"):
        branch: str
        progress: bool = False
        audio: dict = setting("toy.audio", when={"branch": "b"})  # one value, not its letters

    assert Quiet.own_fields() == ["branch"]
    assert Quiet.keys(CONFIG, branch="b") == ("toy.audio",) and Quiet.keys(CONFIG, branch="") == ()
    assert Quiet.from_config(CONFIG, branch="a") == Quiet(branch="a")


def test_a_job_reading_its_view_reads_the_same_values_as_from_the_whole_config(tmp_path):
    """The workflow writes a job's view from keys(); the job builds its settings from that view alone."""
    config = effective_config(repo_config(), "emi")
    for module, fields in (
        ("emi.train", {"feature_set": "resnet18_aus"}),
        ("emi.aggregate", {"fusion": next(iter(config["emi"]["fusions"]))}),
        ("emi.features", {"extractor": "au"}),
        ("emi.prepare", {"stage": "faces"}),
    ):
        path, content = jobconfig.view_file("emi", module, config, **fields)
        (tmp_path / "work" / "config").mkdir(parents=True, exist_ok=True)
        view = jobconfig.load_view(copy.deepcopy(content), tmp_path / path)
        if dict.__contains__(view, "compute"):  # as affrepro.jobs does
            view["compute"] = dict(jobconfig.plain(view["compute"])) | {"threads": 1}
        whole = copy.deepcopy(config)
        whole["compute"]["threads"] = 1
        cls = jobconfig.settings_class("emi", module)
        assert cls.from_config(view, **fields) == cls.from_config(whole, **fields), module


def _real(config: dict) -> dict:
    real = copy.deepcopy(config)
    for paper in registry.PAPERS.values():
        for name, dataset in paper.datasets.items():
            real["datasets"][name][dataset.location_key] = f"/data/{name}"
    return real


@pytest.mark.parametrize("data", ["demo", "real"])
@pytest.mark.parametrize("paper", list(registry.PAPERS))
def test_every_key_a_job_reads_is_a_key_of_its_papers_dvc_stage(paper, data):
    raw = repo_config() if data == "demo" else _real(repo_config())
    config = effective_config(raw, paper)
    listed = registry.config_keys(registry.paper(paper), raw["demo"]["overrides"])
    wildcards = {
        "stage": ("faces", "audio"),
        "extractor": ("au", "resnet18", "dino", "wav2vec2"),
        "feature_set": tuple(config.get("emi", {}).get("feature_sets", {})),
        "fusion": tuple(config.get("emi", {}).get("fusions", {})),
        "va_extractor": ("iresnet50", "vggish", "mfcc"),
        "dataset": ecan_plan.DATASETS,
        "setting": tuple(ecan_plan.setting_runs(config)) if paper == "ecan" else (),
    }
    for module, cls in registry.job_settings(registry.paper(paper)).items():
        names = [n for n in cls.own_fields() if n in wildcards]  # ECAN training: job_fields sets its dataset
        combinations = [{}]
        for name in names:
            combinations = [c | {name: value} for c in combinations for value in wildcards[name]]
        for fields in combinations:
            for key in cls.keys(config, **fields):
                assert key == "profile" or any(key == k or key.startswith(k + ".") for k in listed), (module, key)


def test_cut_keeps_only_the_keys_nested_as_in_the_config():
    assert cut(CONFIG, ["toy.blocks.a", "toy.missing", "compute.device"]) == {
        "toy": {"blocks": {"a": {"n": 4}}},
        "compute": {"device": "cpu"},
    }
