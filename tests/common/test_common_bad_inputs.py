"""Bad inputs (issue 13): each is refused early with a message naming the file or key, or handled as documented.

docs/bad-inputs.md lists every case with its expected outcome and the test that checks it
(this file, or the paper's test folder where the case already had a test). Every test
asserts the message names the file or the key the user has to fix.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import helpers
import numpy as np
import pytest
import yaml
from helpers import FIXTURES, REPO

from affrepro import pack, store
from affrepro.config import command_line_config
from affrepro.data import DatasetError, affwild2, fer2013, hume, rafdb
from affrepro.demo.expressions import write_fer2013
from affrepro.ecan import prepare as ecan_prepare
from affrepro.emi import plan as emi_plan
from affrepro.emi import prepare as emi_prepare
from affrepro.emi.stats import dataset_stats
from affrepro.features import save_features
from affrepro.io import atomic_path, read_json, write_json
from affrepro.media import ffmpeg_exe, unreadable
from affrepro.provenance import left_out, left_out_note
from affrepro.va import plan as va_plan
from affrepro.va import prepare as va_prepare

VIDEO = FIXTURES / "video" / "single_face.mp4"  # 2.42 s, 30 fps, with audio
WAV = FIXTURES / "audio" / "librivox_0870.wav"
HUME_HEADER = "Filename,Admiration,Amusement,Determination,Empathic Pain,Excitement,Joy\n"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Broken and short media made from the fixtures: truncated (index first, then cut), garbage, audio-only, no audio, a 0.5 s clip."""
    folder = tmp_path_factory.mktemp("media")
    ffmpeg("-i", str(VIDEO), "-c", "copy", "-movflags", "+faststart", str(folder / "faststart.mp4"))
    data = (folder / "faststart.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) * 3 // 10])  # decodes ~0.5 of 2.42 s, ffmpeg exits 0
    (folder / "garbage.mp4").write_bytes(bytes(range(256)) * 20)
    ffmpeg("-i", str(VIDEO), "-an", "-c", "copy", str(folder / "no_audio.mp4"))
    ffmpeg(
        "-i",
        str(VIDEO),
        "-t",
        "0.5",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        str(folder / "clip.mp4"),
    )
    shutil.copy(WAV, folder / "speech.wav")
    return {path.stem: path for path in folder.iterdir()}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "affrepro.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=helpers.snakemake_env(),
    )


def fake_weights(folder: Path) -> dict:
    """Local stand-ins for the paper's checkpoints (start-up checks only that they exist; wav2vec2's width is read from config.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resnet18.pth").write_bytes(b"x")
    (folder / "dino").mkdir(exist_ok=True)
    (folder / "wav2vec2").mkdir(exist_ok=True)
    (folder / "wav2vec2" / "config.json").write_text('{"hidden_size": 1024, "num_hidden_layers": 12}')
    (folder / "FeatureExtraction").write_bytes(b"")
    return {
        "resnet18": {"weights": str(folder / "resnet18.pth")},
        "dino": {"weights": str(folder / "dino")},
        "wav2vec2": {"weights": str(folder / "wav2vec2")},
        "openface": {"bin": str(folder / "FeatureExtraction")},
    }


def workdir_with(tmp_path: Path, config: dict) -> Path:
    workdir = tmp_path / "run"
    workdir.mkdir(exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def hume_root(
    root: Path,
    train: str = "1,0.1,0.2,0.3,0.4,0.5,0.6\n2,0,0,0,0,0,1\n",
    valid: str = "3,0.5,0.5,0.5,0.5,0.5,0.5\n",
    videos: dict | None = None,
) -> Path:
    (root / "raw").mkdir(parents=True)
    (root / "train_split.csv").write_text(HUME_HEADER + train)
    (root / "valid_split.csv").write_text(HUME_HEADER + valid)
    for key, source in (videos or {"1": VIDEO, "2": VIDEO, "3": VIDEO}).items():
        shutil.copy(source, root / "raw" / f"{key}.mp4")
    return root


def real_hume_config(tmp_path: Path, root: Path) -> dict:
    config = helpers.repo_config()
    config["datasets"]["hume_vidmimic2"]["root"] = str(root)
    for name, settings in fake_weights(tmp_path / "weights").items():
        config["extractors"][name] |= settings
    return config


def message(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


# ------------------------------------------------------------------ README commands


def readme_commands() -> list[str]:
    """Every `snakemake`, `dvc` and `affrepro` command line of README.md and docs/*.md: bash blocks (comments
    dropped, continuations joined, `&&` split) and code spans (also those quoted inside other blocks)."""
    # docs/bad-inputs.md lists commands that must fail: each has its own test there.
    docs = [p for p in sorted((REPO / "docs").glob("*.md")) if p.name != "bad-inputs.md"]
    text = "\n".join(p.read_text() for p in [REPO / "README.md", *docs])
    starts = re.compile(r"^(snakemake|dvc|affrepro)\s")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.split(r"\s+#", line, maxsplit=1)[0].split("&&"):
                if starts.match(part.strip()):
                    commands.append(" ".join(part.split()))
    outside = re.sub(r"```bash\n.*?```", "", text, flags=re.S)
    commands += [span for span in re.findall(r"`([^`\n]+)`", outside) if starts.match(span)]
    return list(dict.fromkeys(commands))


# The README's placeholders for the real datasets, and the small stand-ins the test writes there.
README_DATA = ("/data/Hume-Vidmimic2", "/data/fer2013/fer2013.csv.gz")


@pytest.fixture(scope="module")
def readme_workdir(tmp_path_factory, media) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("readme")
    hume = hume_root(base / "hume")
    fer = base / "fer2013.csv.gz"
    write_fer2013(
        fer,
        helpers.repo_config()["demo"]["fer2013"]
        | {"n_train": 70, "n_public_test": 14, "n_private_test": 14, "min_per_class": 2},
    )
    config = real_hume_config(base, hume)  # a reader following "Running on the real data" gives the paper's weights
    workdir = base / "work"
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(media["clip"], workdir / "clip.mp4")
    return workdir, dict(zip(README_DATA, (str(hume), str(fer))))


def test_the_readme_has_the_commands_this_test_runs():
    commands = readme_commands()
    assert (
        "snakemake --cores 8 results/table3.csv" in commands
        and "affrepro faces clip.mp4 --out clip_faces.npz" in commands
    )
    assert "dvc repro" in commands and "dvc metrics diff HEAD~1" in commands
    assert any("ecan='{fer2013: {max_train: 3500}}'" in c for c in commands)
    assert len(commands) >= 15


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_works(command, readme_workdir):
    """Each README command, checked without doing the work it describes.

    snakemake: a dry run (-n) in a fresh working directory with the repository's config.yaml (plus local
    stand-ins for the real checkpoints, as "Running on the real data" asks; the /data placeholders point to
    small datasets in the real layout). dvc repro and dvc exp run: `--dry` (prints the stages it would run), in
    a clone of HEAD, which must be left unchanged. The other dvc commands only read (metrics, params, plots,
    exp show), so they run as written. affrepro has no dry run: the
    commands run as written on a 0.5 s clip.
    """
    workdir, data = readme_workdir
    # The README's placeholders, and the .test command's checkout and scratch folder.
    for placeholder, stand_in in data.items() | {"$PWD": str(REPO), "/tmp/tiny-emi": str(workdir / "tiny-emi")}.items():
        command = command.replace(placeholder, stand_in)
    words = shlex.split(command)
    tool, args = words[0], words[1:]
    if "--report" in args:
        pytest.skip("a report needs a finished run: tests/emi and tests/ecan test_*_workflow.py make and check one")
    if tool == "snakemake":
        if "--sdm" in args and shutil.which("conda") is None:
            pytest.skip("`snakemake --sdm conda` needs conda, which this machine lacks")
        proc = helpers.snakemake_run(workdir, "-n", *args)
        assert proc.returncode == 0, message(proc)[-3000:]
        assert "Traceback" not in message(proc)
    elif tool == "dvc":
        if not (REPO / ".git").exists():
            pytest.skip("dvc needs the git checkout")
        cwd = REPO
        if args[0] == "repro" or args[:2] == ["exp", "run"]:
            # They would rerun a paper (and `exp run -S` edits config.yaml): a dry run, in a clone of HEAD.
            cwd = workdir / "clone"
            if not cwd.exists():
                subprocess.run(["git", "clone", "--quiet", str(REPO), str(cwd)], check=True)
            args = [*args, "--dry"]
        proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True)
        assert proc.returncode == 0, message(proc)[-3000:]
        if cwd != REPO:
            assert not subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True
            ).stdout
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "affrepro.cli", *args], cwd=workdir, capture_output=True, text=True
        )
        assert proc.returncode == 0, message(proc)[-3000:]
        assert (workdir / args[args.index("--out") + 1]).is_file()


# ------------------------------------------------------------------ config


@pytest.mark.parametrize(
    "overrides, key, typed",
    [
        ({"ecan": "{fer2013: {max_train: 3500}}"}, ("ecan", "fer2013", "max_train"), 3500),
        ({"preprocess": "{shards: 2, audio: {peak_dbfs: -6.5}}"}, ("preprocess", "audio", "peak_dbfs"), -6.5),
        ({"datasets": "{hume_vidmimic2: {root: null}}"}, ("datasets", "hume_vidmimic2", "root"), None),
        ({"datasets": "{rafdb: {root: /data/RAF-DB}}"}, ("datasets", "rafdb", "root"), "/data/RAF-DB"),
        ({"emi": "{train: {lr: 1e-4}, seeds: [0, 1]}"}, ("emi", "train", "lr"), 1e-4),
        ({"extractors": "{wav2vec2: {layer: 12}}"}, ("extractors", "wav2vec2", "layer"), 12),
        ({"allow_substitutes": "true"}, ("allow_substitutes",), True),
    ],
)
def test_command_line_config_values_get_the_schema_types(overrides, key, typed):
    """Snakemake leaves every nested --config scalar as text; they are typed as config.yaml would type them."""
    parsed = {
        name: yaml.load(value, Loader=yaml.BaseLoader) for name, value in overrides.items()
    }  # what Snakemake hands over
    value = command_line_config(parsed)
    for part in key:
        value = value[part]
    assert value == typed and type(value) is type(typed)


def test_command_line_config_is_applied_before_validation(tmp_path):
    workdir = workdir_with(tmp_path, helpers.repo_config())
    proc = helpers.snakemake_run(
        workdir,
        "-n",
        "results/table3.csv",
        "--config",
        "preprocess={shards: 3}",
        "datasets={hume_vidmimic2: {root: null}}",
    )
    assert proc.returncode == 0, message(proc)[-2000:]
    assert (
        "emi_prepare" in proc.stdout and "shard2" in proc.stdout and "shard3" not in proc.stdout
    )  # 3 shards, on the demo
    assert (
        "--config value(s) kept over demo.overrides on demo data: preprocess.shards = 3" in proc.stderr
    )  # not replaced by the demo's 2
    proc = helpers.snakemake_run(
        workdir, "-n", "results/ecan/table5.csv", "--config", "ecan={fer2013: {max_train: abc}}"
    )
    assert proc.returncode != 0 and "'ecan.fer2013.max_train': 'abc' is not of type 'integer', 'null'" in message(proc)


def test_dotted_config_keys_are_refused_before_the_workflow_runs(tmp_path):
    """Snakemake itself refuses `--config a.b=1` before the workflow is read (its message, upstream snakemake#3907); nothing runs."""
    workdir = workdir_with(tmp_path, helpers.repo_config())
    proc = helpers.snakemake_run(workdir, "results/table3.csv", "--config", "preprocess.shards=2")
    assert proc.returncode != 0 and "Invalid config definition" in message(proc)
    assert not (workdir / "work").exists()


def test_missing_configfile_is_named(tmp_path):
    workdir = workdir_with(tmp_path, helpers.repo_config())
    proc = helpers.snakemake_run(workdir, "-n", "results/table3.csv", "--configfile", str(tmp_path / "nope.yaml"))
    assert proc.returncode != 0 and f"No such file or directory: '{tmp_path / 'nope.yaml'}'" in message(proc)


def run_only(
    workdir: Path, rule: str, target: str, snakefile: Path = REPO / "Snakefile", env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `target` with only `rule` allowed, first creating each input it lacks as an empty file (as if upstream had run)."""
    base = [
        sys.executable,
        "-m",
        "snakemake",
        target,
        "-s",
        str(snakefile),
        "-d",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        "1",
        "--allowed-rules",
        rule,
    ]
    env = env or helpers.snakemake_env()
    for _ in range(3):
        text = message(subprocess.run(base + ["-n"], capture_output=True, text=True, env=env))
        missing = (
            re.findall(r"^ {8}(\S.*?)\s*$", text.split("affected files:", 1)[1], re.M)
            if "affected files:" in text
            else []
        )
        for path in missing:
            (workdir / path).parent.mkdir(parents=True, exist_ok=True)
            (workdir / path).write_text("")
        if not missing:
            break
    return subprocess.run(base, capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    "section, rule, target",
    [
        ("feature_sets", "emi_train", "work/emi/runs/{name}/metrics.json"),
        ("fusions", "emi_aggregate", "work/emi/fusion/{name}/metrics.json"),
    ],
)
def test_a_name_from_the_config_cannot_run_a_command(section, rule, target, tmp_path):
    """A feature-set or fusion name with shell syntax used to run `touch` (it reached `shell:` unquoted).

    Now the schema refuses it at start-up, naming the key, and every value a rule passes to a shell is quoted.
    (Before the fix this test created PWNED: run it with the Snakefile and src/ of commit e34aed1.)
    """
    name = "x||touch PWNED||y"
    config = helpers.repo_config()
    config["emi"][section][name] = (
        {"modality": "V", "extractors": ["resnet18"]} if section == "feature_sets" else ["vit", "wav2vec2"]
    )
    workdir = workdir_with(tmp_path, config)
    proc = run_only(workdir, rule, target.format(name=name))
    assert not (workdir / "PWNED").exists()
    assert proc.returncode != 0 and f"'emi.{section}': '{name}' is not allowed" in message(proc)


def test_every_value_a_rule_hands_to_a_shell_is_quoted():
    unquoted = []
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        unquoted += [
            f"{path.name}: {m}"
            for m in re.findall(r"\{(?:wildcards|params|input|output|log)(?:\.\w+)?\}", path.read_text())
        ]
    assert not unquoted, unquoted


def test_a_dry_run_plans_and_a_real_run_names_an_unwritable_config(tmp_path):
    """`work/config` is a file here, so the resolved config cannot be written (as on a full or read-only disk)."""
    workdir = workdir_with(tmp_path, helpers.repo_config())
    (workdir / "work").mkdir()
    (workdir / "work" / "config").write_text("in the way")
    proc = helpers.snakemake_run(workdir, "-n", "results/table3.csv")
    assert proc.returncode == 0, message(proc)[-2000:]
    assert sorted(p.name for p in (workdir / "work").iterdir()) == ["config"]
    proc = helpers.snakemake_run(workdir, "work/data/fer2013/fer2013.csv.gz")
    assert proc.returncode != 0 and re.search(
        r"cannot write the resolved config work/config/config-\w+\.yaml", message(proc)
    )
    assert "Traceback" not in message(proc) and not (workdir / "work" / "data").exists()


def test_outputs_get_the_umasks_mode(tmp_path):
    """Atomic writes used to leave results 0600 (mkstemp); a file now gets what open() gives under the umask."""
    code = "import os; os.umask(0o027); from affrepro.io import write_text; write_text({!r}, 'x')"
    subprocess.run([sys.executable, "-c", code.format(str(tmp_path / "a.csv"))], check=True)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o640
    subprocess.run([sys.executable, "-c", code.replace("0o027", "0o002").format(str(tmp_path / "b.csv"))], check=True)
    assert (tmp_path / "b.csv").stat().st_mode & 0o777 == 0o664


# ------------------------------------------------------------------ CLI


@pytest.mark.parametrize(
    "args, option",
    [
        (["faces", "{video}", "--size", "0"], "--size"),
        (["faces", "{video}", "--fps", "0"], "--fps"),
        (["faces", "{video}", "--min-face-size", "0"], "--min-face-size"),
        (["faces", "{video}", "--threads", "0"], "--threads"),
        (["faces", "{video}", "--fps", "thirty"], "--fps"),
        (["audio", "{video}", "--sample-rate", "0"], "--sample-rate"),
        (["audio", "{video}", "--peak-dbfs", "10"], "--peak-dbfs"),
        (["audio", "{video}", "--peak-dbfs", "nan"], "--peak-dbfs"),
        (["audio", "{video}", "--peak-dbfs", "inf"], "--peak-dbfs"),
    ],
)
def test_cli_arguments_are_checked(args, option, tmp_path):
    out = tmp_path / ("out.npz" if args[0] == "faces" else "out.wav")
    proc = cli(*[a.format(video=VIDEO) for a in args], "--out", str(out))
    assert proc.returncode == 2 and f"argument {option}:" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize("command", ["faces", "audio"])
def test_cli_checks_the_output_is_writable_before_the_work(command, tmp_path):
    (tmp_path / "a_file").write_text("")
    out = tmp_path / "a_file" / "out.npz"
    started = time.monotonic()
    proc = cli(command, str(VIDEO), "--out", str(out))
    assert proc.returncode == 2 and f"{out}: cannot write there" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 60  # no detection pass first


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_refuses_a_read_only_output_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    proc = cli("audio", str(VIDEO), "--out", str(folder / "a.wav"))
    assert proc.returncode == 2 and f"{folder / 'a.wav'}: cannot write there (Permission denied)" in proc.stderr


def test_faces_of_an_audio_file_says_it_has_no_video(media, tmp_path):
    proc = cli("faces", str(media["speech"]), "--out", str(tmp_path / "f.npz"))
    assert proc.returncode == 2 and f"{media['speech']}: has no video stream" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr


@pytest.mark.parametrize("command", ["faces", "audio"])
def test_an_unreadable_file_gets_one_line_not_ffmpegs_banner(command, media, tmp_path):
    proc = cli(command, str(media["garbage"]), "--out", str(tmp_path / "out"))
    assert (
        proc.returncode == 2 and f"{media['garbage']}: ffmpeg c" in proc.stderr and "moov atom not found" in proc.stderr
    )
    assert "configuration:" not in proc.stderr and "ffmpeg version" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2, proc.stderr


def test_audio_of_a_video_without_audio_is_named(media, tmp_path):
    proc = cli("audio", str(media["no_audio"]), "--out", str(tmp_path / "a.wav"))
    assert proc.returncode == 2 and f"{media['no_audio']}: has no audio stream" in proc.stderr


def test_a_truncated_file_is_reported_as_partial(media, tmp_path):
    """The index is at the start, so ffmpeg decodes the first fifth and exits 0; the shortfall is now said."""
    proc = cli("audio", str(media["truncated"]), "--out", str(tmp_path / "a.wav"))
    assert proc.returncode == 0
    found = re.search(
        rf"{re.escape(str(media['truncated']))}: decoded (\d+\.\d+) s of audio out of the 2\.42 s its container states",
        proc.stderr,
    )
    assert found and float(found[1]) < 1.5, proc.stderr


def test_an_interrupted_write_leaves_nothing(tmp_path):
    """Ctrl-C in a job raises KeyboardInterrupt inside its write: neither the output nor the temporary file stays
    (so the rerun redoes that job and only that job, docs/running.md, "Stopping and resuming")."""
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "table.csv") as tmp:
            tmp.write_text("half a ta")
            raise KeyboardInterrupt
    assert sorted(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ Hume-Vidmimic2


@pytest.mark.parametrize("split", ["train", "valid"])
def test_an_empty_hume_split_stops_start_up(split, tmp_path):
    root = hume_root(tmp_path / "hume", **{split: ""})
    with pytest.raises(DatasetError, match=rf"{split}_split.csv: no sample rows \(only a header\)"):
        hume.load_samples(root)
    proc = helpers.snakemake_run(workdir_with(tmp_path, real_hume_config(tmp_path, root)), "-n", "results/table3.csv")
    assert proc.returncode != 0 and f"{root / f'{split}_split.csv'}: no sample rows" in message(proc)


def prepare_job(root: Path, config: dict, stage: str, tmp_path: Path) -> dict:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    manifest = tmp_path / stage / "shard0.json"
    emi_prepare.main(
        [
            "--config",
            str(config_path),
            "--stage",
            stage,
            "--root",
            str(root),
            "--shard",
            "0",
            "--shards",
            "1",
            "--manifest",
            str(manifest),
        ]
    )
    return read_json(manifest)


def test_hume_unreadable_video_fails_by_default_and_is_left_out_with_skip(media, tmp_path):
    root = hume_root(
        tmp_path / "hume",
        valid="3,0.5,0.5,0.5,0.5,0.5,0.5\n4,0,0,0,0,0,0\n",
        videos={"1": VIDEO, "2": media["truncated"], "3": media["garbage"], "4": VIDEO},
    )
    config = real_hume_config(tmp_path, root)
    with pytest.raises(Exception, match=rf"{re.escape(str(root / 'raw' / '3.mp4'))}: ffmpeg c"):
        prepare_job(root, config, "audio", tmp_path)
    config["datasets"]["hume_vidmimic2"]["on_unreadable"] = "skip"
    manifests = [prepare_job(root, config, "audio", tmp_path)]
    assert list(manifests[0]["skipped"]) == ["3"] and "moov atom not found" in manifests[0]["skipped"]["3"]
    assert sorted(manifests[0]["samples"]) == ["1", "2", "4"]
    assert manifests[0]["partial"] == ["2"] and manifests[0]["samples"]["2"]["coverage"]["container_s"] == 2.42
    assert manifests[0]["samples"]["1"]["coverage"]["partial"] is False
    stats = dataset_stats(root, manifests)
    assert stats["partitions"]["valid"] == {
        "samples": 1,
        "duration_s": 2.42,
        "skipped": 1,
    }  # Table 1 counts what was used
    assert stats["skipped"] == manifests[0]["skipped"] and list(stats["partial"]) == ["2"]
    splits = emi_plan.labelled_splits(
        {"datasets": config["datasets"], "demo": config["demo"]}, root, left_out=stats["skipped"]
    )
    assert splits["valid"][0] == ["4"] and splits["train"][0] == ["1", "2"]


def test_the_store_and_training_leave_out_what_prepare_skipped(tmp_path):
    """A sample the prepare stage left out (on_unreadable: skip) is not packed, and training plans without it."""
    root = hume_root(
        tmp_path / "hume", valid="3,0.5,0.5,0.5,0.5,0.5,0.5\n4,0,0,0,0,0,0\n", videos={k: VIDEO for k in "1234"}
    )
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(real_hume_config(tmp_path, root)))
    for key in "124":
        save_features(tmp_path / f"{key}.npz", np.full((5, 3), float(key), np.float32), np.arange(5), 5)
    why = {"3": f"{root / 'raw' / '3.mp4'}: ffmpeg cannot read it (moov atom not found)"}
    manifest = {
        "stage": "features",
        "extractor": "au",
        "samples": {k: {"file": str(tmp_path / f"{k}.npz")} for k in "124"},
        "shard": 0,
        "shards": 1,
        "skipped": why,
    }
    write_json(tmp_path / "features.json", manifest)
    pack.main(
        [
            "--config",
            str(config_path),
            "--paper",
            "emi",
            "--root",
            str(root),
            "--features",
            str(tmp_path / "features.json"),
            "--out-dir",
            str(tmp_path / "packed"),
            "--manifest",
            str(tmp_path / "packed.json"),
        ]
    )
    assert read_json(tmp_path / "packed.json")["features"]["skipped"] == why
    opened = store.open_store(tmp_path / "packed.json")
    assert opened["train"].keys == ["1", "2"] and opened["valid"].keys == ["4"]


def test_a_left_out_sample_is_noted_in_every_table_row():
    provenance = left_out({"hume_vidmimic2": {"3": "raw/3.mp4: ffmpeg cannot read it"}, "rafdb": {}})
    assert provenance == {"skipped": {"hume_vidmimic2": {"3": "raw/3.mp4: ffmpeg cannot read it"}}}
    assert left_out_note(provenance).startswith("unreadable samples left out: 1 of hume_vidmimic2")
    assert left_out({"rafdb": {}}) == {} and left_out_note({}) == ""


def test_unreadable_says_why(media):
    assert unreadable(media["clip"]) is None
    assert "has no audio stream" in unreadable(media["no_audio"]) and "has no video stream" in unreadable(
        media["speech"]
    )
    assert unreadable(media["truncated"]) is None  # readable, only short: that is `partial`, not unreadable


# ------------------------------------------------------------------ Aff-Wild2


def affwild2_root(root: Path, trials: dict[str, Path], rows: int = 4) -> Path:
    """Train trials `a`, `b`... with their crops and video, and one validation trial `v`."""
    import cv2

    for split, names in (("train", list(trials)), ("valid", ["v"])):
        for name in names:
            path = affwild2.annotation_path(root, split, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("valence,arousal\n" + "0.1,0.2\n" * rows)
            (root / "cropped_aligned" / name).mkdir(parents=True)
            for frame in range(rows):
                cv2.imwrite(str(affwild2.frame_path(root, name, frame)), np.full((112, 112, 3), 60, np.uint8))
    (root / "videos").mkdir()
    for name, video in {**trials, "v": VIDEO}.items():
        shutil.copy(video, root / "videos" / f"{name}.mp4")
    return root


def test_an_empty_affwild2_split_folder_is_named(tmp_path):
    root = affwild2_root(tmp_path / "aff", {"a": VIDEO})
    affwild2.annotation_path(root, "valid", "v").unlink()
    with pytest.raises(DatasetError, match=r"Validation_Set: no annotation files"):
        affwild2.list_trials(root)


def test_a_header_only_annotation_is_named(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("valence,arousal\n")
    with pytest.raises(DatasetError, match=rf"{re.escape(str(path))}: no annotation rows after the header"):
        affwild2.read_annotation(path)


def test_too_few_affwild2_videos_for_the_folds_stop_start_up(tmp_path):
    root = affwild2_root(tmp_path / "aff", {"a": VIDEO, "b": VIDEO})
    config = helpers.repo_config()
    config["datasets"]["affwild2"]["root"] = str(root)
    with pytest.raises(
        DatasetError, match=r"VA_Estimation_Challenge: 3 annotated video\(s\) cannot fill va.cv.folds = 6 folds"
    ):
        va_plan.check_pool(config, root)


def test_affwild2_unreadable_video_fails_by_default_and_is_left_out_with_skip(media, tmp_path):
    root = affwild2_root(tmp_path / "aff", {"a": VIDEO, "b": media["garbage"]})
    config = helpers.repo_config()
    config["datasets"]["affwild2"]["root"] = str(root)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))

    def prepare():
        manifest = tmp_path / "prep" / "shard0.json"
        va_prepare.main(
            [
                "--config",
                str(tmp_path / "config.yaml"),
                "--root",
                str(root),
                "--shard",
                "0",
                "--shards",
                "1",
                "--out-dir",
                str(tmp_path / "prep" / "shard0"),
                "--manifest",
                str(manifest),
            ]
        )
        return read_json(manifest)

    with pytest.raises(Exception, match=rf"{re.escape(str(root / 'videos' / 'b.mp4'))}: ffmpeg c"):
        prepare()
    config["datasets"]["affwild2"]["on_unreadable"] = "skip"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    manifest = prepare()
    assert (
        sorted(manifest["trials"]) == ["a", "v"]
        and list(manifest["skipped"]) == ["b"]
        and "b.mp4" in manifest["skipped"]["b"]
    )
    assert manifest["trials"]["a"]["audio_coverage"] == {
        "container_s": 2.42,
        "decoded_s": pytest.approx(2.42, abs=0.05),
        "partial": False,
    }


# ------------------------------------------------------------------ RAF-DB


def test_a_rafdb_image_of_another_size_is_named(tmp_path):
    import cv2

    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(7, 7))
    cv2.imwrite(str(rafdb.image_path(root, "train_00003.jpg")), np.zeros((120, 90, 3), np.uint8))
    with pytest.raises(
        DatasetError, match=r"train_00003_aligned.jpg: 90x120 pixels; RAF-DB aligned images are 100x100"
    ):
        rafdb.load(root)


def test_a_duplicate_rafdb_line_is_refused(tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(7, 7))
    label_file = root / rafdb.LABEL_FILE
    label_file.write_text(label_file.read_text() + "train_00002.jpg 3\n")
    with pytest.raises(
        DatasetError, match=r"list_patition_label.txt:15: train_00002.jpg is listed again \(first on line 2\)"
    ):
        rafdb.read_labels(root)


@pytest.mark.parametrize(
    "entries, empty",
    [
        (helpers.rafdb_entries(14, 0), "test (test_ lines)"),
        (helpers.rafdb_entries(0, 7), "train (train_ lines"),
        (helpers.rafdb_entries(7, 7), "val (the validation hold-out"),  # one image per class: nothing to hold out
    ],
)
def test_an_empty_rafdb_split_stops_start_up(entries, empty, tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", entries)
    ecan = helpers.repo_config()["ecan"]
    with pytest.raises(
        DatasetError, match=rf"{re.escape(str(root / rafdb.LABEL_FILE))}: empty split\(s\): {re.escape(empty)}"
    ):
        ecan_prepare.check_dataset("rafdb", root, ecan)
    with pytest.raises(DatasetError, match=re.escape(empty)):  # and the training job, if it ever got there
        ecan_prepare.load_splits("rafdb", root, ecan)


def test_an_empty_rafdb_split_stops_the_workflow_at_start_up(tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(14, 0))
    config = helpers.repo_config()
    config["datasets"]["rafdb"]["root"] = str(root)
    config["ecan"]["rafdb"]["weights"] = "random"
    config["allow_substitutes"] = True
    proc = helpers.snakemake_run(workdir_with(tmp_path, config), "-n", "results/ecan/table4.csv")
    assert proc.returncode != 0 and f"{root / rafdb.LABEL_FILE}: empty split(s): test" in message(proc)


def test_unreadable_rafdb_images_fail_by_default_and_are_left_out_with_skip(tmp_path):
    root = helpers.write_rafdb(tmp_path / "raf", helpers.rafdb_entries(14, 7))
    rafdb.image_path(root, "train_00004.jpg").write_bytes(b"not a jpeg")
    rafdb.image_path(root, "test_0002.jpg").unlink()
    with pytest.raises(DatasetError, match=r"train_00004_aligned.jpg: image listed in"):
        rafdb.load(root)
    data, skipped = rafdb.read(root, "skip")
    assert (
        sorted(skipped) == ["test_0002.jpg", "train_00004.jpg"] and "test_0002_aligned.jpg" in skipped["test_0002.jpg"]
    )
    assert (
        len(data["train"]["labels"]) == 13
        and len(data["test"]["labels"]) == 6
        and "train_00004.jpg" not in data["train"]["names"]
    )


# ------------------------------------------------------------------ FER2013


@pytest.fixture()
def fer_file(tmp_path) -> Path:
    path = tmp_path / "fer2013.csv.gz"
    write_fer2013(
        path,
        helpers.repo_config()["demo"]["fer2013"]
        | {"n_train": 21, "n_public_test": 7, "n_private_test": 7, "min_per_class": 1},
    )
    return path


def test_a_truncated_fer2013_gz_is_named(fer_file):
    data = fer_file.read_bytes()
    fer_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}: not a complete gzip file"):
        fer2013.load(fer_file)
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}: not a complete gzip file"):
        ecan_prepare.check_dataset("fer2013", fer_file, helpers.repo_config()["ecan"])


@pytest.mark.parametrize("usage, split", [("PrivateTest", "val"), ("PublicTest", "test"), ("Training", "train")])
def test_an_empty_fer2013_split_stops_start_up(usage, split, fer_file):
    text = gzip.decompress(fer_file.read_bytes()).decode()
    fer_file.write_bytes(
        gzip.compress(
            "".join(line for line in text.splitlines(True) if not line.rstrip().endswith("," + usage)).encode()
        )
    )
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}: empty split\(s\): {split} \(Usage {usage}\)"):
        ecan_prepare.check_dataset("fer2013", fer_file, helpers.repo_config()["ecan"])


def test_malformed_fer2013_rows_fail_by_default_and_are_left_out_with_skip(fer_file):
    lines = gzip.decompress(fer_file.read_bytes()).decode().splitlines(True)
    lines[3] = "3,1 2 3,Training\n"
    lines[5] = "9," + lines[5].split(",", 1)[1]
    fer_file.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(DatasetError, match=rf"{re.escape(str(fer_file))}:4: 3 pixel values, expected 2304"):
        fer2013.load(fer_file)
    data, skipped = fer2013.read(fer_file, "skip")
    assert sorted(skipped) == ["line 4", "line 6"] and "emotion '9' is not in 0-6" in skipped["line 6"]
    assert sum(len(split["labels"]) for split in data.values()) == 35 - 2


# ------------------------------------------------------------------ the table of cases


def test_the_bad_inputs_table_lists_at_least_30_cases_and_names_existing_tests():
    text = (REPO / "docs" / "bad-inputs.md").read_text()
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| #") and not set(line) <= set("|- ")
    ]
    assert len(rows) >= 30
    tests = set(re.findall(r"`(test_\w+)`", text))
    defined = {
        name
        for path in (REPO / "tests").rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M)
    }
    assert tests and tests <= defined, sorted(tests - defined)
    for area in ("CLI", "Hume-Vidmimic2", "Aff-Wild2", "RAF-DB", "FER2013", "config"):
        assert any(f"| {area} |" in row for row in rows), area
