"""Which ECAN runs the tables and figures need, and where their files live.

Every table row and figure point is an experiment: a run spec
{dataset, augment, losses, lambda1, lambda2, V, seed} over the `ecan.defaults`
(strong augmentation, Eq. 11 with lambda1 = 0.2, lambda2 = 0.7, V = 5), as the
paper's ablations vary one thing at a time from its default. Identical specs
are one run, shared by every table and figure that reports it.
"""

from __future__ import annotations

from pathlib import Path

from affrepro.config import dataset_location

DEMO_LOCATIONS = {"rafdb": Path("work/data/rafdb"), "fer2013": Path("work/data/fer2013/fer2013.csv.gz")}
WORK = Path("work/ecan")
BASELINE, ECAN = "ce", "ensc+mva"


def location(config: dict, dataset: str) -> Path:
    value = dataset_location(config, dataset)
    return DEMO_LOCATIONS[dataset] if value is None else Path(value)


def is_demo(config: dict, dataset: str) -> bool:
    return dataset_location(config, dataset) is None


def spec(config: dict, **changes) -> dict:
    ecan = config["ecan"]
    return {**ecan["defaults"], "seed": ecan["seeds"][0], **changes}


def run_id(run: dict) -> str:
    return f"{run['dataset']}-{run['augment']}-{run['losses']}-l1_{run['lambda1']:g}-l2_{run['lambda2']:g}-V{run['V']}-s{run['seed']}"


def experiments(config: dict) -> dict[str, list[dict]]:
    """Experiment name (`<group>/<row...>`) -> its run specs (one per seed)."""
    ecan = config["ecan"]
    plan = ecan["experiments"]
    named: dict[str, dict] = {}
    t2 = plan["table2"]
    for dataset in t2["datasets"]:
        for level in t2["augment"]:
            for losses in t2["losses"]:
                named[f"table2/{dataset}/{level}/{losses}"] = {"dataset": dataset, "augment": level, "losses": losses}
    for losses in plan["table3"]["losses"]:
        named[f"table3/{losses}"] = {"dataset": plan["table3"]["dataset"], "losses": losses}
    for dataset, table in (("rafdb", "table4"), ("fer2013", "table5")):
        named[f"{table}/baseline"] = {"dataset": dataset, "losses": BASELINE}
        named[f"{table}/ecan"] = {"dataset": dataset, "losses": ECAN}
    for key in ("lambda1", "lambda2"):
        for value in plan["figure3"][key]:
            named[f"figure3/{key}/{value:g}"] = {"dataset": plan["figure3"]["dataset"], "losses": ECAN, key: value}
    for value in plan["figure4"]["V"]:
        named[f"figure4/V/{value}"] = {"dataset": plan["figure4"]["dataset"], "losses": ECAN, "V": value}
    for dataset in ("rafdb", "fer2013"):
        named[f"figure7/{dataset}/baseline"] = {"dataset": dataset, "losses": BASELINE}
        named[f"figure7/{dataset}/ecan"] = {"dataset": dataset, "losses": ECAN}
    return {name: [spec(config, **changes, seed=seed) for seed in ecan["seeds"]] for name, changes in named.items()}


def runs(config: dict) -> dict[str, dict]:
    """run id -> spec, every run any experiment needs (deduplicated)."""
    return {run_id(s): s for specs in experiments(config).values() for s in specs}


def run_dir(run: str) -> Path:
    return WORK / "runs" / run
