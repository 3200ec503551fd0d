"""Train one EMI branch on one feature set for every seed (paper §3.3-3.6, §4.2).

MSE loss (Eqs. 6-7), Adam, learning rate halved when the validation mean
Pearson has not improved for `lr_patience` epochs. The epoch with the best
validation mean Pearson is kept (model selection on validation only; the
test split has no labels). Writes per seed a checkpoint, and for all seeds one
predictions CSV (valid and test) and one metrics JSON; the checkpoints go
beside the metrics.

    python -m affrepro.emi.train --feature-set resnet18_aus --root R --packed work/emi/packed/resnet18.json work/emi/packed/au.json \
        --metrics work/emi/runs/resnet18_aus/metrics.json --predictions work/emi/runs/resnet18_aus/predictions.csv
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from affrepro import compute, jobs
from affrepro.data.hume import LABELS
from affrepro.emi import plan
from affrepro.emi.settings import Train
from affrepro.environment import record as environment_record
from affrepro.files import atomic_path, read_json, write_json
from affrepro.metrics import mean_pearson, mean_std
from affrepro.models.emi import EMIBranch
from affrepro.sequences import batch_inputs, concat_on_shared_frames, fit_standardiser
from affrepro.store import PackedSplit, open_store
from affrepro.training import Trainer, fingerprint, fit, remove_checkpoint

log = logging.getLogger("affrepro.emi.train")

CPU = torch.device("cpu")


class FeatureSetSplit:
    """One split of a feature set, read sample by sample from the extractors' packed stores (affrepro.store).

    A sample's sequence is its extractors' rows on the frames they share (paper Eq. 1);
    `batch` standardises a few samples to fixed length, so only one batch is ever in memory.
    """

    def __init__(
        self,
        stores: list[PackedSplit],
        keys: list[str],
        standardiser: tuple[np.ndarray, np.ndarray] | None = None,
        seq_len: int = 0,
    ):
        missing = [key for key in keys for store in stores if key not in store]
        if missing:
            raise ValueError(
                f"samples {missing[:5]} are not in the packed features {stores[0].path.parent}; rerun the pack jobs"
            )
        self.stores, self.keys, self.standardiser, self.seq_len = stores, keys, standardiser, seq_len

    def __len__(self) -> int:
        return len(self.keys)

    def sequence(self, key: str) -> np.ndarray:
        return concat_on_shared_frames([(store.rows(key), store.frames(key)) for store in self.stores])[0]

    def sequences(self) -> Iterator[np.ndarray]:
        for key in self.keys:
            yield self.sequence(key)

    def n_empty(self) -> int:
        """Samples without a frame that every extractor has (no face found at all, say)."""
        return sum(len(reduce(np.intersect1d, [store.frames(key) for store in self.stores])) == 0 for key in self.keys)

    def with_inputs(self, standardiser: tuple[np.ndarray, np.ndarray], seq_len: int) -> FeatureSetSplit:
        return FeatureSetSplit(self.stores, self.keys, standardiser, seq_len)

    def batch(self, indices: list[int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised fixed-length (x, mask) of samples `indices`, on `device`."""
        x, mask = batch_inputs((self.sequence(self.keys[i]) for i in indices), *self.standardiser, self.seq_len)
        # clone(): torch's own 64-byte-aligned buffers, so BLAS results cannot depend on numpy's alignment
        return torch.from_numpy(x).clone().to(device), torch.from_numpy(mask).clone().to(device)


def predict(model: EMIBranch, split: FeatureSetSplit, batch_size: int, device: torch.device) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        batches = (
            split.batch(list(range(i, min(i + batch_size, len(split)))), device)
            for i in range(0, len(split), batch_size)
        )
        return torch.cat([model(x, mask) for x, mask in batches]).cpu().numpy()


def plateau_scheduler(optimiser: torch.optim.Optimizer, train_params: dict):
    """Paper: "if the validation metric does not improve for 10 epochs, the learning rate is halved".

    ReduceLROnPlateau acts once bad epochs *exceed* `patience`, so patience - 1 halves on the 10th.
    """
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimiser,
        mode="max",
        factor=train_params["lr_factor"],
        patience=max(train_params["lr_patience"] - 1, 0),
        threshold=0.0,
    )


def train_seed(
    seed: int,
    inputs: dict[str, FeatureSetSplit],
    labels: dict,
    use_transformer: bool,
    model_params: dict,
    train_params: dict,
    device: torch.device = CPU,
    checkpoint: Path | None = None,
) -> tuple[EMIBranch, dict]:
    """Inputs are the partitions' FeatureSetSplits (with their standardiser); batches are read as they are needed.
    Every epoch is saved to `checkpoint` and a rerun resumes from it (affrepro.training)."""
    torch.manual_seed(seed)
    train = inputs["train"]
    y_train = torch.from_numpy(labels["train"]).float().to(device)
    model = EMIBranch(sum(store.dim for store in train.stores), use_transformer, model_params).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=train_params["lr"])
    scheduler = plateau_scheduler(optimiser, train_params)
    shuffler = torch.Generator().manual_seed(seed)
    batch_size = train_params["batch_size"]

    def train_epoch(epoch: int) -> float:
        model.train()
        order = torch.randperm(len(train), generator=shuffler)
        losses = []
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            x, mask = train.batch(idx.tolist(), device)
            loss = torch.nn.functional.mse_loss(model(x, mask), y_train[idx.to(device)])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    def evaluate(epoch: int) -> dict:
        score, _ = mean_pearson(labels["valid"], predict(model, inputs["valid"], batch_size, device))
        scheduler.step(score)
        return {"score": score}  # validation mean Pearson

    trainer = Trainer(model, optimiser, train_epoch, evaluate, {"scheduler": scheduler}, {"order": shuffler})
    identity = {"seed": seed, "transformer": use_transformer, "model": model_params, "train": train_params}
    identity |= {"input_dim": sum(store.dim for store in train.stores), "device": str(device)}
    identity["data"] = fingerprint(*train.standardiser, labels["train"], labels["valid"])
    result = fit(trainer, train_params["epochs"], checkpoint, identity, name=f"seed {seed}")
    if not math.isfinite(result.best_scores["score"]):
        raise FloatingPointError(
            f"seed {seed}: the validation score was never finite (training diverged); lower emi.train.lr"
        )
    model.load_state_dict(result.best_state)
    return model, {"best_epoch": result.best_epoch, "history": result.history}


def load_inputs(
    spec: dict, seq_len: int, splits: dict, stores: dict[str, dict[str, PackedSplit]]
) -> tuple[dict[str, FeatureSetSplit], dict]:
    """Each partition's FeatureSetSplit, standardised with the training split's statistics (two streaming passes)."""
    parts = {
        part: FeatureSetSplit([stores[e][part] for e in spec["extractors"]], keys) for part, (keys, _) in splits.items()
    }
    empty = {part: split.n_empty() for part, split in parts.items()}
    if any(empty.values()):
        log.warning("samples without any usable frame (one mean row used): %s", empty)
    mean, std = fit_standardiser(parts["train"].sequences)
    return {part: split.with_inputs((mean, std), seq_len) for part, split in parts.items()}, {
        "mean": mean,
        "std": std,
        "samples_without_frames": empty,
    }


def save_seed_model(path: Path, model: EMIBranch, standardiser: dict, spec: dict, model_params: dict) -> None:
    """One seed's best weights with what reads them (standardiser, feature set, model settings).

    Through a file object: torch names the archive after a path it is given, so the temporary name
    would end up inside the file and two identical runs would differ.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(
            {
                "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "mean": standardiser["mean"],
                "std": standardiser["std"],
                "feature_set": spec,
                "model": model_params,
            },
            handle,
        )


def run(settings: Train, splits: dict, stores: dict[str, dict[str, PackedSplit]], outputs: dict[str, Path]) -> dict:
    """Train every seed; write outputs["predictions"] (CSV), outputs["metrics"] (JSON) and a checkpoint per seed beside them."""
    device = compute.setup(settings.compute)
    feature_set, spec = settings.feature_set, settings.spec
    train_params, model_params = settings.train, settings.model
    inputs, standardiser = load_inputs(spec, train_params["seq_len"], splits, stores)
    labels = {part: y for part, (_, y) in splits.items() if y is not None}
    rows, per_seed = [], {}
    checkpoints = {seed: outputs["metrics"].parent / f"seed{seed}.checkpoint.pt" for seed in settings.seeds}
    for seed in tqdm(settings.seeds, desc=feature_set):
        model, info = train_seed(
            seed, inputs, labels, spec["modality"] == "V", model_params, train_params, device, checkpoints[seed]
        )
        save_seed_model(outputs["metrics"].parent / f"seed{seed}.pt", model, standardiser, spec, model_params)
        preds = {part: predict(model, inputs[part], train_params["batch_size"], device) for part in inputs}
        valid_mean, valid_per_label = mean_pearson(labels["valid"], preds["valid"])
        per_seed[str(seed)] = {
            "valid_mean_pearson": valid_mean,
            "valid_pearson": dict(zip(LABELS, valid_per_label)),
            "best_epoch": info["best_epoch"],
            "history": info["history"],
        }
        rows += [
            {"seed": seed, "partition": part, "id": key, **dict(zip(LABELS, values.tolist()))}
            for part, pred in preds.items()
            for key, values in zip(splits[part][0], pred)
        ]
        log.info("%s seed %d: valid mean Pearson %.4f (epoch %d)", feature_set, seed, valid_mean, info["best_epoch"])
    with atomic_path(outputs["predictions"]) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6f")
    metrics = {
        "feature_set": feature_set,
        "modality": spec["modality"],
        "extractors": spec["extractors"],
        "input_dim": sum(store.dim for store in inputs["train"].stores),
        "substitutes": settings.substitutes,
        "valid_mean_pearson": mean_std([s["valid_mean_pearson"] for s in per_seed.values()]),
        "seeds": per_seed,
        "samples_without_frames": standardiser["samples_without_frames"],
        "train": train_params,
        "model": model_params,
        # Software and machine (device, GPU, CUDA/cuDNN); training is fp32 (no autocast). Read into the tables' provenance sidecars.
        "environment": environment_record(device, "fp32"),
    }
    write_json(outputs["metrics"], metrics)
    for checkpoint in checkpoints.values():  # only now: a rerun of a job killed in a later seed skips the finished ones
        remove_checkpoint(checkpoint)
    return metrics


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__,
        "emi",
        argv,
        feature_set=jobs.TEXT,
        root=jobs.PATH,
        packed=jobs.PATHS,
        metrics=jobs.PATH,
        predictions=jobs.PATH,
    )
    if args.feature_set not in config["emi"]["feature_sets"]:
        raise SystemExit(
            f"--feature-set {args.feature_set!r} is not in emi.feature_sets ({', '.join(config['emi']['feature_sets'])})"
        )
    settings = Train.from_config(config, feature_set=args.feature_set)
    left_out = {
        key for path in args.packed for key in read_json(path)["features"].get("skipped", {})
    }  # on_unreadable: skip
    splits = plan.labelled_splits(settings.samples, args.root, left_out)
    stores = {read_json(path)["extractor"]: open_store(path) for path in args.packed}
    run(settings, splits, stores, {"metrics": args.metrics, "predictions": args.predictions})


if __name__ == "__main__":
    main()
