"""What the ECAN training jobs ask the scheduler for: the measured figures of job_costs.json turned into
requests (the policy: affrepro.resources)."""

from __future__ import annotations

from affrepro.config.resolve import dataset_location
from affrepro.resources import COSTS, mem_mb, runtime

IMAGES = {name: (n["train"], n["other"]) for name, n in COSTS["dataset_sizes"]["ecan_images"].items()}
DEMO_OTHER_SPLITS = {"rafdb": ("n_test",), "fer2013": ("n_public_test", "n_private_test")}
_train, _small, _large = COSTS["ecan_train"], COSTS["ecan_train"]["small"], COSTS["ecan_train"]["large"]
MB_PER_BATCH_PIXEL = (_large["peak_mb"] - _small["peak_mb"]) / (
    _large["batch"] * _large["input_size"] ** 2 - _small["batch"] * _small["input_size"] ** 2
)
# torch, the two ResNet-18 encoders, the bank: ~1,050 MB
BASE_MB = _small["peak_mb"] - MB_PER_BATCH_PIXEL * _small["batch"] * _small["input_size"] ** 2
CPU_S_PER_IMAGE_EPOCH_48PX = _train["cpu_s_per_image_epoch_48px"]


def images(config: dict, dataset: str) -> tuple[int, int]:
    """(training, all) images of a dataset: the demo generator's counts or the real dataset's, max_train applied."""
    if dataset_location(config, dataset) is None:
        demo = config["demo"][dataset]
        train, other = demo["n_train"], sum(demo[key] for key in DEMO_OTHER_SPLITS[dataset])
    else:
        train, other = IMAGES[dataset]
    cap = config["ecan"][dataset]["max_train"]
    train = train if cap is None else min(cap, train)
    return train, train + other


def train_mem_mb(config: dict, spec: dict) -> int:
    """Base + a training batch's activations (two views) + every image held twice (as read, and resized once)."""
    pixels = config["ecan"][spec["dataset"]]["input_size"] ** 2
    _, held = images(config, spec["dataset"])
    batch_mb = MB_PER_BATCH_PIXEL * config["ecan"]["train"]["batch_size"] * pixels
    return mem_mb(BASE_MB + batch_mb + 2 * 3 * pixels * held / 2**20)


def train_runtime(config: dict, spec: dict) -> int:
    """A training job (every seed of the spec's setting): each run's epochs over its training images, at its input size."""
    settings = config["ecan"][spec["dataset"]]
    train, _ = images(config, spec["dataset"])
    per_run = CPU_S_PER_IMAGE_EPOCH_48PX * (settings["input_size"] / 48) ** 2 * train * settings["epochs"]
    return runtime(per_run * len(config["ecan"]["seeds"]))
