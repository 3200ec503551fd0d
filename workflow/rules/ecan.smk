# The ECAN paper: RAF-DB / FER2013 -> ResNet-18 runs (baseline, loss ablations, sweeps) -> Tables 1-5, Figures 3, 4, 6, 7.
import re

from affrepro.ecan import plan as ecan_plan
from affrepro.ecan.collect import group_runs as ecan_group_runs
from affrepro.ecan.report import provenance_inputs as ecan_provenance_inputs

ECAN = effective_config(config, "ecan")
try:
    check_weights(ECAN, "ecan")
except ConfigError as error:
    sys.exit(f"affrepro: {error}")
ECAN_TABLES = ["table1", "table2", "table3", "table4", "table5"]
ECAN_FIGURES = ["figure3", "figure4", "figure6", "figure7"]
ECAN_RUNS = ecan_plan.runs(ECAN)
ECAN_PAPER = load_paper("ecan")
ECAN_GPU = 1 if ECAN["compute"]["device"] == "cuda" else 0
ECAN_DATA = {d: str(ecan_plan.location(ECAN, d)) for d in ("rafdb", "fer2013")}
ECAN_DATA_FILES = {
    "rafdb": f"{ECAN_DATA['rafdb']}/EmoLabel/list_patition_label.txt",
    "fer2013": ECAN_DATA["fer2013"],
}


def ecan_group_inputs(group):
    return [f"work/ecan/runs/{r}/metrics.json" for runs in ecan_group_runs(ECAN, group).values() for r in runs]


for _dataset in ("rafdb", "fer2013"):
    if ecan_plan.is_demo(ECAN, _dataset):

        rule:
            name:
                f"ecan_demo_{_dataset}"
            output:
                ECAN_DATA_FILES[_dataset],
            params:
                demo=config["demo"][_dataset],
                dataset=_dataset,
                out=ECAN_DATA[_dataset],
            conda:
                "../../envs/affrepro.yaml"
            log:
                f"logs/demo/{_dataset}.log",
            shell:
                "python -m affrepro.demo.expressions --config {RESOLVED_CONFIG} --dataset {params.dataset} --out {params.out} > {log} 2>&1"


rule ecan_run:
    input:
        lambda w: ECAN_DATA_FILES[ECAN_RUNS[w.run]["dataset"]],
    output:
        "work/ecan/runs/{run}/metrics.json",
    wildcard_constraints:
        run="|".join(re.escape(r) for r in ECAN_RUNS) or "none",
    params:
        spec=lambda w: ECAN_RUNS[w.run],
        settings=lambda w: {k: ECAN["ecan"][k] for k in ("loss", "model", "train", ECAN_RUNS[w.run]["dataset"])},
        augment=lambda w: ECAN["ecan"]["augment"][ECAN_RUNS[w.run]["dataset"]],
        compute=ECAN["compute"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/runs/{run}.log",
    threads: 1
    resources:
        mem_mb=6000,
        gpu=ECAN_GPU,
    shell:
        "python -m affrepro.ecan.run --config {RESOLVED_CONFIG} --run '{wildcards.run}' --out '{output}' > '{log}' 2>&1"


rule ecan_collect:
    input:
        lambda w: ecan_group_inputs(w.group),
    output:
        "work/ecan/experiments/{group}.json",
    wildcard_constraints:
        group="table[2-5]|figure[347]",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/collect/{group}.log",
    shell:
        "python -m affrepro.ecan.collect --config {RESOLVED_CONFIG} --group {wildcards.group} --out {output} > {log} 2>&1"


rule ecan_stats:
    input:
        ECAN_DATA_FILES.values(),
    output:
        datasets="work/ecan/datasets.json",
        augmentations="work/ecan/augmentations.json",
    params:
        augment=ECAN["ecan"]["augment"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/stats.log",
    shell:
        "python -m affrepro.ecan.stats --config {RESOLVED_CONFIG} --datasets-out {output.datasets} "
        "--augmentations-out {output.augmentations} > {log} 2>&1"


rule ecan_table:
    input:
        RESOLVED_CONFIG,
        f"{workflow.basedir}/papers/ecan.yaml",
        lambda w: input_files(ECAN_PAPER, w.ecan_table),
        ecan_provenance_inputs(ECAN),
    output:
        csv="results/ecan/{ecan_table}.csv",
        json="results/ecan/{ecan_table}.json",
    wildcard_constraints:
        ecan_table=r"table\d+",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/{ecan_table}.log",
    shell:
        "python -m affrepro.tables --config {RESOLVED_CONFIG} --paper ecan --table {wildcards.ecan_table} "
        "--csv {output.csv} --json {output.json} > {log} 2>&1"


rule ecan_figure:
    input:
        RESOLVED_CONFIG,
        lambda w: "work/ecan/datasets.json" if w.figure == "figure6" else f"work/ecan/experiments/{w.figure}.json",
    output:
        png="results/ecan/{figure}.png",
        csv="results/ecan/{figure}.csv",
    wildcard_constraints:
        figure="figure[3467]",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/{figure}.log",
    shell:
        "python -m affrepro.ecan.figures --config {RESOLVED_CONFIG} --figure {wildcards.figure} --inputs {input[1]} "
        "--png {output.png} --csv {output.csv} > {log} 2>&1"
