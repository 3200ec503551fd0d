# The EMI paper: Hume-Vidmimic2 -> faces/audio -> features -> branches -> late fusion -> Tables 1-4.
from affrepro.emi import costs as emi_costs
from affrepro.emi import plan as emi_plan
from affrepro.emi.extractors import EXTRACTORS as EMI_EXTRACTORS
from affrepro.files import sha256_json

EMI = paper_config("emi")
EMI_ROOT = data_location("hume_vidmimic2")
EMI_SAMPLES = emi_plan.samples(EMI, EMI_ROOT)
EMI_SHARDS = emi_plan.n_shards(EMI, EMI_ROOT)
EMI_CLIPS_PER_SHARD = -(-len(EMI_SAMPLES) // EMI_SHARDS)
EMI_LABELLED_CLIPS = sum(s.partition != "test" for s in EMI_SAMPLES)
EMI_SPLIT_FILES = [f"{EMI_ROOT}/train_split.csv", f"{EMI_ROOT}/valid_split.csv"]
# Which clip is in which partition (not the labels): the jobs that read only that rerun when it changes,
# and an edited label reaches the jobs that read labels (training, dataset statistics) alone.
EMI_PARTITIONS = sha256_json([[s.key, s.partition] for s in EMI_SAMPLES])[:16]
# A real root's labels by content (affrepro.fingerprints): a split file replaced with its old mtime still reruns.
EMI_LABELS_CONTENT = "" if emi_plan.is_demo(EMI) else content_digest(EMI_SPLIT_FILES)

PAPER_CONFIGS["emi"] = EMI
PROVENANCE["emi"] = {"stats": "work/emi/dataset_stats.json"} | {
    e: f"work/emi/features/{e}/shard0.json" for e in emi_plan.used_extractors(EMI)
}
TRAINING_RUNS["emi"] = expand("work/emi/runs/{feature_set}/metrics.json", feature_set=EMI["emi"]["feature_sets"])


wildcard_constraints:
    extractor="|".join(EMI_EXTRACTORS),


if emi_plan.is_demo(EMI):

    rule emi_demo_data:
        output:
            splits=EMI_SPLIT_FILES,
            videos=[f"{EMI_ROOT}/raw/{s.key}.mp4" for s in EMI_SAMPLES],
        params:
            config=job_config("emi", "demo.hume"),
            root=folder_of("splits"),  # the dataset root holds the split files
        conda:
            "../../envs/affrepro.yaml"
        log:
            "logs/demo/hume_vidmimic2.log",
        localrule: True
        threads: 1
        resources:
            mem_mb=job_resources.small_job_mem_mb("emi_demo_data"),
            runtime=job_resources.MIN_RUNTIME,
        shell:
            job("demo.hume", "--out={params.root:q}")


rule emi_prepare:
    input:
        videos=lambda w: emi_plan.shard_videos(EMI, EMI_ROOT, int(w.shard), EMI_SHARDS),
    output:
        "work/emi/{stage}/shard{shard}.json",
    wildcard_constraints:
        stage="faces|audio",
    params:
        config=job_config("emi", "emi.prepare"),
        root=EMI_ROOT,
        shards=EMI_SHARDS,
        partitions=EMI_PARTITIONS,
        content=lambda w: "" if emi_plan.is_demo(EMI) else content_digest(emi_plan.shard_videos(EMI, EMI_ROOT, int(w.shard), EMI_SHARDS)),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/{stage}/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.per_frame_mem_mb(f"emi.prepare:{w.stage}", EMI)),
        runtime=lambda w: job_resources.per_frame_runtime(f"emi.prepare:{w.stage}", EMI, EMI_CLIPS_PER_SHARD),
        gpu=lambda w: gpus(EMI) if w.stage == "faces" else 0,
    shell:
        job("emi.prepare", "--stage {wildcards.stage:q} --root={params.root:q} --shard {wildcards.shard:q} --shards {params.shards:q} --manifest {output:q}")


rule emi_features:
    input:
        lambda w: f"work/emi/{'audio' if w.extractor == 'wav2vec2' else 'faces'}/shard{w.shard}.json",
    output:
        "work/emi/features/{extractor}/shard{shard}.json",
    params:
        config=job_config("emi", "emi.features"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/features/{extractor}/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.per_frame_mem_mb(f"emi.features:{w.extractor}", EMI)),
        runtime=lambda w: job_resources.per_frame_runtime(f"emi.features:{w.extractor}", EMI, EMI_CLIPS_PER_SHARD),
        gpu=gpus(EMI),
    shell:
        job("emi.features", "--extractor {wildcards.extractor:q} --inputs {input:q} --manifest {output:q}")


# One store per extractor: every sample's features in one array per split (affrepro.store),
# so training reads batches as it goes instead of holding the dataset.
rule emi_pack:
    input:
        features=expand("work/emi/features/{{extractor}}/shard{shard}.json", shard=range(EMI_SHARDS)),
    output:
        manifest="work/emi/packed/{extractor}.json",
        store=directory("work/emi/packed/{extractor}"),
    params:
        config=job_config("emi", "emi.pack"),
        root=EMI_ROOT,
        partitions=EMI_PARTITIONS,
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/pack/{extractor}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.pack_mem_mb(EMI, "emi", len(EMI_SAMPLES))),
        runtime=job_resources.pack_runtime(EMI, "emi", len(EMI_SAMPLES)),
    shell:
        job("emi.pack", "--root={params.root:q} --features {input.features:q} --out-dir {output.store:q} --manifest {output.manifest:q}")


rule emi_train:
    input:
        splits=EMI_SPLIT_FILES,
        packed=lambda w: [f"work/emi/packed/{e}.json" for e in EMI["emi"]["feature_sets"][w.feature_set]["extractors"]],
    output:
        metrics="work/emi/runs/{feature_set}/metrics.json",
        predictions="work/emi/runs/{feature_set}/predictions.csv",
    params:
        config=job_config("emi", "emi.train"),
        root=folder_of("splits"),
        labels=EMI_LABELS_CONTENT,
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/train/{feature_set}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(emi_costs.train_mem_mb(EMI, w.feature_set, len(EMI_SAMPLES), emi_plan.feature_set_dim(EMI, w.feature_set))),
        runtime=emi_costs.train_runtime(EMI, EMI_LABELLED_CLIPS),
        gpu=gpus(EMI),
    shell:
        job(
            "emi.train",
            "--feature-set {wildcards.feature_set:q} --root={params.root:q} --packed {input.packed:q} "
            "--metrics {output.metrics:q} --predictions {output.predictions:q}",
        )


rule emi_aggregate:
    input:
        splits=EMI_SPLIT_FILES,
        members=lambda w: [f"work/emi/runs/{m}/predictions.csv" for m in EMI["emi"]["fusions"][w.fusion]],
    output:
        metrics="work/emi/fusion/{fusion}/metrics.json",
        predictions="work/emi/fusion/{fusion}/predictions.csv",
    params:
        config=job_config("emi", "emi.aggregate"),
        root=folder_of("splits"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/fusion/{fusion}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("emi_aggregate"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "emi.aggregate",
            "--fusion {wildcards.fusion:q} --root={params.root:q} --members {input.members:q} "
            "--metrics {output.metrics:q} --predictions {output.predictions:q}",
        )


rule emi_submission:
    input:
        PAPER_RECORDS["emi"][0],  # common.smk: new in a fresh clone, so the committed file is recomputed
        predictions=f"work/emi/fusion/{EMI['emi']['submission']}/predictions.csv",
    output:
        update("results/emi/submission_test.csv"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/submission.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("emi_submission"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job("emi.submission", "--predictions {input.predictions:q} --out {output:q}", config=False)


rule emi_dataset_stats:
    input:
        splits=EMI_SPLIT_FILES,
        videos=lambda w: [v for k in range(EMI_SHARDS) for v in emi_plan.shard_videos(EMI, EMI_ROOT, k, EMI_SHARDS)],
        manifests=expand("work/emi/{stage}/shard{shard}.json", stage=["faces", "audio"], shard=range(EMI_SHARDS)),
    output:
        "work/emi/dataset_stats.json",
    params:
        config=job_config("emi", "emi.stats"),
        root=folder_of("splits"),
        labels=EMI_LABELS_CONTENT,
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/dataset_stats.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.small_job_mem_mb("emi_dataset_stats")),
        runtime=emi_costs.stats_runtime(len(EMI_SAMPLES)),
    shell:
        job("emi.stats", "--root={params.root:q} --manifests {input.manifests:q} --out {output:q}")


# The EMI tables are the repository's headline tables: results/table<N>.csv.
rule emi_headline_table:
    input:
        "results/emi/{table}.{ext}",
    output:
        update("results/{table}.{ext}"),
    wildcard_constraints:
        ext=r"csv|json|provenance\.json",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/emi/headline_{table}.{ext}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("emi_headline_table"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        "(cp {input:q} {output:q}.partial && mv {output:q}.partial {output:q}) > {log:q} 2>&1"
