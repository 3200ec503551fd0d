"""Loading, validating and resolving config.yaml.

`load_config` validates against workflow/schemas/config.schema.yaml and stops
with a message naming the offending key. `effective_config` applies the demo
overrides for a paper whose dataset root is null (only the demo dataset's own
settings when a paper mixes real and demo data); everything downstream reads
only the effective config, and its hash goes into every table's provenance.
`apply_command_line` types Snakemake's `--config` values by the schema.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from affrepro.emi.extractors import AUDIO, VISUAL
from affrepro.files import sha256_json

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"

# Which datasets each paper reads; a paper runs on the demo when any of its roots is null.
PAPER_DATASETS = {"emi": ["hume_vidmimic2"], "va": ["affwild2"], "ecan": ["rafdb", "fer2013"]}


class ConfigError(ValueError):
    """A config.yaml problem, with the key path and the fix in the message."""


def read_text(path: str | Path, error: type[Exception]) -> str:
    """A file's text; an unreadable file raises `error` naming it."""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def parse_yaml(text: str, source: str | Path, error: type[Exception]):
    """YAML text's data (safe loading; libyaml's parser when PyYAML has it, the same data ~10x faster:
    the workflow reads config and paper files at every start, and a no-op run should take ~1 s).
    Bad YAML raises `error` naming `source`."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML ({exc})") from exc


def read_yaml(path: str | Path, error: type[Exception] = ConfigError):
    """A YAML file's data; an unreadable file or bad YAML raises `error` naming the file."""
    return parse_yaml(read_text(path, error), path, error)


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


# JSON Schema counts 3.0 as an integer; a count written 3.0 (epochs, shards) would reach code that needs an int,
# so here an integer is a whole number written without a fraction.
StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def validate_config(config: dict, source: str = "config.yaml", schema_path: Path = SCHEMA_PATH) -> None:
    validator = StrictValidator(read_yaml(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    lines = []
    for error in errors:
        path = _key_path(error)
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            known = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
            where = f" under '{path}'" if error.absolute_path else ""
            lines.append(f"unknown key(s) {', '.join(repr(k) for k in unknown)}{where} (allowed: {known})")
        elif error.validator == "pattern" and "description" in error.schema:
            lines.append(f"'{path}': {error.instance!r} is not allowed; it must be {error.schema['description']}")
        else:
            lines.append(f"'{path}': {error.message}")
    raise ConfigError(
        f"{source} is invalid:\n  - "
        + "\n  - ".join(lines)
        + "\nFix these keys (see config.yaml comments and workflow/schemas/config.schema.yaml)."
    )


YAML_NULLS = ("null", "Null", "NULL", "~", "")
YAML_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _branches(node: dict, root: dict) -> list[dict]:
    """A schema node with its $ref, allOf and anyOf parts: every schema a value there must (or may) satisfy."""
    found = [node]
    if "$ref" in node:
        found += _branches(root["$defs"][node["$ref"].rsplit("/", 1)[1]], root)
    for part in node.get("allOf", []) + node.get("anyOf", []):
        found += _branches(part, root)
    return found


def _valid(value, node: dict, root: dict) -> bool:
    return jsonschema.Draft202012Validator({**node, "$defs": root.get("$defs", {})}).is_valid(value)


def _typed_text(text: str, node: dict, root: dict):
    """`text` read as YAML would read it, choosing the reading the schema accepts: null, the text, a boolean, a number.

    When none is accepted, the most specific reading is kept, so the error names the real problem
    (3 below a minimum of 7, not "'3' is not an integer").
    """
    readings = ([None] if text in YAML_NULLS else []) + [text] + ([YAML_BOOLS[text]] if text in YAML_BOOLS else [])
    for parse in (int, float):
        try:
            readings.append(parse(text))
        except ValueError:
            pass
    typed = [reading for reading in readings if not isinstance(reading, str)]
    return next((reading for reading in readings if _valid(reading, node, root)), typed[0] if typed else text)


def coerce_to_schema(value, node: dict, root: dict):
    """`value` with its text leaves typed as the schema says (integers, numbers, booleans, null).

    Snakemake reads a nested `--config key='{a: {b: 3}}'` value as YAML with
    every scalar left as text, so `3` arrives as "3" and `null` as "null"; this
    gives them the types they would have in config.yaml. Text stays text where
    the schema accepts text and the value is not `null` (so a path stays a path).
    """
    branches = _branches(node, root)
    if isinstance(value, dict):

        def child(key):
            for branch in branches:
                if key in branch.get("properties", {}):
                    return branch["properties"][key]
            return next(
                (b["additionalProperties"] for b in branches if isinstance(b.get("additionalProperties"), dict)), {}
            )

        return {key: coerce_to_schema(item, child(key), root) for key, item in value.items()}
    if isinstance(value, list):
        items = next((b["items"] for b in branches if isinstance(b.get("items"), dict)), {})
        return [coerce_to_schema(item, items, root) for item in value]
    if isinstance(value, str):
        return _typed_text(value, node, root)
    return value


def command_line_config(overrides: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Snakemake's `--config` values (nested ones arrive as text) typed against the config schema."""
    schema = read_yaml(schema_path)
    return coerce_to_schema(dict(overrides), schema, schema)


def _drop(tree: dict, dotted: str) -> bool:
    """Remove the leaf at a dotted path (and folders it leaves empty); whether there was one."""
    head, _, rest = dotted.partition(".")
    if head not in tree:
        return False
    if not rest:
        del tree[head]
        return True
    dropped = isinstance(tree[head], dict) and _drop(tree[head], rest)
    if dropped and not tree[head]:
        del tree[head]
    return dropped


def apply_command_line(config: dict, overrides: dict) -> list[str]:
    """Merge Snakemake's `--config` values into `config` (in place, typed by the schema); they win over demo.overrides.

    A value given on the command line is meant: on demo data it is not replaced by
    the demo override of the same key. Returns those keys (`key = value`), for the start-up message.
    """
    given = command_line_config(overrides)
    for key, value in given.items():
        config[key] = (
            deep_merge(config[key], value) if isinstance(value, dict) and isinstance(config.get(key), dict) else value
        )
    demo_overrides = config.get("demo", {}).get("overrides", {})
    return [f"{key} = {value}" for key, value in _leaves(given).items() if _drop(demo_overrides, key)]


def check_consistency(config: dict, source: str = "config.yaml") -> None:
    """Cross-key rules JSON-Schema cannot express, each error naming its key."""
    problems = []
    emi = config["emi"]
    visual, audio = set(VISUAL), set(AUDIO)
    for name, spec in emi["feature_sets"].items():
        allowed = visual if spec["modality"] == "V" else audio
        wrong = [e for e in spec["extractors"] if e not in allowed]
        if wrong:
            problems.append(f"emi.feature_sets.{name}: modality {spec['modality']} cannot use extractor(s) {wrong}")
    for name, members in emi["fusions"].items():
        unknown = [m for m in members if m not in emi["feature_sets"]]
        if unknown:
            problems.append(f"emi.fusions.{name}: {unknown} not in emi.feature_sets")
    if emi["submission"] not in emi["fusions"]:
        problems.append(
            f"emi.submission: {emi['submission']!r} is not one of emi.fusions ({', '.join(emi['fusions'])})"
        )
    model = deep_merge(emi["model"], config["demo"]["overrides"].get("emi", {}).get("model", {}))
    if model["tcn_channels"] % model["transformer_heads"]:
        problems.append("emi.model.transformer_heads must divide emi.model.tcn_channels (the attention width)")
    va = config["va"]
    va_model = deep_merge(va["model"], config["demo"]["overrides"].get("va", {}).get("model", {}))
    if (va_model["tcn_channels"] * len(va["extractors"])) % va_model["transformer_heads"]:
        problems.append(
            "va.model.transformer_heads must divide va.model.tcn_channels x the number of va.extractors (the encoder width)"
        )
    demo_va = config["demo"]["affwild2"]
    labelled = demo_va["n_train"] + demo_va["n_valid"]
    if labelled - 1 < va["cv"]["folds"]:  # the `_left`/`_right` pair is one video; every fold needs at least one video
        problems.append(
            f"demo.affwild2: {labelled} annotated trials ({labelled - 1} videos) cannot fill va.cv.folds = {va['cv']['folds']} folds"
        )
    if problems:
        raise ConfigError(f"{source} is inconsistent:\n  - " + "\n  - ".join(problems))


def check_weights(config: dict, paper: str) -> None:
    """On real data, every model a paper uses must be the paper's, loadable offline, or an allowed substitute.

    Checked at start-up so a run does not stop after hours of preprocessing; one
    message lists every offending key with its fix.
    """
    problems = [*missing_weights(config, paper)]
    if not config["allow_substitutes"]:
        problems += [
            f"{text}; {SUBSTITUTE_FIX[component.split(':')[0]]}"
            for component, text in substitutes(config, paper).items()
        ]
    if problems:
        raise ConfigError(
            "a real-data run cannot use the paper's models:\n  - "
            + "\n  - ".join(problems)
            + "\nFix each key, or set allow_substitutes: true for an exploratory run (every affected table row then names its substitute)."
        )


SUBSTITUTE_FIX = {
    "extractor": "give the paper's checkpoint (a local path or a cached hub id, see README 'Running on the real data')",
    "openface": "set it to OpenFace 2.0's FeatureExtraction binary",
    "encoder": "give the MS-Celeb-1M ResNet-18 checkpoint (torchvision key layout)",
}


def _substitute(config: dict, paper: str, component: str) -> tuple[str, str] | None:
    """The stand-in that runs for one component (an extractor or an ECAN dataset) on real data, if any."""
    if component in ("au", "mfcc"):  # no pretrained weights; AUs may come from OpenFace or its approximation
        if component == "au" and paper == "emi" and config["extractors"]["openface"]["bin"] is None:
            return "openface:au", (
                "extractors.openface.bin is null: the crop-based AU approximation (affrepro.features.au) runs instead of OpenFace 2.0"
            )
        return None
    if paper == "ecan":
        if component == "rafdb" and dataset_location(config, "rafdb") is not None:
            if config["ecan"]["rafdb"]["weights"] == "random":
                return "encoder:rafdb", (
                    "ecan.rafdb.weights is `random`: ResNet-18 trains from random init instead of the paper's MS-Celeb-1M pretraining"
                )
        return None
    if config["extractors"][component]["weights"] == "random":
        return f"extractor:{component}", (
            f"extractors.{component}.weights is `random`: a random-init {component} runs instead of the paper's pretrained model"
        )
    return None


def substitute_keys(config: dict, paper: str, components: list[str]) -> list[str]:
    """The config keys `substitutes_used(config, paper, components)` reads (a job's view lists them)."""
    if paper == "ecan":
        return ["datasets.rafdb", "ecan.rafdb.weights"] if "rafdb" in components else []
    if config["profile"] == "demo":
        return ["profile"]
    return ["profile"] + [
        "extractors.openface.bin" if c == "au" else f"extractors.{c}.weights" for c in components if c != "mfcc"
    ]


def substitutes(config: dict, paper: str) -> dict[str, str]:
    """Stand-ins that would run on real data instead of the paper's models: {component: what runs instead}.

    Components are an extractor name (EMI, VA) or an ECAN dataset whose encoder
    the paper pretrains; each is prefixed with its kind (`extractor:`,
    `openface:`, `encoder:`). The demo always uses stand-ins and every demo
    note says so, so only real datasets count here.
    """
    components = used_extractors(config, paper) if paper != "ecan" else ["rafdb"]
    return dict(substitutes_used_items(config, paper, components))


def substitutes_used_items(config: dict, paper: str, components: list[str]) -> list[tuple[str, str]]:
    """(key, text) of each stand-in among `components`: extractors in name order, then OpenFace's, then encoders.
    Reads only those components' keys (a job's config view lists them, affrepro.jobconfig)."""
    if paper != "ecan" and config["profile"] == "demo":
        return []
    found = [s for c in sorted(set(components)) if (s := _substitute(config, paper, c)) is not None]
    order = {"extractor": 0, "openface": 1, "encoder": 2}
    return sorted(found, key=lambda item: order[item[0].split(":", 1)[0]])


def substitutes_used(config: dict, paper: str, components: list[str]) -> list[str]:
    """The substitutes a job using `components` (extractor or ECAN dataset names) ran with: its metrics file's `substitutes`."""
    return [text for _, text in substitutes_used_items(config, paper, components)]


def missing_weights(config: dict, paper: str) -> list[str]:
    """Real-data weights that are unset or cannot be loaded offline, each with its fix."""
    if config["profile"] == "demo":
        return []
    from huggingface_hub import try_to_load_from_cache

    problems = []
    for extractor in sorted(set(weighted_extractors(config, paper))):
        value = config["extractors"][extractor]["weights"]
        if value is None:
            problems.append(
                f"extractors.{extractor}.weights is null: give a checkpoint path, a cached hub id, or `random`"
            )
        elif value != "random" and not Path(value).expanduser().exists():
            if not isinstance(try_to_load_from_cache(value, "config.json"), str):
                problems.append(
                    f"extractors.{extractor}.weights: {value!r} is neither a local path nor in the local Hugging Face cache; "
                    f"fetch it where there is internet (`huggingface-cli download {value}`) or give a local folder"
                )
    for dataset in (
        [d for d in PAPER_DATASETS["ecan"] if dataset_location(config, d) is not None] if paper == "ecan" else []
    ):
        value = config["ecan"][dataset]["weights"]
        if value is None:
            problems.append(
                f"ecan.{dataset}.weights is null: give the encoder checkpoint (paper: ResNet-18 pretrained on MS-Celeb-1M for RAF-DB) or `random`"
            )
        elif value != "random" and not Path(value).expanduser().exists():
            problems.append(
                f"ecan.{dataset}.weights: {value} does not exist; give a local torchvision-layout ResNet-18 checkpoint or `random`"
            )
    return problems


def used_extractors(config: dict, paper: str) -> list[str]:
    """Every extractor a paper's run uses."""
    if paper == "emi":
        return sorted({e for spec in config["emi"]["feature_sets"].values() for e in spec["extractors"]})
    if paper == "va":
        return list(config["va"]["extractors"])
    return []


def weighted_extractors(config: dict, paper: str) -> list[str]:
    """Extractors with pretrained weights that a paper's run uses (AUs and MFCC have none)."""
    return [e for e in used_extractors(config, paper) if e not in ("au", "mfcc")]


def load_config(path: str | Path = REPO_ROOT / "config.yaml") -> dict:
    path = Path(path)
    config = read_yaml(path, error=ConfigError)
    validate_config(config, source=str(path))
    check_consistency(config, source=str(path))
    return config


def deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def dataset_location(config: dict, name: str) -> str | None:
    """A dataset's root folder (or file, for FER2013); None means the demo."""
    entry = config["datasets"][name]
    return entry["path"] if "path" in entry else entry["root"]


def uses_demo(config: dict, paper: str) -> bool:
    return bool(demo_datasets(config, paper))


def demo_datasets(config: dict, paper: str) -> list[str]:
    """The datasets of a paper that are the demo (location null)."""
    return [name for name in PAPER_DATASETS[paper] if dataset_location(config, name) is None]


def profile(config: dict, paper: str) -> str:
    """`demo` (every dataset of the paper is the demo), `paper` (all real) or `mixed` (ECAN: one real, one demo)."""
    demo = demo_datasets(config, paper)
    return "paper" if not demo else "demo" if len(demo) == len(PAPER_DATASETS[paper]) else "mixed"


def _under_keys(tree: dict, names: list[str]) -> dict:
    """The parts of a nested dict that sit under a key in `names`, with their paths."""
    found = {}
    for key, value in tree.items():
        if key in names:
            found[key] = value
        elif isinstance(value, dict) and (inner := _under_keys(value, names)):
            found[key] = inner
    return found


def demo_overrides(config: dict, paper: str) -> dict:
    """The part of `demo.overrides` a paper's runs get.

    All of it when every dataset of the paper is the demo; none on real data.
    When real and demo datasets are mixed (ECAN), only the settings of the demo
    datasets (the keys named after them, e.g. demo.overrides.ecan.fer2013): a
    shared setting (compute, ecan.train, ...) would change the real dataset's
    runs too, so it keeps the config's value.
    """
    overrides, kind = config["demo"]["overrides"], profile(config, paper)
    if kind != "mixed":
        return copy.deepcopy(overrides) if kind == "demo" else {}
    return copy.deepcopy(_under_keys({paper: overrides.get(paper, {})}, demo_datasets(config, paper)))


def effective_config(config: dict, paper: str) -> dict:
    """The config a paper's stages actually run with (demo overrides applied to demo data, see `demo_overrides`)."""
    resolved = deep_merge(config, demo_overrides(config, paper))
    resolved["profile"] = profile(config, paper)
    return resolved


def _leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    """A nested dict as {dotted key: value}."""
    flat = {}
    for key, value in tree.items():
        flat |= _leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return flat


def _lookup(config: dict, dotted: str):
    for key in dotted.split("."):
        config = config.get(key) if isinstance(config, dict) else None
    return config


def mixed_data_notice(config: dict, paper: str) -> str | None:
    """What a run mixing real and demo data does with the demo overrides (printed at start-up); None otherwise."""
    if profile(config, paper) != "mixed":
        return None
    demo = demo_datasets(config, paper)
    real = [name for name in PAPER_DATASETS[paper] if name not in demo]
    applied = _leaves(demo_overrides(config, paper))
    overrides = config["demo"]["overrides"]
    kept = {
        key: _lookup(config, key)
        for key in _leaves({"compute": overrides.get("compute", {}), paper: overrides.get(paper, {})})
        if key not in applied
    }
    return (
        f"{paper} runs on real {', '.join(real)} and demo {', '.join(demo)}. Demo overrides applied to the demo data only: "
        f"{'; '.join(f'{key} {_lookup(config, key)} -> {value}' for key, value in applied.items()) or 'none'}. "
        f"Not applied (they would change the real data's runs; the demo runs use them too), your values stay: "
        f"{'; '.join(f'{key} = {value}' for key, value in kept.items()) or 'none'}."
    )


def config_hash(config: dict) -> str:
    return sha256_json(config)[:16]
