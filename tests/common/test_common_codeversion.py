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


def test_an_own_module_counts_its_code_not_its_imports(tmp_path, monkeypatch):
    package = tmp_path / "affrepro"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "job.py").write_text("X = 1\n")
    (package / "paper.py").write_text("def f():\n    from affrepro import tool\n\n    return tool.Y\n")
    (package / "tool.py").write_text("Y = 1\n")
    monkeypatch.setattr(codeversion, "PACKAGE_DIR", package)

    def version():
        codeversion.clear_caches()
        return code_version("affrepro.job", own=("affrepro.paper",))

    before = version()
    assert before != code_version("affrepro.job")
    (package / "tool.py").write_text("Y = 2\n")
    assert version() == before
    (package / "paper.py").write_text("def f():\n    return 2\n")
    assert version() != before
    codeversion.clear_caches()


def test_prose_does_not_change_the_hash_and_code_does(tmp_path, monkeypatch):
    package = tmp_path / "affrepro"
    package.mkdir()
    (package / "__init__.py").write_text("")
    job = package / "job.py"
    job.write_text('"""A job."""\n\n\ndef f(x):\n    """Twice x."""\n    return 2 * x  # doubled\n')
    monkeypatch.setattr(codeversion, "PACKAGE_DIR", package)

    def version(text):
        job.write_text(text)
        codeversion.clear_caches()
        return code_version("affrepro.job")

    before = version(job.read_text())
    # docstrings, comments and layout are prose
    assert version('"""A job, reworded."""\n\ndef f(x):\n    """Two times x."""\n\n    return 2*x\n') == before
    assert version('"""A job."""\n\n\ndef f(x):\n    return 2 * x\n') == before
    # a string that is not a docstring, and the code, are code
    assert version('"""A job."""\n\n\ndef f(x):\n    "Twice x."\n    return 3 * x\n') != before
    assert version('"""A job."""\nNAME = "job"\n\n\ndef f(x):\n    return 2 * x\n') != before
    assert version('"""A job."""\n\n\ndef f(x):\n    y = "Twice x."\n    return 2 * x\n') != before
    codeversion.clear_caches()


def test_every_job_command_carries_its_code_version(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(repo_config()))
    proc = snakemake(tmp_path, "--printshellcmds", "work/emi/runs/resnet18/metrics.json", dry_run=True)
    # a paper's job also reads its paper's registry entry (loaded by name, so not among its imports): its own
    # code, not what its other functions import (affrepro.check, the cost models)
    code = code_version("affrepro.emi.train", own=("affrepro.emi.paper",))
    assert f"AFFREPRO_CODE={code} python -m affrepro.emi.train" in proc.stdout
    assert code != code_version("affrepro.emi.train")
    assert "affrepro.check" in closure("affrepro.emi.paper") and "affrepro.check" not in closure("affrepro.emi.train")
