# The VA paper: Aff-Wild2 -> 48x48 frames + audio -> IResNet-50 / VGGish / MFCC -> six-fold CV -> Tables 1-2.
from affrepro.config import ConfigError, check_weights, effective_config
from affrepro.demo.affwild2 import trial_names as va_demo_trial_names
from affrepro.va import plan as va_plan
from affrepro.va.report import provenance_inputs as va_provenance_inputs
from affrepro.tables import input_files, load_paper

VA = effective_config(config, "va")
try:
    check_weights(VA, "va")
except ConfigError as error:
    sys.exit(f"affrepro: {error}")
VA_TABLES = ["table1", "table2"]
VA_SHARDS = va_plan.n_shards(VA)
VA_ROOT = va_plan.dataset_root(config)
VA_IS_DEMO = config["datasets"]["affwild2"]["root"] is None
VA_FOLDS = range(VA["va"]["cv"]["folds"])
VA_PAPER = load_paper("va")
VA_GPU = 1 if VA["compute"]["device"] == "cuda" else 0


def va_annotation_files():
    if VA_IS_DEMO:
        names = va_demo_trial_names(config["demo"]["affwild2"])
        return [str(VA_ROOT / "VA_Estimation_Challenge" / folder / f"{n}.txt") for split, folder in (("train", "Train_Set"), ("valid", "Validation_Set")) for n in names[split]]
    return [str(VA_ROOT / "VA_Estimation_Challenge" / ("Train_Set" if t.split == "train" else "Validation_Set") / f"{t.name}.txt")
            for t in __import__("affrepro.data.affwild2", fromlist=["list_trials"]).list_trials(VA_ROOT) if t.split != "test"]


def va_manifests(stage):
    return [f"work/va/{stage}/shard{k}.json" for k in range(VA_SHARDS)]


if VA_IS_DEMO:

    rule va_demo_data:
        output:
            va_annotation_files(),
        params:
            demo=config["demo"]["affwild2"],
        conda:
            "../../envs/affrepro.yaml"
        log:
            "logs/demo/affwild2.log",
        shell:
            "python -m affrepro.demo.affwild2 --config {RESOLVED_CONFIG} --out {VA_ROOT} > {log} 2>&1"


rule va_prepare:
    input:
        va_annotation_files(),
    output:
        "work/va/prepare/shard{shard}.json",
    params:
        settings=VA["va"]["preprocess"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/prepare/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=2000,
    shell:
        "python -m affrepro.va.prepare --config {RESOLVED_CONFIG} --shard {wildcards.shard} --shards {VA_SHARDS} "
        "--manifest {output} > {log} 2>&1"


rule va_features:
    input:
        "work/va/prepare/shard{shard}.json",
    output:
        "work/va/features/{va_extractor}/shard{shard}.json",
    wildcard_constraints:
        va_extractor="iresnet50|vggish|mfcc",
    params:
        settings=lambda w: VA["extractors"].get(w.va_extractor),
        compute=VA["compute"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/features/{va_extractor}/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=4000,
        gpu=VA_GPU,
    shell:
        "python -m affrepro.va.features --config {RESOLVED_CONFIG} --extractor {wildcards.va_extractor} "
        "--shard {wildcards.shard} --shards {VA_SHARDS} --manifest {output} > {log} 2>&1"


rule va_folds:
    input:
        va_manifests("prepare"),
    output:
        "work/va/folds.json",
    params:
        cv=VA["va"]["cv"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/folds.log",
    shell:
        "python -m affrepro.va.folds --config {RESOLVED_CONFIG} --manifests {input} --out {output} > {log} 2>&1"


rule va_train_fold:
    input:
        "work/va/folds.json",
        [f"work/va/features/{e}/shard{k}.json" for e in VA["va"]["extractors"] for k in range(VA_SHARDS)],
    output:
        metrics="work/va/folds/fold{fold}/metrics.json",
        predictions="work/va/folds/fold{fold}/predictions.npz",
    wildcard_constraints:
        fold=r"\d+",
    params:
        model=VA["va"]["model"],
        train=VA["va"]["train"],
        seed=VA["va"]["seed"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/train/fold{fold}.log",
    threads: 1
    resources:
        mem_mb=4000,
        gpu=VA_GPU,
    shell:
        "python -m affrepro.va.train --config {RESOLVED_CONFIG} --fold {wildcards.fold} --folds work/va/folds.json "
        "--metrics {output.metrics} --predictions {output.predictions} > {log} 2>&1"


rule va_summary:
    input:
        expand("work/va/folds/fold{fold}/metrics.json", fold=VA_FOLDS),
    output:
        "work/va/cv.json",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/summary.log",
    shell:
        "python -m affrepro.va.summary --metrics {input} --out {output} > {log} 2>&1"


rule va_table:
    input:
        RESOLVED_CONFIG,
        f"{workflow.basedir}/papers/va.yaml",
        lambda w: input_files(VA_PAPER, w.table),
        va_provenance_inputs(VA),
    output:
        csv="results/va/{table}.csv",
        json="results/va/{table}.json",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/{table}.log",
    shell:
        "python -m affrepro.tables --config {RESOLVED_CONFIG} --paper va --table {wildcards.table} "
        "--csv {output.csv} --json {output.json} > {log} 2>&1"
