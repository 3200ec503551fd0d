"""Train and evaluate one cross-validation fold of the VA paper (§3.3).

Fold k is scored under one of two selection protocols (affrepro.va.folds.PROTOCOLS):
`paper` (the paper's six-fold cross-validation: fold k is the validation set,
it picks the best epoch and is scored, the other five folds train; Table 2) or
`nested` (fold (k + 1) mod 6 picks the epoch, so the scored fold never
influences training or selection, and the other four folds train;
table2_nested). Features are standardised with the training folds' statistics.

Training uses the paper's large-window resampling: every trial is cut into
windows of `window` frames every `hop` frames (the last window ends at the
trial's end), and the windows are shuffled into batches. Prediction slides the
same window over a whole trial every `eval_hop` frames, averages the
overlapping frame predictions, then smooths each dimension with a centred
moving average of `smoothing` frames (the paper's "smoothing strategy",
which it does not specify). CCC is computed over all frames of a fold's trials
concatenated, as the ABAW evaluation does.

Each trial's files are read from the prepare manifests (frames and labels) and
the features manifests (one per extractor and shard) the rule passes.

    python -m affrepro.va.train --config C --protocol paper --fold 0 --folds work/va/folds.json \
        --prepared work/va/prepare/shard0.json ... --features work/va/features/iresnet50/shard0.json ... \
        --metrics work/va/folds/paper/fold0/metrics.json --predictions work/va/folds/paper/fold0/predictions.npz
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from affrepro import compute, jobs
from affrepro.config import substitutes_used
from affrepro.features import load_features
from affrepro.io import read_json, write_json, write_npz
from affrepro.metrics import va_score
from affrepro.models.va import VAModel, VAModelSettings, ccc_loss
from affrepro.sequences import fit_standardiser
from affrepro.va.folds import PROTOCOLS, selection_fold

log = logging.getLogger("affrepro.va.train")


@dataclass(frozen=True)
class FoldData:
    """One fold's trials by role, and every trial's labels and model inputs (standardised with the training trials' statistics)."""

    fold: int
    protocol: str  # paper | nested (affrepro.va.folds.PROTOCOLS)
    selection_fold: int
    trials: dict[str, list[str]]  # held_out, selection (the held-out trials under the paper's protocol), training
    extractors: list[str]
    labels: dict[str, np.ndarray]  # (N, 2) float64 valence, arousal
    inputs: dict[str, dict[str, torch.Tensor]]  # trial -> extractor -> (N, D) float32
    targets: dict[str, torch.Tensor]  # the labels as (N, 2) float32


def trial_files(prepared: list[dict], features: list[dict]) -> dict[str, dict]:
    """Trial -> {"trial": frames and labels (.npz), "features": {extractor: .npz}}, from the prepare and features manifests."""
    files = {name: {"trial": Path(info["trial"]), "features": {}} for manifest in prepared for name, info in manifest["trials"].items()}
    for manifest in features:
        for name, info in manifest["trials"].items():
            files[name]["features"][manifest["extractor"]] = Path(info["file"])
    return files


def load_trials(files: dict[str, dict], extractors: list[str]) -> dict[str, dict]:
    data = {}
    for name, paths in files.items():
        missing = [e for e in extractors if e not in paths["features"]]
        if missing:
            raise ValueError(f"trial {name}: no {', '.join(missing)} features in the features manifests given (--features)")
        with np.load(paths["trial"]) as trial:
            labels = trial["labels"].astype(np.float64)
        features = {e: load_features(paths["features"][e])[0] for e in extractors}
        data[name] = {"features": features, "labels": labels}
    return data


def load_fold(files: dict[str, dict], assignment: dict[str, int], fold: int, va: dict, protocol: str) -> FoldData:
    """The trials of scored `fold` by role under `protocol`, every trial standardised with the training trials' statistics (`va`: the config's `va` section)."""
    extractors = list(va["extractors"])
    chooser = selection_fold(fold, va["cv"]["folds"], protocol)
    trials = {
        "held_out": sorted(t for t, f in assignment.items() if f == fold),
        "selection": sorted(t for t, f in assignment.items() if f == chooser),
        "training": sorted(t for t, f in assignment.items() if f not in (fold, chooser)),
    }
    data = load_trials({name: files[name] for name in sorted(assignment)}, extractors)
    stats = {e: fit_standardiser([data[n]["features"][e] for n in trials["training"]]) for e in extractors}
    return FoldData(
        fold=fold,
        protocol=protocol,
        selection_fold=chooser,
        trials=trials,
        extractors=extractors,
        labels={n: data[n]["labels"] for n in data},
        inputs={n: to_inputs(data[n]["features"], stats, extractors) for n in data},
        targets={n: torch.from_numpy(data[n]["labels"].astype(np.float32)).clone() for n in data},
    )


def window_starts(length: int, window: int, hop: int) -> list[int]:
    """Starts of `window`-frame windows every `hop` frames; the last one ends at the trial's end."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, hop))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def to_inputs(features: dict[str, np.ndarray], stats: dict, extractors: list[str]) -> dict[str, torch.Tensor]:
    # torch-owned copies: their alignment, and so the float32 reductions, do not depend on numpy's allocation.
    return {e: torch.from_numpy(((features[e] - stats[e][0]) / stats[e][1]).astype(np.float32, copy=False)).clone() for e in extractors}


def make_batch(items: list[tuple[dict[str, torch.Tensor], torch.Tensor, int]], window: int, extractors: list[str]):
    batch = {e: torch.zeros(len(items), window, items[0][0][e].shape[1]) for e in extractors}
    labels = torch.zeros(len(items), window, 2)
    mask = torch.zeros(len(items), window, dtype=torch.bool)
    for i, (features, target, start) in enumerate(items):
        length = min(window, len(target) - start)
        for e in extractors:
            batch[e][i, :length] = features[e][start : start + length]
        labels[i, :length] = target[start : start + length]
        mask[i, :length] = True
    return batch, labels, mask


def to_device(batch, device: torch.device):
    features, labels, mask = batch
    return {e: x.to(device) for e, x in features.items()}, labels.to(device), mask.to(device)


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along axis 0; near the ends the window shrinks to the available frames."""
    if width <= 1:
        return values
    half = width // 2
    cumulative = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    index = np.arange(len(values))
    lo, hi = np.clip(index - half, 0, len(values)), np.clip(index + half + 1, 0, len(values))
    return (cumulative[hi] - cumulative[lo]) / (hi - lo)[:, None]


@torch.no_grad()
def predict_trial(model: VAModel, inputs: dict[str, torch.Tensor], length: int, settings: dict) -> np.ndarray:
    model.eval()
    window, extractors = settings["window"], list(inputs)
    total = np.zeros((length, 2))
    count = np.zeros((length, 1))
    dummy = torch.zeros(length, 2)
    for start in window_starts(length, window, settings["eval_hop"]):
        batch, _, mask = to_device(make_batch([(inputs, dummy, start)], window, extractors), next(model.parameters()).device)
        out = model(batch, mask)[0, : int(mask[0].sum())].double().cpu().numpy()
        total[start : start + len(out)] += out
        count[start : start + len(out)] += 1
    return moving_average(total / count, settings["smoothing"])


def evaluate(model: VAModel, data: FoldData, names: list[str], settings: dict) -> tuple[dict, dict[str, np.ndarray]]:
    predictions = {n: predict_trial(model, data.inputs[n], len(data.labels[n]), settings) for n in names}
    truth = np.concatenate([data.labels[n] for n in names])
    predicted = np.concatenate([predictions[n] for n in names])
    return va_score(truth[:, 0], predicted[:, 0], truth[:, 1], predicted[:, 1]), predictions


def training_windows(data: FoldData, settings: dict) -> list[tuple[str, int]]:
    """(trial, start) of every training window."""
    return [(n, s) for n in data.trials["training"] for s in window_starts(len(data.labels[n]), settings["window"], settings["hop"])]


def train_epoch(model: VAModel, optimiser, data: FoldData, windows: list[tuple[str, int]], order: list[int], settings: dict, device: torch.device) -> list[float]:
    """One pass over the training windows in `order`, in batches; the batches' losses."""
    model.train()
    losses = []
    for first in range(0, len(order), settings["batch_size"]):
        items = [(data.inputs[windows[i][0]], data.targets[windows[i][0]], windows[i][1]) for i in order[first : first + settings["batch_size"]]]
        batch, labels, mask = to_device(make_batch(items, settings["window"], data.extractors), device)
        if mask.sum() < 2:
            continue
        loss = ccc_loss(model(batch, mask)[mask], labels[mask])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def select_epoch(model: VAModel, data: FoldData, windows: list[tuple[str, int]], settings: dict, seed: int, device: torch.device) -> tuple[dict, list[dict]]:
    """Train every epoch, score it on the selection fold, and leave the model at the epoch with the best P.

    Returns the best epoch ({"p", "epoch"}) and every epoch's loss and selection-fold P.
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    generator = torch.Generator().manual_seed(seed)
    best = {"p": -math.inf, "epoch": -1, "state": None}
    history = []
    for epoch in range(settings["epochs"]):
        order = torch.randperm(len(windows), generator=generator).tolist()
        losses = train_epoch(model, optimiser, data, windows, order, settings, device)
        score, _ = evaluate(model, data, data.trials["selection"], settings)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else None, "selection_p": score["p"]})
        log.info("fold %d epoch %d: loss %.4f, selection-fold P %.4f", data.fold, epoch, history[-1]["train_loss"] or float("nan"), score["p"])
        if best["state"] is None or score["p"] > best["p"]:  # a NaN score never wins, but the first epoch is always kept
            best = {"p": score["p"], "epoch": epoch, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    model.load_state_dict(best["state"])
    return {"p": best["p"], "epoch": best["epoch"]}, history


def train_fold(
    config: dict, fold: int, assignment: dict[str, int], files: dict[str, dict], protocol: str = "paper", device: torch.device = torch.device("cpu")
) -> tuple[dict, dict[str, np.ndarray]]:
    """Fold `fold`'s scores (valence, arousal, p: a fold row of Table 2 or table2_nested) and its predictions per scored trial.

    `assignment` maps trial -> fold (affrepro.va.folds); `files` maps trial -> its files (`trial_files`);
    `protocol` chooses the fold that picks the epoch (affrepro.va.folds.PROTOCOLS). Both protocols
    train fold k with the same seed, so they differ only in which trials train and select.
    """
    va = config["va"]
    settings = va["train"]
    data = load_fold(files, assignment, fold, va, protocol)
    torch.manual_seed(va["seed"] + fold)
    dims = {e: data.inputs[data.trials["training"][0]][e].shape[1] for e in data.extractors}
    model = VAModel(dims, VAModelSettings(**va["model"])).to(device)
    windows = training_windows(data, settings)
    best, history = select_epoch(model, data, windows, settings, va["seed"] + fold, device)
    held_out = data.trials["held_out"]
    held_out_score, predictions = evaluate(model, data, held_out, settings)
    metrics = held_out_score | {
        "fold": fold,
        "protocol": data.protocol,
        "selection_fold": data.selection_fold,
        "best_epoch": best["epoch"],
        "selection_p": best["p"],
        "trials": data.trials,
        "frames": {"held_out": int(sum(len(data.labels[n]) for n in held_out)), "training_windows": len(windows)},
        "history": history,
    }
    return metrics, predictions


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__, "va", argv, protocol={"choices": list(PROTOCOLS), "required": True}, fold=jobs.INT, folds={**jobs.PATH, "help": "folds.json from affrepro.va.folds"},
        prepared=jobs.PATHS, features=jobs.PATHS, metrics=jobs.PATH, predictions=jobs.PATH,
    )
    device = compute.setup(config["compute"])
    assignment = read_json(args.folds)["assignment"]
    files = trial_files([read_json(p) for p in args.prepared], [read_json(p) for p in args.features])
    metrics, predictions = train_fold(config, args.fold, assignment, files, args.protocol, device)
    metrics["substitutes"] = substitutes_used(config, "va", list(config["va"]["extractors"]))
    write_npz(args.predictions, **{name: p.astype(np.float32) for name, p in predictions.items()})
    write_json(args.metrics, metrics)
    log.info("%s fold %d: valence %.4f arousal %.4f P %.4f (epoch %d)", args.protocol, args.fold, metrics["valence"], metrics["arousal"], metrics["p"], metrics["best_epoch"])


if __name__ == "__main__":
    main()
