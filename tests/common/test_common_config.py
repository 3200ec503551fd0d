import copy

import pytest
import yaml
from helpers import REPO, snakemake_run

from affrepro.config.consistency import check_consistency
from affrepro.config.load import load_config
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import effective_config
from affrepro.config.schema import validate_config
from affrepro.config.weights import check_weights
from affrepro.substitutes import substitutes, substitutes_used


@pytest.fixture()
def config(repo):
    return load_config(repo / "config.yaml")


def test_shipped_config_is_valid_and_paper_defaults(config):
    train = config["emi"]["train"]
    assert (train["lr"], train["batch_size"], train["seq_len"], train["lr_patience"], train["lr_factor"]) == (
        3e-5,
        128,
        300,
        10,
        0.5,
    )
    model = config["emi"]["model"]
    assert (model["tcn_layers"], model["tcn_kernel_size"], model["transformer_layers"], model["transformer_heads"]) == (
        5,
        3,
        2,
        4,
    )
    assert config["emi"]["seeds"] == [0, 1, 2, 3, 4, 5]


def test_misspelt_key_is_named(config):
    bad = copy.deepcopy(config)
    bad["emi"]["train"]["epochz"] = 3
    with pytest.raises(ConfigError) as error:
        validate_config(bad)
    assert "'epochz'" in str(error.value) and "emi.train" in str(error.value)


def test_wrong_type_is_named(config):
    bad = copy.deepcopy(config)
    bad["emi"]["train"]["lr"] = "fast"
    with pytest.raises(ConfigError, match=r"'emi\.train\.lr'"):
        validate_config(bad)


def test_demo_overrides_apply_only_on_demo_data(config):
    demo = effective_config(config, "emi")
    assert demo["profile"] == "demo"
    assert demo["emi"]["train"]["epochs"] == config["demo"]["overrides"]["emi"]["train"]["epochs"]
    assert demo["extractors"]["resnet18"]["weights"] == "random"
    real = copy.deepcopy(config)
    real["datasets"]["hume_vidmimic2"]["root"] = "/data/hume"
    paper = effective_config(real, "emi")
    assert paper["profile"] == "paper"
    assert paper["emi"]["train"] == config["emi"]["train"]


def test_snakemake_stops_at_startup_on_a_bad_key(tmp_path, config):
    bad = copy.deepcopy(config)
    bad["preprocess"]["mtnn"] = {}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(bad))
    proc = snakemake_run(tmp_path, "-n")
    assert proc.returncode != 0
    assert "'mtnn'" in proc.stdout + proc.stderr


def test_cross_key_rules_are_named(config):
    bad = copy.deepcopy(config)
    bad["emi"]["fusions"]["x"] = ["resnet18", "wav2vec3"]
    bad["emi"]["feature_sets"]["mixed"] = {"modality": "A", "extractors": ["resnet18"]}
    bad["emi"]["submission"] = "nope"
    with pytest.raises(ConfigError) as error:
        check_consistency(bad)
    message = str(error.value)
    assert "emi.fusions.x: ['wav2vec3']" in message
    assert "emi.feature_sets.mixed" in message
    assert "emi.submission: 'nope'" in message


def test_real_data_needs_loadable_weights_at_startup(config, tmp_path):
    real = copy.deepcopy(config)
    real["datasets"]["hume_vidmimic2"]["root"] = str(tmp_path)
    with pytest.raises(ConfigError) as error:
        check_weights(effective_config(real, "emi"), "emi")
    message = str(error.value)
    assert "extractors.resnet18.weights is null" in message
    assert "'facebook/dino-vits16'" in message
    assert "extractors.openface.bin is null" in message  # the crop-proxy AUs are a substitute, not the paper's OpenFace
    assert "allow_substitutes" in message
    (tmp_path / "r18.pth").write_bytes(b"x")
    for name, value in [("resnet18", str(tmp_path / "r18.pth")), ("dino", "random"), ("wav2vec2", str(tmp_path))]:
        real["extractors"][name]["weights"] = value
    with pytest.raises(ConfigError) as error:
        check_weights(effective_config(real, "emi"), "emi")
    message = str(error.value)
    assert "extractors.dino.weights is `random`" in message and "extractors.openface.bin is null" in message
    assert "resnet18" not in message and "wav2vec2" not in message  # a local path is the paper's model
    real["allow_substitutes"] = True
    check_weights(effective_config(real, "emi"), "emi")  # the opt-in accepts both substitutes
    assert sorted(substitutes(effective_config(real, "emi"), "emi")) == ["extractor:dino", "openface:au"]
    assert substitutes_used(effective_config(real, "emi"), "emi", ["resnet18", "au"]) == [
        substitutes(effective_config(real, "emi"), "emi")["openface:au"]
    ]


def test_demo_data_has_no_substitutes(config):
    assert substitutes(effective_config(config, "emi"), "emi") == {}
    check_weights(effective_config(config, "va"), "va")


def test_real_rafdb_with_random_encoder_is_a_substitute(config, tmp_path):
    real = copy.deepcopy(config)
    real["datasets"]["rafdb"]["root"] = str(tmp_path)
    real["datasets"]["fer2013"]["path"] = str(tmp_path / "fer2013.csv")
    real["ecan"]["rafdb"]["weights"] = "random"
    with pytest.raises(ConfigError, match="ecan.rafdb.weights is `random`"):
        check_weights(effective_config(real, "ecan"), "ecan")
    real["allow_substitutes"] = True
    assert list(substitutes(effective_config(real, "ecan"), "ecan")) == [
        "encoder:rafdb"
    ]  # FER2013 from scratch is the paper's protocol


def test_ecan_encoder_messages_come_from_its_declaration(config, tmp_path):
    """The texts name the paper's encoder (ECAN's Encoder: ResNet-18, torchvision layout, RAF-DB pretrained on
    MS-Celeb-1M), word for word as a reader meets them at start-up and in a row's note."""
    real = copy.deepcopy(config)
    real["datasets"]["rafdb"]["root"] = str(tmp_path)
    real["datasets"]["fer2013"]["path"] = str(tmp_path / "fer2013.csv")
    real["ecan"]["rafdb"]["weights"] = "random"
    real["ecan"]["fer2013"]["weights"] = None
    with pytest.raises(ConfigError) as raised:
        check_weights(effective_config(real, "ecan"), "ecan")
    assert raised.value.args[0].splitlines()[1:3] == [
        "  - ecan.fer2013.weights is null: give the encoder checkpoint (paper: ResNet-18 pretrained on MS-Celeb-1M "
        "for RAF-DB) or `random`",
        "  - ecan.rafdb.weights is `random`: ResNet-18 trains from random init instead of the paper's MS-Celeb-1M "
        "pretraining; give the MS-Celeb-1M ResNet-18 checkpoint (torchvision key layout)",
    ]
    real["ecan"]["fer2013"]["weights"] = str(tmp_path / "missing.pt")
    with pytest.raises(ConfigError) as raised:
        check_weights(effective_config(real, "ecan"), "ecan")
    assert (
        f"ecan.fer2013.weights: {tmp_path / 'missing.pt'} does not exist; give a local torchvision-layout ResNet-18 "
        "checkpoint or `random`" in raised.value.args[0]
    )
    real["allow_substitutes"] = True
    assert substitutes_used(effective_config(real, "ecan"), "ecan", ["rafdb", "fer2013"]) == [
        "ecan.rafdb.weights is `random`: ResNet-18 trains from random init instead of the paper's MS-Celeb-1M pretraining"
    ]


def test_schema_names_exactly_the_emi_extractors():
    from affrepro.emi.extractors import AUDIO, EXTRACTORS, VISUAL
    from affrepro.emi.features import VISUAL_ENCODERS

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    feature_set = schema["properties"]["emi"]["properties"]["feature_sets"]["additionalProperties"]
    assert feature_set["properties"]["extractors"]["items"]["enum"] == list(EXTRACTORS)
    assert set(VISUAL_ENCODERS) == set(VISUAL) and set(VISUAL) | set(AUDIO) == set(EXTRACTORS)


def test_an_unreadable_or_malformed_config_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot be read \(No such file or directory\)"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("compute: {device: cpu\n")
    with pytest.raises(ConfigError, match=r"(?s)bad\.yaml: not valid YAML \(.*line 2, column 1"):
        load_config(bad)
