"""Is this machine ready for a paper-comparable run? One line per item, found / wrong / missing, with the fix.

    affrepro check [--config config.yaml] [--paper emi|va|ecan ...] [--workdir .]

For each paper: its datasets (location, format, counts), every checkpoint it needs
(present, loadable, the right architecture), the OpenFace binary (EMI's AUs), the
substitutes a run would use, the device and precision, and the disk space its work
files need. Exits 1 when anything is missing or wrong, so a script can stop before
hours of preprocessing; a demo dataset counts as missing (the demo is not the paper's data).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from affrepro import registry
from affrepro.config.load import load_config
from affrepro.config.reading import ConfigError
from affrepro.config.resolve import dataset_location, effective_config
from affrepro.config.weights import weighted_extractors
from affrepro.data import DatasetError
from affrepro.substitutes import substitutes

FOUND, WRONG, MISSING, NOTE = "found", "wrong", "missing", "note"


@dataclass(frozen=True)
class Item:
    paper: str
    name: str
    state: str  # found | wrong | missing | note
    detail: str

    def line(self) -> str:
        return f"{self.paper:5} {self.state:8} {self.name:28} {self.detail}"


def dataset_items(config: dict, paper: str) -> list[Item]:
    items = []
    for name, dataset in registry.paper(paper).datasets.items():
        location = dataset_location(config, name)
        key = f"datasets.{name}.{dataset.location_key}"
        if location is None:
            items.append(
                Item(paper, name, MISSING, f"{key} is null: the embedded demo runs; set it to the real dataset")
            )
            continue
        try:
            items.append(Item(paper, name, FOUND, f"{location}: {dataset.describe(location)}"))
        except (DatasetError, OSError, ValueError) as error:
            items.append(Item(paper, name, WRONG, f"{error}"))
    return items


def _builders() -> dict[str, Callable]:
    from affrepro.features import dino, iresnet, resnet, vggish, wav2vec2

    return {
        "resnet18": lambda spec, config: resnet.build(spec),
        "dino": lambda spec, config: dino.build(spec),
        "wav2vec2": lambda spec, config: wav2vec2.build(spec, config["extractors"]["wav2vec2"].get("random_arch", {})),
        "iresnet50": lambda spec, config: iresnet.build(spec, config["extractors"]["iresnet50"]["input_size"]),
        "vggish": lambda spec, config: vggish.build(spec),
    }


def weight_item(paper: str, key: str, value: str | None, build: Callable | None) -> Item:
    """One checkpoint: set, present, and loaded into the architecture the paper uses (`build`)."""
    from affrepro.features.weights import parse_weights

    if value is None:
        return Item(paper, key, MISSING, f"{key} is null: give the paper's checkpoint (docs/real-data.md lists each)")
    if value == "random":
        return Item(paper, key, WRONG, f"{key} is `random`: a random-init model would stand in for the pretrained one")
    try:
        spec = parse_weights(value, key.split(".")[1])
        if spec.kind == "hub" and not Path(value).exists():
            from huggingface_hub import try_to_load_from_cache

            if not isinstance(try_to_load_from_cache(value, "config.json"), str):
                return Item(
                    paper, key, MISSING, f"{value!r} is not in the local Hugging Face cache: `hf download {value}`"
                )
        if build is not None:
            build(spec)
    except Exception as error:  # any failure to load is the item's answer, named
        return Item(paper, key, WRONG, f"{value}: cannot be loaded as the paper's model ({error})")
    return Item(paper, key, FOUND, f"{value}: loads into the paper's architecture")


def weight_items(config: dict, paper: str) -> list[Item]:
    builders = _builders()
    return [
        weight_item(
            paper,
            f"extractors.{name}.weights",
            config["extractors"][name]["weights"],
            lambda spec, name=name: builders[name](spec, config) if name in builders else None,
        )
        for name in sorted(set(weighted_extractors(config, paper)))
    ]


def compute_items(config: dict, paper: str) -> list[Item]:
    import torch

    device, precision = config["compute"]["device"], config["compute"]["precision"]
    resolved = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    items = []
    if resolved.startswith("cuda") and not torch.cuda.is_available():
        items.append(Item(paper, "compute.device", WRONG, f"{device}: no CUDA device here; use cpu or a GPU node"))
    else:
        items.append(
            Item(paper, "compute.device", FOUND, f"{device} ({resolved} here)" if device == "auto" else device)
        )
    slow = precision == "bf16" and resolved == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported()
    note = "; this CPU has no bf16 kernels (no AVX512-BF16/AMX): bf16 runs ~20x slower, consider fp32" if slow else ""
    items.append(Item(paper, "compute.precision", NOTE if slow else FOUND, f"{precision}{note}"))
    return items


def disk_item(config: dict, paper: str, workdir: Path) -> Item:
    free = shutil.disk_usage(workdir).free
    try:
        needed = registry.paper(paper).work_bytes(config)
    except (OSError, ValueError, KeyError) as error:  # wav2vec2's width comes from a checkpoint not found yet
        return Item(paper, "disk space", NOTE, f"{free / 1e9:.0f} GB free in {workdir}; the need is unknown ({error})")
    state = FOUND if free > needed else MISSING
    detail = f"{free / 1e9:.0f} GB free in {workdir}, a real run writes ~{needed / 1e9:.0f} GB under work/"
    return Item(paper, "disk space", state, detail)


def check(config: dict, papers: list[str], workdir: Path) -> list[Item]:
    items = []
    for paper in papers:
        effective = effective_config(config, paper)
        items += (
            dataset_items(effective, paper) + weight_items(effective, paper) + registry.paper(paper).checks(effective)
        )
        items += [Item(paper, f"substitute {k}", WRONG, text) for k, text in substitutes(effective, paper).items()]
        items += compute_items(effective, paper) + [disk_item(effective, paper, workdir)]
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="affrepro check", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config.yaml"), help="the config to check (config.yaml)")
    parser.add_argument("--paper", nargs="+", choices=sorted(registry.PAPERS), default=sorted(registry.PAPERS))
    parser.add_argument("--workdir", type=Path, default=Path("."), help="where work/ will be written")
    args = parser.parse_args(argv)
    try:
        items = check(load_config(args.config), args.paper, args.workdir)
    except ConfigError as error:
        print(f"affrepro check: {error}", file=sys.stderr)
        return 2
    print("\n".join(item.line() for item in items))
    bad = [item for item in items if item.state in (WRONG, MISSING)]
    print(f"{len(items) - len(bad)} of {len(items)} items ready" + (f"; {len(bad)} missing or wrong" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
