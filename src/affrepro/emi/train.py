"""Train one EMI branch on one feature set for every seed (paper §3.3-3.6, §4.2).

MSE loss (Eqs. 6-7), Adam, learning rate halved when the validation mean
Pearson has not improved for `lr_patience` epochs. The epoch with the best
validation mean Pearson is kept (model selection on validation only; the
test split has no labels). Writes per seed a checkpoint, and for all seeds one
predictions CSV (valid and test) and one metrics JSON; the checkpoints go
beside the metrics.

    python -m affrepro.emi.train --feature-set resnet18_aus --root R --features work/emi/features/resnet18/shard0.json ... \
        --metrics work/emi/runs/resnet18_aus/metrics.json --predictions work/emi/runs/resnet18_aus/predictions.csv
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from affrepro import compute, jobs
from affrepro.config import substitutes_used
from affrepro.data.hume import LABELS
from affrepro.emi import plan
from affrepro.io import atomic_path, read_json, write_json
from affrepro.metrics import mean_pearson, mean_std
from affrepro.models.emi import EMIBranch
from affrepro.sequences import batch_inputs, fit_standardiser, load_feature_set

log = logging.getLogger("affrepro.emi.train")


def predict(model: EMIBranch, x: torch.Tensor, mask: torch.Tensor, batch_size: int) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch_size], mask[i : i + batch_size]) for i in range(0, len(x), batch_size)]).cpu().numpy()


def plateau_scheduler(optimiser: torch.optim.Optimizer, train_params: dict):
    """Paper: "if the validation metric does not improve for 10 epochs, the learning rate is halved".

    ReduceLROnPlateau acts once bad epochs *exceed* `patience`, so patience - 1 halves on the 10th.
    """
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimiser, mode="max", factor=train_params["lr_factor"], patience=max(train_params["lr_patience"] - 1, 0), threshold=0.0
    )


def train_seed(seed: int, inputs: dict, labels: dict, use_transformer: bool, model_params: dict, train_params: dict, device: torch.device = torch.device("cpu")) -> tuple[EMIBranch, dict]:
    """Inputs are (x, mask) tensors per partition, already on `device`."""
    torch.manual_seed(seed)
    x_train, m_train = inputs["train"]
    y_train = torch.from_numpy(labels["train"]).float().to(device)
    model = EMIBranch(x_train.shape[-1], use_transformer, model_params).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=train_params["lr"])
    scheduler = plateau_scheduler(optimiser, train_params)
    shuffler = torch.Generator().manual_seed(seed)
    batch_size = train_params["batch_size"]
    best = {"valid_mean_pearson": -np.inf, "epoch": -1}
    best_state = None
    history = []
    for epoch in range(train_params["epochs"]):
        model.train()
        order = torch.randperm(len(x_train), generator=shuffler).to(device)
        losses = []
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            loss = torch.nn.functional.mse_loss(model(x_train[idx], m_train[idx]), y_train[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        valid_pred = predict(model, *inputs["valid"], batch_size)
        score, _ = mean_pearson(labels["valid"], valid_pred)
        scheduler.step(score)
        history.append({"epoch": epoch, "train_mse": float(np.mean(losses)), "valid_mean_pearson": score, "lr": optimiser.param_groups[0]["lr"]})
        if score > best["valid_mean_pearson"]:
            best = {"valid_mean_pearson": score, "epoch": epoch}
            best_state = copy.deepcopy(model.state_dict())
    if best_state is None:
        raise FloatingPointError(f"seed {seed}: the validation score was never finite (training diverged); lower emi.train.lr")
    model.load_state_dict(best_state)
    return model, {"best_epoch": best["epoch"], "history": history}


def feature_files(manifests: list[Path]) -> dict[str, dict[str, Path]]:
    """extractor -> sample key -> feature file, from the features jobs' shard manifests."""
    files: dict[str, dict[str, Path]] = {}
    for path in manifests:
        manifest = read_json(path)
        files.setdefault(manifest["extractor"], {}).update({k: Path(v[plan.SAMPLE_FILE]) for k, v in manifest["samples"].items()})
    return files


def load_inputs(config: dict, spec: dict, splits: dict, files: dict, device: torch.device) -> tuple[dict, dict]:
    """Standardised fixed-length (x, mask) tensors per partition, and the standardiser (mean, std)."""
    sequences = {part: [load_feature_set([files[e][k] for e in spec["extractors"]]) for k in keys] for part, (keys, _) in splits.items()}
    empty = {part: sum(len(s) == 0 for s in seqs) for part, seqs in sequences.items()}
    if any(empty.values()):
        log.warning("samples without any usable frame (one mean row used): %s", empty)
    mean, std = fit_standardiser(sequences["train"])
    # clone(): torch's own 64-byte-aligned buffers, so BLAS results cannot depend on numpy's alignment
    seq_len = config["emi"]["train"]["seq_len"]
    inputs = {part: tuple(torch.from_numpy(a).clone().to(device) for a in batch_inputs(seqs, mean, std, seq_len)) for part, seqs in sequences.items()}
    return inputs, {"mean": mean, "std": std, "samples_without_frames": empty}


def run(config: dict, feature_set: str, splits: dict, files: dict, outputs: dict[str, Path]) -> dict:
    """Train every seed; write outputs["predictions"] (CSV), outputs["metrics"] (JSON) and a checkpoint per seed beside them."""
    device = compute.setup(config["compute"])
    spec = config["emi"]["feature_sets"][feature_set]
    train_params, model_params = config["emi"]["train"], config["emi"]["model"]
    inputs, standardiser = load_inputs(config, spec, splits, files, device)
    labels = {part: y for part, (_, y) in splits.items() if y is not None}
    rows, per_seed = [], {}
    for seed in tqdm(config["emi"]["seeds"], desc=feature_set):
        model, info = train_seed(seed, inputs, labels, spec["modality"] == "V", model_params, train_params, device)
        with atomic_path(outputs["metrics"].parent / f"seed{seed}.pt") as tmp:
            torch.save({"state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "mean": standardiser["mean"], "std": standardiser["std"], "feature_set": spec, "model": model_params}, tmp)
        preds = {part: predict(model, *inputs[part], train_params["batch_size"]) for part in inputs}
        valid_mean, valid_per_label = mean_pearson(labels["valid"], preds["valid"])
        per_seed[str(seed)] = {"valid_mean_pearson": valid_mean, "valid_pearson": dict(zip(LABELS, valid_per_label)), "best_epoch": info["best_epoch"], "history": info["history"]}
        rows += [{"seed": seed, "partition": part, "id": key, **dict(zip(LABELS, values.tolist()))} for part, pred in preds.items() for key, values in zip(splits[part][0], pred)]
        log.info("%s seed %d: valid mean Pearson %.4f (epoch %d)", feature_set, seed, valid_mean, info["best_epoch"])
    with atomic_path(outputs["predictions"]) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6f")
    metrics = {
        "feature_set": feature_set,
        "modality": spec["modality"],
        "extractors": spec["extractors"],
        "input_dim": int(inputs["train"][0].shape[-1]),
        "substitutes": substitutes_used(config, "emi", spec["extractors"]),
        "valid_mean_pearson": mean_std([s["valid_mean_pearson"] for s in per_seed.values()]),
        "seeds": per_seed,
        "samples_without_frames": standardiser["samples_without_frames"],
        "train": train_params,
        "model": model_params,
    }
    write_json(outputs["metrics"], metrics)
    return metrics


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(__doc__, "emi", argv, feature_set=jobs.TEXT, root=jobs.PATH, features=jobs.PATHS, metrics=jobs.PATH, predictions=jobs.PATH)
    if args.feature_set not in config["emi"]["feature_sets"]:
        raise SystemExit(f"--feature-set {args.feature_set!r} is not in emi.feature_sets ({', '.join(config['emi']['feature_sets'])})")
    splits = plan.labelled_splits(config, args.root)
    run(config, args.feature_set, splits, feature_files(args.features), {"metrics": args.metrics, "predictions": args.predictions})


if __name__ == "__main__":
    main()
