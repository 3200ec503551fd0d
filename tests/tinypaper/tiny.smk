# The tiny test paper's rules (tests/tinypaper): demo points -> one least-squares run -> Table 1.
from affrepro.config.resolve import uses_demo

TINY = paper_config("tiny")
TINY_POINTS = f"{data_location('tiny_points')}/points.csv"
PAPER_CONFIGS["tiny"] = TINY
PROVENANCE["tiny"] = {"points": TINY_POINTS}
TRAINING_RUNS["tiny"] = ["work/tiny/metrics.json"]


if uses_demo(TINY, "tiny"):

    rule tiny_demo_data:
        output:
            TINY_POINTS,
        params:
            config=job_config("tiny", "demo"),
        log:
            "logs/tiny/demo.log",
        localrule: True
        shell:
            "python -m tinypaper.demo --config {params.config:q} --out {output:q} > {log:q} 2>&1"


rule tiny_train:
    input:
        TINY_POINTS,
    output:
        "work/tiny/metrics.json",
    params:
        config=job_config("tiny", "train"),
    log:
        "logs/tiny/train.log",
    localrule: True
    shell:
        "python -m tinypaper.train --config {params.config:q} --points {input:q} --out {output:q} > {log:q} 2>&1"
