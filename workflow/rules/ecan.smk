# The ECAN paper: RAF-DB / FER2013 -> ResNet-18 runs (baseline, loss ablations, sweeps) -> Tables 1-5, Figures 3, 4, 6, 7.
# Needs only common.smk. A table cell: papers/ecan.yaml names work/ecan/experiments/<group>.json (rule ecan_aggregate,
# affrepro.ecan.aggregate.aggregate), which summarises the runs' work/ecan/runs/<run>/metrics.json (rule ecan_train,
# affrepro.ecan.train.run).
from affrepro.ecan import costs as ecan_costs
from affrepro.ecan import plan as ecan_plan
from affrepro.ecan import prepare as ecan_prepare

ECAN = paper_config("ecan")
if ecan_plan.bank_problems(config):  # K >= V - 1 for every V planned, paper and demo settings alike
    sys.exit("affrepro: config is inconsistent:\n  - " + "\n  - ".join(ecan_plan.bank_problems(config)))
ECAN_RUNS = ecan_plan.runs(ECAN)
ECAN_SETTINGS = ecan_plan.setting_runs(ECAN)  # one training job per setting: every seed, one after another
ECAN_SETTING_SPECS = {setting: ECAN_RUNS[runs[0]] for setting, runs in ECAN_SETTINGS.items()}
ECAN_DATA = {dataset: data_location(dataset) for dataset in ecan_plan.DATASETS}
for _dataset in ecan_plan.DATASETS:  # a real dataset's splits are checked now, not when its first run starts
    if not ecan_plan.is_demo(ECAN, _dataset):
        ecan_prepare.check_dataset(_dataset, ECAN_DATA[_dataset], ECAN["ecan"])
# The file each dataset's rules depend on (the demo rule writes it).
ECAN_DATA_FILES = {
    "rafdb": f"{ECAN_DATA['rafdb']}/EmoLabel/list_patition_label.txt",
    "fer2013": ECAN_DATA["fer2013"],
}
ECAN_DATA_DEPTH = {"rafdb": 2, "fer2013": 0}  # folders from that file up to the dataset's location
# A real dataset's files by content (affrepro.fingerprints): a file replaced with its old mtime still reruns.
ECAN_CONTENT = {
    dataset: "" if ecan_plan.is_demo(ECAN, dataset) else content_digest(ecan_plan.raw_files(ECAN_DATA[dataset], dataset))
    for dataset in ECAN_DATA_FILES
}

PAPER_CONFIGS["ecan"] = ECAN
PROVENANCE["ecan"] = {"datasets": "work/ecan/datasets.json"}
TRAINING_RUNS["ecan"] = expand("work/ecan/runs/{run}/metrics.json", run=sorted(ECAN_RUNS))


for _dataset in ecan_plan.DATASETS:
    if ecan_plan.is_demo(ECAN, _dataset):

        rule:
            name:
                f"ecan_demo_{_dataset}"
            output:
                index=ECAN_DATA_FILES[_dataset],
            params:
                config=job_config("ecan", "demo.expressions", dataset=_dataset),
                dataset=_dataset,
                out=folder_of("index", up=ECAN_DATA_DEPTH[_dataset]),
            conda:
                "../../envs/affrepro.yaml"
            log:
                f"logs/demo/{_dataset}.log",
            localrule: True
            threads: 1
            resources:
                mem_mb=job_resources.small_job_mem_mb("ecan_demo"),
                runtime=job_resources.MIN_RUNTIME,
            shell:
                job("demo.expressions", "--dataset={params.dataset:q} --out={params.out:q}")


rule ecan_train:
    input:
        data=lambda w: ECAN_DATA_FILES[ECAN_SETTING_SPECS[w.setting]["dataset"]],
    output:
        expand("work/ecan/runs/{{setting}}-s{seed}/metrics.json", seed=ECAN["ecan"]["seeds"]),
    wildcard_constraints:
        setting=ecan_plan.pattern(ECAN_SETTINGS),
    params:
        config=job_config("ecan", "ecan.train"),
        data=lambda w: ECAN_DATA[ECAN_SETTING_SPECS[w.setting]["dataset"]],
        content=lambda w: ECAN_CONTENT[ECAN_SETTING_SPECS[w.setting]["dataset"]],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/runs/{setting}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(ecan_costs.train_mem_mb(ECAN, ECAN_SETTING_SPECS[w.setting])),
        runtime=lambda w: ecan_costs.train_runtime(ECAN, ECAN_SETTING_SPECS[w.setting]),
        gpu=gpus(ECAN),
    shell:
        job("ecan.train", "--setting {wildcards.setting:q} --data={params.data:q} --out {output:q}")


rule ecan_aggregate:
    input:
        lambda w: expand("work/ecan/runs/{run}/metrics.json", run=ecan_plan.group_run_ids(ECAN, w.group)),
    output:
        "work/ecan/experiments/{group}.json",
    wildcard_constraints:
        group=ecan_plan.pattern(ecan_plan.GROUPS),
    params:
        config=job_config("ecan", "ecan.aggregate"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/aggregate/{group}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("ecan_aggregate"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job("ecan.aggregate", "--group {wildcards.group:q} --metrics {input:q} --out {output:q}")


rule ecan_stats:
    input:
        **ECAN_DATA_FILES,
    output:
        datasets="work/ecan/datasets.json",
        augmentations="work/ecan/augmentations.json",
    params:
        config=job_config("ecan", "ecan.stats"),
        rafdb=folder_of("rafdb", up=ECAN_DATA_DEPTH["rafdb"]),
        fer2013=folder_of("fer2013", up=ECAN_DATA_DEPTH["fer2013"]),
        content=ECAN_CONTENT,
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/stats.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("ecan_stats"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job("ecan.stats", "--rafdb={params.rafdb:q} --fer2013={params.fer2013:q} --datasets-out {output.datasets:q} --augmentations-out {output.augmentations:q}")


rule ecan_figure:
    input:
        PAPER_RECORDS["ecan"][0],  # common.smk: new in a fresh clone, so the committed figures are recomputed
        data=lambda w: "work/ecan/datasets.json" if w.figure == "figure6" else f"work/ecan/experiments/{w.figure}.json",
    output:
        png=update(
            report(
                "results/ecan/{figure}.png",
                caption="../report/figure.rst",
                category="ecan",
                subcategory="figures",
                labels={"paper": "ecan", "figure": "{figure}"},
            )
        ),
        csv=update("results/ecan/{figure}.csv"),
    wildcard_constraints:
        figure="figure[3467]",
    params:
        config=job_config("ecan", "ecan.figures"),
        caption=lambda w: load_paper("ecan")["figures"][w.figure]["caption"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/ecan/{figure}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("ecan_figure"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job("ecan.figures", "--figure {wildcards.figure:q} --inputs {input.data:q} --png {output.png:q} --csv {output.csv:q}")
