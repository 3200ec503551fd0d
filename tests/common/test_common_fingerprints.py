"""Content, not timestamps, decides what reruns (issue 21.5): a raw file replaced with its old mtime restored
reruns the jobs that read it; the same content under new times reruns nothing."""

from __future__ import annotations

import os

import helpers
import yaml

from affrepro.demo.expressions import write_fer2013
from affrepro.files import sha256_file
from affrepro.fingerprints import digest, fingerprints


def test_fingerprints_hash_each_content_once_and_see_a_replaced_file(tmp_path):
    cache = tmp_path / "cache.json"
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    assert fingerprints([a, b], cache) == {str(a): sha256_file(a), str(b): sha256_file(b)}
    before = digest([a, b], cache)
    times = os.stat(a)
    a.write_bytes(b"ONE")  # same size, new content, old mtime restored: only ctime tells
    os.utime(a, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert fingerprints([a], cache)[str(a)] == sha256_file(a) and digest([a, b], cache) != before
    a.write_bytes(b"one")
    assert digest([a, b], cache) == before  # the same content again: the same digest, whatever the times
    assert digest([b, a], cache) == before


def fer_config(workdir):
    config = helpers.repo_config()
    config["datasets"]["fer2013"]["path"] = "fer/fer2013.csv.gz"
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def write_fer(path, seed: int) -> None:
    demo = helpers.repo_config()["demo"]["fer2013"]
    sizes = {"n_train": 70, "n_public_test": 14, "n_private_test": 14, "min_per_class": 2}
    write_fer2013(path, demo | sizes | {"seed": seed})


def test_a_dataset_file_replaced_with_its_old_mtime_reruns_its_jobs(tmp_path):
    workdir = tmp_path / "run"
    fer = workdir / "fer" / "fer2013.csv.gz"
    fer.parent.mkdir(parents=True)
    write_fer(fer, 1)
    fer_config(workdir)
    target = "work/ecan/datasets.json"
    helpers.snakemake(workdir, target)
    assert "Nothing to be done" in helpers.snakemake(workdir, target, dry_run=True).stdout
    times = os.stat(fer)
    original = fer.read_bytes()
    write_fer(fer, 2)  # other images, same layout
    assert fer.read_bytes() != original
    os.utime(fer, ns=(times.st_atime_ns, times.st_mtime_ns))  # as `cp -p` or `touch -r` would leave it
    planned = helpers.snakemake(workdir, target, dry_run=True).stdout
    assert "ecan_stats" in planned and "params" in planned.lower()
    fer.write_bytes(original)  # the original content, with new times: mtime reruns it (newer than the output) ...
    os.utime(fer, ns=(times.st_atime_ns, times.st_mtime_ns))  # ... unless its mtime is the old one too
    assert "Nothing to be done" in helpers.snakemake(workdir, target, dry_run=True).stdout
