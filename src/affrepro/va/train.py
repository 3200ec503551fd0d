"""Train and evaluate one cross-validation fold of the VA paper (§3.3).

Fold k is held out and evaluated; fold (k + 1) mod 6 picks the best epoch
(the held-out fold never influences training or selection); the other four
folds train. Features are standardised with the training folds' statistics.

Training uses the paper's large-window resampling: every trial is cut into
windows of `window` frames every `hop` frames (the last window ends at the
trial's end), and the windows are shuffled into batches. Prediction slides the
same window over a whole trial every `eval_hop` frames, averages the
overlapping frame predictions, then smooths each dimension with a centred
moving average of `smoothing` frames (the paper's "smoothing strategy",
which it does not specify). CCC is computed over all frames of a fold's trials
concatenated, as the ABAW evaluation does.

    python -m affrepro.va.train --config C --fold 0 --folds work/va/folds.json --metrics M --predictions P
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import numpy as np
import torch

from affrepro import compute
from affrepro.config import effective_config, load_config
from affrepro.features import load_features
from affrepro.io import read_json, write_json, write_npz
from affrepro.metrics import va_score
from affrepro.sequences import fit_standardiser
from affrepro.models.va import VAModel, ccc_loss
from affrepro.va import plan
from affrepro.va.folds import selection_fold

log = logging.getLogger("affrepro.va.train")


def load_trials(names: list[str], extractors: list[str]) -> dict[str, dict]:
    data = {}
    for name in names:
        with np.load(plan.trial_path(name)) as trial:
            labels = trial["labels"].astype(np.float64)
        features = {e: load_features(plan.features_path(e, name))[0] for e in extractors}
        data[name] = {"features": features, "labels": labels}
    return data


def standardiser(data: dict[str, dict], names: list[str], extractors: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {e: fit_standardiser([data[n]["features"][e] for n in names]) for e in extractors}


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


def evaluate(model, data, inputs, names, settings) -> tuple[dict, dict[str, np.ndarray]]:
    predictions = {n: predict_trial(model, inputs[n], len(data[n]["labels"]), settings) for n in names}
    truth = np.concatenate([data[n]["labels"] for n in names])
    predicted = np.concatenate([predictions[n] for n in names])
    return va_score(truth[:, 0], predicted[:, 0], truth[:, 1], predicted[:, 1]), predictions


def build_model(config: dict, dims: dict[str, int]) -> VAModel:
    m = config["va"]["model"]
    return VAModel(
        dims, m["tcn_channels"], m["tcn_layers"], m["tcn_kernel_size"], m["tcn_dropout"],
        m["transformer_layers"], m["transformer_heads"], m["transformer_ff_dim"], m["dropout"], m["head_hidden"],
    )


def train_fold(config: dict, fold: int, assignment: dict[str, int], device: torch.device = torch.device("cpu")) -> tuple[dict, dict[str, np.ndarray]]:
    va = config["va"]
    settings, extractors = va["train"], list(va["extractors"])
    n_folds = va["cv"]["folds"]
    chooser = selection_fold(fold, n_folds)
    held_out = sorted(t for t, f in assignment.items() if f == fold)
    selection = sorted(t for t, f in assignment.items() if f == chooser)
    training = sorted(t for t, f in assignment.items() if f not in (fold, chooser))
    data = load_trials(sorted(assignment), extractors)
    stats = standardiser(data, training, extractors)
    inputs = {n: to_inputs(data[n]["features"], stats, extractors) for n in data}
    targets = {n: torch.from_numpy(data[n]["labels"].astype(np.float32)).clone() for n in data}
    windows = [(n, s) for n in training for s in window_starts(len(data[n]["labels"]), settings["window"], settings["hop"])]

    torch.manual_seed(va["seed"] + fold)
    model = build_model(config, {e: inputs[training[0]][e].shape[1] for e in extractors}).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    generator = torch.Generator().manual_seed(va["seed"] + fold)
    best = {"p": -math.inf, "epoch": -1, "state": None}
    history = []
    for epoch in range(settings["epochs"]):
        model.train()
        order = torch.randperm(len(windows), generator=generator).tolist()
        losses = []
        for first in range(0, len(order), settings["batch_size"]):
            items = [(inputs[windows[i][0]], targets[windows[i][0]], windows[i][1]) for i in order[first : first + settings["batch_size"]]]
            batch, labels, mask = to_device(make_batch(items, settings["window"], extractors), device)
            if mask.sum() < 2:
                continue
            loss = ccc_loss(model(batch, mask)[mask], labels[mask])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        score, _ = evaluate(model, data, inputs, selection, settings)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else None, "selection_p": score["p"]})
        log.info("fold %d epoch %d: loss %.4f, selection-fold P %.4f", fold, epoch, history[-1]["train_loss"] or float("nan"), score["p"])
        if best["state"] is None or score["p"] > best["p"]:  # a NaN score never wins, but the first epoch is always kept
            best = {"p": score["p"], "epoch": epoch, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    model.load_state_dict(best["state"])
    held_out_score, predictions = evaluate(model, data, inputs, held_out, settings)
    metrics = held_out_score | {
        "fold": fold,
        "selection_fold": chooser,
        "best_epoch": best["epoch"],
        "selection_p": best["p"],
        "trials": {"held_out": held_out, "selection": selection, "training": training},
        "frames": {"held_out": int(sum(len(data[n]["labels"]) for n in held_out)), "training_windows": len(windows)},
        "history": history,
    }
    return metrics, predictions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train and evaluate one VA cross-validation fold.")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--fold", type=int, required=True)
    parser.add_argument("--folds", required=True, type=Path, help="folds.json from affrepro.va.folds")
    parser.add_argument("--metrics", required=True, type=Path)
    parser.add_argument("--predictions", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = effective_config(load_config(args.config), "va")
    device = compute.setup(config["compute"])
    assignment = read_json(args.folds)["assignment"]
    metrics, predictions = train_fold(config, args.fold, assignment, device)
    write_npz(args.predictions, **{name: p.astype(np.float32) for name, p in predictions.items()})
    write_json(args.metrics, metrics)
    log.info("fold %d: valence %.4f arousal %.4f P %.4f (epoch %d)", args.fold, metrics["valence"], metrics["arousal"], metrics["p"], metrics["best_epoch"])


if __name__ == "__main__":
    main()
