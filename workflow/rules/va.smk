# The VA paper: Aff-Wild2 -> 48x48 frames + audio -> IResNet-50 / VGGish / MFCC -> six-fold CV -> Tables 1-2.
# Table 2 selects each fold's epoch on that fold (the paper's protocol); table2_nested on the next fold.
# Needs only common.smk before it. Every path of the paper's jobs is written here.
from affrepro.config.resolve import uses_demo
from affrepro.va import costs as va_costs
from affrepro.va import plan as va_plan
from affrepro.va.folds import PROTOCOLS as VA_PROTOCOLS

VA = paper_config("va")
VA_ROOT = data_location("affwild2")
if not uses_demo(VA, "va"):
    va_plan.check_pool(VA, VA_ROOT)  # every fold gets a video: checked now, not after preprocessing
VA_SHARDS = range(va_plan.n_shards(VA, VA_ROOT))
VA_TRIALS = len(va_plan.trials(VA, VA_ROOT))
VA_TRIALS_PER_SHARD = -(-VA_TRIALS // len(VA_SHARDS))
VA_FOLDS = range(VA["va"]["cv"]["folds"])

PAPER_CONFIGS["va"] = VA
PROVENANCE["va"] = {
    "folds": "work/va/folds.json",
    "prepare": "work/va/prepare/shard0.json",
    **{extractor: f"work/va/features/{extractor}/shard0.json" for extractor in VA["va"]["extractors"]},
}
TRAINING_RUNS["va"] = expand("work/va/folds/{protocol}/fold{fold}/metrics.json", protocol=VA_PROTOCOLS, fold=VA_FOLDS)


if uses_demo(VA, "va"):

    rule va_demo_data:
        output:
            annotations=va_plan.annotation_files(VA, VA_ROOT),
        params:
            config=job_config("va", "demo.affwild2"),
            root=folder_of("annotations", up=va_plan.ANNOTATION_DEPTH),
        conda:
            "../../envs/affrepro.yaml"
        log:
            "logs/demo/affwild2.log",
        localrule: True
        threads: 1
        resources:
            mem_mb=job_resources.small_job_mem_mb("va_demo_data"),
            runtime=job_resources.MIN_RUNTIME,
        shell:
            job("demo.affwild2", "--out={params.root:q}")


rule va_prepare:
    input:
        annotations=va_plan.annotation_files(VA, VA_ROOT),
    output:
        manifest="work/va/prepare/shard{shard}.json",
        trials=directory("work/va/prepare/shard{shard}"),
    params:
        config=job_config("va", "va.prepare"),
        root=folder_of("annotations", up=va_plan.ANNOTATION_DEPTH),
        shards=len(VA_SHARDS),
        content=lambda w: content_digest(va_plan.shard_files(VA, VA_ROOT, int(w.shard), len(VA_SHARDS))),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/prepare/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.per_frame_mem_mb("va.prepare", VA)),
        runtime=job_resources.per_frame_runtime("va.prepare", VA, VA_TRIALS_PER_SHARD),
    shell:
        job("va.prepare", "--root={params.root:q} --shard {wildcards.shard:q} --shards {params.shards:q} --out-dir {output.trials:q} --manifest {output.manifest:q}")


rule va_features:
    input:
        "work/va/prepare/shard{shard}.json",
    output:
        manifest="work/va/features/{va_extractor}/shard{shard}.json",
        features=directory("work/va/features/{va_extractor}/shard{shard}"),
    wildcard_constraints:
        va_extractor="|".join(va_plan.EXTRACTORS),
    params:
        config=job_config("va", "va.features"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/features/{va_extractor}/shard{shard}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.per_frame_mem_mb(f"va.features:{w.va_extractor}", VA)),
        runtime=lambda w: job_resources.per_frame_runtime(f"va.features:{w.va_extractor}", VA, VA_TRIALS_PER_SHARD),
        gpu=gpus(VA),
    shell:
        job("va.features", "--extractor {wildcards.va_extractor:q} --prepared {input:q} --out-dir {output.features:q} --manifest {output.manifest:q}")


rule va_folds:
    input:
        expand("work/va/prepare/shard{shard}.json", shard=VA_SHARDS),
    output:
        "work/va/folds.json",
    params:
        config=job_config("va", "va.folds"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/folds.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("va_folds"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job("va.folds", "--manifests {input:q} --out {output:q}")


# One store per extractor holding every trial's features (affrepro.store), read a window at a time by the fold jobs.
rule va_pack:
    input:
        expand("work/va/features/{{va_extractor}}/shard{shard}.json", shard=VA_SHARDS),
    output:
        manifest="work/va/packed/{va_extractor}.json",
        store=directory("work/va/packed/{va_extractor}"),
    wildcard_constraints:
        va_extractor="|".join(va_plan.EXTRACTORS),
    params:
        config=job_config("va", "va.pack"),
        root=VA_ROOT,
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/pack/{va_extractor}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(job_resources.pack_mem_mb(VA, "va", VA_TRIALS)),
        runtime=job_resources.pack_runtime(VA, "va", VA_TRIALS),
    shell:
        job("va.pack", "--root={params.root:q} --features {input:q} --out-dir {output.store:q} --manifest {output.manifest:q}")


rule va_train_fold:
    input:
        folds="work/va/folds.json",
        prepared=expand("work/va/prepare/shard{shard}.json", shard=VA_SHARDS),
        packed=expand("work/va/packed/{extractor}.json", extractor=VA["va"]["extractors"]),
    output:
        metrics="work/va/folds/{protocol}/fold{fold}/metrics.json",
        predictions="work/va/folds/{protocol}/fold{fold}/predictions.npz",
    wildcard_constraints:
        fold=r"\d+",
        protocol="|".join(VA_PROTOCOLS),
    params:
        config=job_config("va", "va.train"),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/train/{protocol}/fold{fold}.log",
    threads: 1
    resources:
        mem_mb=lambda w: cluster_mb(va_costs.fold_mem_mb(VA, VA_TRIALS)),
        runtime=va_costs.fold_runtime(VA, VA_TRIALS),
        gpu=gpus(VA),
    shell:
        job(
            "va.train",
            "--protocol {wildcards.protocol:q} --fold {wildcards.fold:q} --folds {input.folds:q} --prepared {input.prepared:q} --packed {input.packed:q} "
            "--metrics {output.metrics:q} --predictions {output.predictions:q}",
        )


rule va_aggregate:
    input:
        expand("work/va/folds/{{protocol}}/fold{fold}/metrics.json", fold=VA_FOLDS),
    output:
        "work/va/folds/{protocol}/cv.json",
    wildcard_constraints:
        protocol="|".join(VA_PROTOCOLS),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/va/aggregate/{protocol}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("va_aggregate"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job("va.aggregate", "--metrics {input:q} --out {output:q}", config=False)
