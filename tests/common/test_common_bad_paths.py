"""Paths a user may give that a shell or argparse could misread: a dataset at a relative path that starts
with `-` reaches its job as the path (the rules pass user paths as `--flag=value`)."""

from __future__ import annotations

import json

import helpers
import yaml

from affrepro.demo.expressions import write_fer2013


def test_a_dataset_path_starting_with_a_dash_reaches_its_job(tmp_path):
    workdir = tmp_path / "run"
    fer = workdir / "-fer" / "fer2013.csv.gz"
    fer.parent.mkdir(parents=True)
    demo = helpers.repo_config()["demo"]["fer2013"]
    write_fer2013(fer, demo | {"n_train": 70, "n_public_test": 14, "n_private_test": 14, "min_per_class": 2})
    config = helpers.repo_config()
    config["datasets"]["fer2013"]["path"] = "-fer/fer2013.csv.gz"  # relative to the working directory
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    proc = helpers.snakemake(workdir, "work/ecan/datasets.json", "-p")
    assert "--fer2013=-fer/fer2013.csv.gz" in proc.stdout + proc.stderr
    datasets = json.loads((workdir / "work" / "ecan" / "datasets.json").read_text())
    assert datasets["fer2013"]["kind"] == "real" and datasets["fer2013"]["location"] == "-fer/fer2013.csv.gz"
    assert sum(datasets["fer2013"]["train"]) == 70 and sum(datasets["fer2013"]["public_test"]) == 14
