"""The code version that makes Snakemake rerun a job when the code it runs changes."""

import yaml
from helpers import repo_config, snakemake

from affrepro import codeversion
from affrepro.codeversion import closure, code_version


def test_closure_follows_the_imports_of_a_job():
    modules = closure("affrepro.emi.train")
    assert {
        "affrepro.emi.train",
        "affrepro.models.tcn",
        "affrepro.sequences",
        "affrepro.metrics",
        "affrepro.emi",
    } <= modules
    assert not any(m.startswith("affrepro.ecan") or m.startswith("affrepro.va") for m in modules)


def test_hash_changes_with_an_imported_module_only(tmp_path, monkeypatch):
    package = tmp_path / "affrepro"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "job.py").write_text("from affrepro.sub import helper\n\nhelper.f()\n")
    (package / "sub" / "helper.py").write_text("def f():\n    return 1\n")
    (package / "unrelated.py").write_text("X = 1\n")
    monkeypatch.setattr(codeversion, "PACKAGE_DIR", package)
    codeversion.clear_caches()
    before = code_version("affrepro.job")
    (package / "unrelated.py").write_text("X = 2\n")
    codeversion.clear_caches()
    assert code_version("affrepro.job") == before
    (package / "sub" / "helper.py").write_text("def f():\n    return 2\n")
    codeversion.clear_caches()
    assert code_version("affrepro.job") != before
    codeversion.clear_caches()


def test_every_job_command_carries_its_code_version(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(repo_config()))
    proc = snakemake(tmp_path, "--printshellcmds", "work/emi/runs/resnet18/metrics.json", dry_run=True)
    assert f"AFFREPRO_CODE={code_version('affrepro.emi.train')} python -m affrepro.emi.train" in proc.stdout
