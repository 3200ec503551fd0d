# The EMI paper: Hume-Vidmimic2 -> faces/audio -> features -> branches -> late fusion -> Tables 1-4.
import sys

from affrepro.config import ConfigError, check_weights, effective_config
from affrepro.emi import plan as emi_plan
from affrepro.features import au as au_features, dino as dino_features, resnet as resnet_features
from affrepro.emi.report import provenance_inputs as emi_provenance_inputs
from affrepro.tables import input_files, load_paper

EMI = effective_config(config, "emi")
try:
    check_weights(EMI, "emi")
except ConfigError as error:
    sys.exit(f"affrepro: {error}")
EMI_TABLES = ["table1", "table2", "table3", "table4"]
EMI_SAMPLES = emi_plan.samples(config)
EMI_SHARDS = min(EMI["preprocess"]["shards"], len(EMI_SAMPLES))
EMI_ROOT = emi_plan.dataset_root(config)
EMI_IS_DEMO = config["datasets"]["hume_vidmimic2"]["root"] is None
EMI_SPLIT_FILES = [str(EMI_ROOT / "train_split.csv"), str(EMI_ROOT / "valid_split.csv")]
EMI_PAPER = load_paper("emi")

wildcard_constraints:
    shard=r"\d+",
    table=r"table\d+",
    extractor="resnet18|au|dino|wav2vec2",


def emi_videos(shard):
    keys = [s.key for s in emi_plan.shard(config, int(shard), EMI_SHARDS)]
    if EMI_IS_DEMO:
        return [str(EMI_ROOT / "raw" / f"{k}.mp4") for k in keys]
    videos = emi_plan.videos(config)
    return [str(videos[k]) for k in keys]


EMI_DIMS = {
    "resnet18": resnet_features.DIM,
    "au": au_features.DIM,
    "dino": dino_features.VIT_S16["hidden_size"],
    "wav2vec2": EMI["extractors"]["wav2vec2"]["random_arch"]["hidden_size"] if EMI["extractors"]["wav2vec2"]["weights"] == "random" else 1024,
}
EMI_GPU = 1 if EMI["compute"]["device"] == "cuda" else 0  # set compute.device: cuda so cluster jobs request a GPU


def emi_train_mem_mb(feature_set):
    """All sequences of a feature set are held as float32 (N, T, D), with room for a copy and the model."""
    dim = sum(EMI_DIMS[e] for e in EMI["emi"]["feature_sets"][feature_set]["extractors"])
    return 2000 + 3 * len(EMI_SAMPLES) * EMI["emi"]["train"]["seq_len"] * dim * 4 // 2**20


def emi_feature_manifests(extractors):
    return [f"work/emi/features/{e}/shard{k}.json" for e in extractors for k in range(EMI_SHARDS)]


if EMI_IS_DEMO:

    rule emi_demo_data:
        output:
            EMI_SPLIT_FILES,
            [str(EMI_ROOT / "raw" / f"{s.key}.mp4") for s in EMI_SAMPLES],
        params:
            demo=config["demo"]["hume_vidmimic2"],
        conda:
            "../../envs/affrepro.yaml"
        log:
            "logs/demo/hume_vidmimic2.log",
        shell:
            "python -m affrepro.demo.hume --config {RESOLVED_CONFIG} --out {EMI_ROOT} > {log} 2>&1"


rule emi_faces:
    input:
        lambda w: emi_videos(w.shard),
    output:
        "work/emi/faces/shard{shard}.json",
    params:
        settings={k: EMI["preprocess"][k] for k in ("fps", "face_size", "mtcnn")},
        compute=EMI["compute"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/faces/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=2000,
    shell:
        "python -m affrepro.stages faces --config {RESOLVED_CONFIG} --paper emi "
        "--shard {wildcards.shard} --shards {EMI_SHARDS} --manifest {output} > {log} 2>&1"


rule emi_audio:
    input:
        lambda w: emi_videos(w.shard),
    output:
        "work/emi/audio/shard{shard}.json",
    params:
        settings=EMI["preprocess"]["audio"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/audio/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=1000,
    shell:
        "python -m affrepro.stages audio --config {RESOLVED_CONFIG} --paper emi "
        "--shard {wildcards.shard} --shards {EMI_SHARDS} --manifest {output} > {log} 2>&1"


rule emi_features:
    input:
        lambda w: f"work/emi/{'audio' if w.extractor == 'wav2vec2' else 'faces'}/shard{w.shard}.json",
    output:
        "work/emi/features/{extractor}/shard{shard}.json",
    params:
        settings=lambda w: EMI["extractors"]["openface" if w.extractor == "au" else w.extractor],
        compute=EMI["compute"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/features/{extractor}/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=4000,
        gpu=EMI_GPU,
    shell:
        "python -m affrepro.stages features --config {RESOLVED_CONFIG} --paper emi --extractor {wildcards.extractor} "
        "--shard {wildcards.shard} --shards {EMI_SHARDS} --manifest {output} > {log} 2>&1"


rule emi_train:
    input:
        EMI_SPLIT_FILES,
        lambda w: emi_feature_manifests(EMI["emi"]["feature_sets"][w.feature_set]["extractors"]),
    output:
        metrics="work/emi/runs/{feature_set}/metrics.json",
        predictions="work/emi/runs/{feature_set}/predictions.csv",
    params:
        spec=lambda w: EMI["emi"]["feature_sets"][w.feature_set],
        seeds=EMI["emi"]["seeds"],
        train=EMI["emi"]["train"],
        model=EMI["emi"]["model"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/train/{feature_set}.log",
    threads: 1
    resources:
        mem_mb=lambda w: emi_train_mem_mb(w.feature_set),
        gpu=EMI_GPU,
    shell:
        "python -m affrepro.emi.train --config {RESOLVED_CONFIG} --feature-set {wildcards.feature_set} "
        "--out-dir work/emi/runs/{wildcards.feature_set} > {log} 2>&1"


rule emi_fuse:
    input:
        lambda w: [f"work/emi/runs/{m}/predictions.csv" for m in EMI["emi"]["fusions"][w.fusion]],
    output:
        metrics="work/emi/fusion/{fusion}/metrics.json",
        predictions="work/emi/fusion/{fusion}/predictions.csv",
    params:
        members=lambda w: " ".join(EMI["emi"]["fusions"][w.fusion]),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/fusion/{fusion}.log",
    shell:
        "python -m affrepro.emi.fuse --config {RESOLVED_CONFIG} --members {params.members} "
        "--out-dir work/emi/fusion/{wildcards.fusion} > {log} 2>&1"


rule emi_submission:
    input:
        RESOLVED_CONFIG,
        predictions=f"work/emi/fusion/{EMI['emi']['submission']}/predictions.csv",
    output:
        "results/emi/submission_test.csv",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/submission.log",
    shell:
        "python -m affrepro.emi.fuse --submission-from {input.predictions} --submission-out {output} > {log} 2>&1"


rule emi_dataset_stats:
    input:
        EMI_SPLIT_FILES,
        lambda w: [v for k in range(EMI_SHARDS) for v in emi_videos(k)],
    output:
        "work/emi/dataset_stats.json",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/dataset_stats.log",
    shell:
        "python -m affrepro.emi.stats --config {RESOLVED_CONFIG} --out {output} > {log} 2>&1"


rule emi_table:
    input:
        # The tables depend on the config they were computed with; in a fresh
        # clone this record is new, so the committed tables are recomputed.
        RESOLVED_CONFIG,
        f"{workflow.basedir}/papers/emi.yaml",
        lambda w: input_files(EMI_PAPER, w.table),
        emi_provenance_inputs(EMI),
    output:
        csv="results/emi/{table}.csv",
        json="results/emi/{table}.json",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/{table}.log",
    shell:
        "python -m affrepro.tables --config {RESOLVED_CONFIG} --paper emi --table {wildcards.table} "
        "--csv {output.csv} --json {output.json} > {log} 2>&1"


# The EMI tables are the repository's headline tables: results/table<N>.csv.
rule emi_headline_table:
    input:
        "results/emi/{table}.{ext}",
    output:
        "results/{table}.{ext}",
    wildcard_constraints:
        ext="csv|json",
    log:
        "logs/emi/headline_{table}.{ext}.log",
    shell:
        "(cp {input} {output}.partial && mv {output}.partial {output}) > {log} 2>&1"
