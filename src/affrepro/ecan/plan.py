"""Which ECAN runs the tables and figures need, and their ids.

Every table row and figure point is an experiment: a run spec
{dataset, augment, losses, lambda1, lambda2, V, seed} over the `ecan.defaults`
(strong augmentation, Eq. 11 with lambda1 = 0.2, lambda2 = 0.7, V = 5), as the
paper's ablations vary one thing at a time from its default. Identical specs
are one run, shared by every table and figure that reports it. The run id
names its spec (`run_id`); the workflow rules read these functions at parse
time and name every file.
"""

from __future__ import annotations

import re
from pathlib import Path

from affrepro.config.resolve import dataset_location, deep_merge

DATASETS = ("rafdb", "fer2013")
# Aggregates the tables and figures read: work/ecan/experiments/<group>.json.
GROUPS = ("table2", "table3", "table4", "table5", "figure3", "figure4", "figure7")
SPEC_KEYS = ("dataset", "augment", "losses", "lambda1", "lambda2", "V", "seed")
BASELINE, ECAN = "ce", "ensc+mva"


def is_demo(config: dict, dataset: str) -> bool:
    return dataset_location(config, dataset) is None


def raw_files(location: str | Path, dataset: str) -> list[str]:
    """The files of a real dataset its jobs read: FER2013's one file; RAF-DB's label file and aligned images."""
    if dataset == "fer2013":
        return [str(location)]
    from affrepro.data import rafdb  # its image reader (cv2) only where a real RAF-DB is planned

    root = Path(location)
    return [
        str(root / "EmoLabel" / "list_patition_label.txt"),
        *map(str, sorted((root / rafdb.IMAGE_DIR).glob("*.jpg"))),
    ]


def spec(config: dict, **changes) -> dict:
    """A run spec: `ecan.defaults` and the first seed, with `changes` applied; unknown keys are an error."""
    unknown = set(changes) - set(SPEC_KEYS)
    if unknown:
        raise ValueError(f"unknown run spec key(s) {sorted(unknown)}; allowed: {sorted(SPEC_KEYS)}")
    ecan = config["ecan"]
    merged = {**ecan["defaults"], "seed": ecan["seeds"][0], **changes}
    if "dataset" not in merged:
        raise ValueError(f"run spec needs a dataset ({' | '.join(DATASETS)})")
    return merged


def setting_id(run: dict) -> str:
    """A run's spec without its seed: one training job trains every seed of a setting (as EMI's branch jobs do)."""
    return f"{run['dataset']}-{run['augment']}-{run['losses']}-l1_{run['lambda1']:g}-l2_{run['lambda2']:g}-V{run['V']}"


def run_id(run: dict) -> str:
    return f"{setting_id(run)}-s{run['seed']}"


SETTING_ID = re.compile(
    r"(?P<dataset>[a-z0-9]+)-(?P<augment>[a-z]+)-(?P<losses>[a-z+]+)-l1_(?P<lambda1>.+?)-l2_(?P<lambda2>.+?)-V(?P<V>\d+)"
)


def parse_setting(setting: str) -> dict:
    """A setting id's spec (without its seed): the inverse of `setting_id`, so a training job needs no more
    of the config than its own setting's values (affrepro.jobconfig)."""
    match = SETTING_ID.fullmatch(setting)
    try:
        spec = match.groupdict() | {
            "lambda1": float(match["lambda1"]),
            "lambda2": float(match["lambda2"]),
            "V": int(match["V"]),
        }
    except (TypeError, ValueError):
        spec = None
    if spec is None or spec["dataset"] not in DATASETS or setting_id(spec) != setting:
        raise ValueError(f"{setting!r} is not an ECAN setting id (e.g. rafdb-strong-ensc+mva-l1_0.2-l2_0.7-V5)")
    return spec


def _changes(experiments: dict) -> dict[str, dict]:
    """Experiment name (`<group>/<row...>`) -> what its runs change from the defaults."""
    named: dict[str, dict] = {}
    t2 = experiments["table2"]
    for dataset in t2["datasets"]:
        for level in t2["augment"]:
            for losses in t2["losses"]:
                named[f"table2/{dataset}/{level}/{losses}"] = {"dataset": dataset, "augment": level, "losses": losses}
    for losses in experiments["table3"]["losses"]:
        named[f"table3/{losses}"] = {"dataset": experiments["table3"]["dataset"], "losses": losses}
    for dataset, table in (("rafdb", "table4"), ("fer2013", "table5")):
        named[f"{table}/baseline"] = {"dataset": dataset, "losses": BASELINE}
        named[f"{table}/ecan"] = {"dataset": dataset, "losses": ECAN}
    for key in ("lambda1", "lambda2"):
        for value in experiments["figure3"][key]:
            named[f"figure3/{key}/{value:g}"] = {
                "dataset": experiments["figure3"]["dataset"],
                "losses": ECAN,
                key: value,
            }
    for value in experiments["figure4"]["V"]:
        named[f"figure4/V/{value}"] = {"dataset": experiments["figure4"]["dataset"], "losses": ECAN, "V": value}
    for dataset in DATASETS:
        named[f"figure7/{dataset}/baseline"] = {"dataset": dataset, "losses": BASELINE}
        named[f"figure7/{dataset}/ecan"] = {"dataset": dataset, "losses": ECAN}
    return named


def experiments(config: dict) -> dict[str, list[dict]]:
    """Experiment name (`<group>/<row...>`) -> its run specs (one per seed)."""
    named = _changes(config["ecan"]["experiments"])
    return {
        name: [spec(config, **changes, seed=seed) for seed in config["ecan"]["seeds"]]
        for name, changes in named.items()
    }


def runs(config: dict) -> dict[str, dict]:
    """run id -> spec, every run any experiment needs (deduplicated)."""
    return {run_id(s): s for specs in experiments(config).values() for s in specs}


def setting_runs(config: dict) -> dict[str, list[str]]:
    """setting id -> its run ids in `ecan.seeds` order: the training jobs.

    One job per setting loads the data and imports torch once for all its seeds (on the demo,
    that start-up is a third of a run). The paper's config has one seed, so there a job is a run.
    """
    found: dict[str, list[str]] = {}
    for run, run_spec in runs(config).items():
        found.setdefault(setting_id(run_spec), []).append(run)
    return found


def group_runs(config: dict, group: str) -> dict[str, list[str]]:
    """The experiments of one group: name (without the group) -> run ids."""
    if group not in GROUPS:
        raise ValueError(f"unknown ECAN group {group!r}; known: {', '.join(GROUPS)}")
    return {
        name.split("/", 1)[1]: [run_id(s) for s in specs]
        for name, specs in experiments(config).items()
        if name.split("/", 1)[0] == group
    }


def group_run_ids(config: dict, group: str) -> list[str]:
    """Every run id one group reads, once each (an aggregation job's inputs)."""
    return list(dict.fromkeys(r for ids in group_runs(config, group).values() for r in ids))


def largest_V(config: dict) -> tuple[int, str]:
    """The largest V any planned run uses, and the first experiment that plans it."""
    name, specs = max(experiments(config).items(), key=lambda item: item[1][0]["V"])
    return specs[0]["V"], name


def bank_problems(config: dict) -> list[str]:
    """K >= V - 1 (the MVA loss reads the V - 1 newest of the bank's K groups), as configured and on the demo.

    Checked at start-up by workflow/rules/ecan.smk on the raw config, so both the
    paper settings and the demo overrides are checked whichever runs.
    """
    found: dict[str, str] = {}  # the problem -> where it holds (once if both settings share it)
    for where, variant in (
        ("", config),
        ("on demo data (demo.overrides.ecan applied): ", deep_merge(config, config["demo"]["overrides"])),
    ):
        k, (v, name) = variant["ecan"]["model"]["bank_groups"], largest_V(variant)
        source = "ecan.experiments.figure4.V" if name.startswith("figure4/") else "ecan.defaults.V"
        if k < v - 1:
            problem = (
                f"ecan.model.bank_groups = {k} (K, the memory bank's groups, Eq. 2) is less than V - 1 = {v - 1} for the largest V the config plans "
                f"(V = {v}: {name}, from {source}); the MVA loss reads the V - 1 newest bank groups: set ecan.model.bank_groups >= {v - 1}"
            )
            found.setdefault(problem, where)
    return [where + problem for problem, where in found.items()]


def pattern(names) -> str:
    """A wildcard constraint matching exactly these names (run ids hold '+' and '.')."""
    return "|".join(re.escape(name) for name in names) or "none"
