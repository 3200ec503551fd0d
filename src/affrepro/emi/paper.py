"""The EMI paper (Hume-Vidmimic2, emotional mimicry intensity) as the shared code sees it (affrepro.registry)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from affrepro.declarations import Dataset, Paper
from affrepro.emi import costs


def history_runs(metrics: dict) -> dict[str, list[dict]]:
    """A branch job's metrics file: one history per seed, labelled <feature_set>/seed<s>."""
    return {f"{metrics['feature_set']}/seed{seed}": entry["history"] for seed, entry in metrics["seeds"].items()}


def work_bytes(config: dict) -> float:
    """Per frame: the uint8 face crop, and every extractor's float32 features twice (per-sample files, then the
    packed store). Dataset sizes: job_costs.json."""
    from affrepro import resources
    from affrepro.emi import plan

    sizes = resources.COSTS["dataset_sizes"]
    frames = sizes["hume_vidmimic2_frames_per_clip"] * sizes["hume_vidmimic2_clips"]
    face = config["preprocess"]["face_size"] ** 2 * 3
    return frames * (face + 2 * 4 * sum(plan.feature_dim(config, e) for e in plan.used_extractors(config)))


def used_extractors(config: dict) -> list[str]:
    from affrepro.emi import plan

    return plan.used_extractors(config)


def config_problems(config: dict) -> list[str]:
    """Feature sets use extractors of their modality, fusions and the submission name feature sets and a
    fusion, and the attention heads divide the TCN's width (with the demo's model settings too)."""
    from affrepro.config.resolve import deep_merge
    from affrepro.emi.extractors import AUDIO, VISUAL

    problems, emi = [], config["emi"]
    for name, spec in emi["feature_sets"].items():
        allowed = set(VISUAL) if spec["modality"] == "V" else set(AUDIO)
        wrong = [e for e in spec["extractors"] if e not in allowed]
        if wrong:
            problems.append(f"emi.feature_sets.{name}: modality {spec['modality']} cannot use extractor(s) {wrong}")
    for name, members in emi["fusions"].items():
        unknown = [m for m in members if m not in emi["feature_sets"]]
        if unknown:
            problems.append(f"emi.fusions.{name}: {unknown} not in emi.feature_sets")
    if emi["submission"] not in emi["fusions"]:
        problems.append(
            f"emi.submission: {emi['submission']!r} is not one of emi.fusions ({', '.join(emi['fusions'])})"
        )
    model = deep_merge(emi["model"], config["demo"]["overrides"].get("emi", {}).get("model", {}))
    if model["tcn_channels"] % model["transformer_heads"]:
        problems.append("emi.model.transformer_heads must divide emi.model.tcn_channels (the attention width)")
    return problems


def describe_hume(location: str) -> str:
    from affrepro.data import hume

    samples = hume.load_samples(location)
    by = {p: sum(s.partition == p for s in samples) for p in ("train", "valid", "test")}
    return f"{len(samples)} clips ({by['train']} train, {by['valid']} valid, {by['test']} test)"


def checks(config: dict) -> list:
    """The OpenFace binary, where a feature set uses action units."""
    from affrepro.check import FOUND, MISSING, WRONG, Item

    if "au" not in {e for s in config["emi"]["feature_sets"].values() for e in s["extractors"]}:
        return []
    binary = config["extractors"]["openface"]["bin"]
    if binary is None:
        return [Item("emi", "extractors.openface.bin", MISSING, "null: the crop-based AU approximation would run")]
    ok = Path(binary).is_file() and os.access(binary, os.X_OK)
    state, detail = (FOUND, f"{binary}: executable") if ok else (WRONG, f"{binary}: not an executable file")
    return [Item("emi", "extractors.openface.bin", state, detail)]


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def readme_table(results: Path) -> str:
    """The README's headline (affrepro.headline): Table 3's rows, the paper's rho, ours (mean ± std over seeds),
    our 95 % interval, the verdict."""
    verdicts = {row["claim_id"]: row for row in _read_csv(results / "emi" / "claims.csv")}
    lines = [
        "| features | paper ρ | ours ρ | 95 % interval | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in _read_csv(results / "table3.csv"):
        claim = verdicts.get(f"table3/{row['Modality']} | {row['Features']}/rho", {})
        ours = f"{row['rho_ours']} ± {row['rho_std']}" if row["rho_std"] else row["rho_ours"] or "—"
        cells = [row["Features"], row["rho_paper"], ours, claim.get("interval") or "—", claim.get("verdict", "—")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


PAPER = Paper(
    key="emi",
    name="EMI",
    title="The EMI paper: Hume-Vidmimic2 -> faces/audio -> features -> branches -> late fusion -> Tables 1-4",
    datasets={"hume_vidmimic2": Dataset("Hume-Vidmimic2", "work/data/hume_vidmimic2", "root", describe_hume)},
    history_runs=history_runs,
    extra_results=("submission_test.csv",),
    readme_table=readme_table,
    work_bytes=work_bytes,
    checks=checks,
    frames_per_item=costs.frames_per_clip,
    config_problems=config_problems,
    extractors=used_extractors,
)
