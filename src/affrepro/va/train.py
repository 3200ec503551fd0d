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

Each trial's labels are read from the prepare manifests' files, its features
from the extractors' packed stores (affrepro.store) one window at a time, so the
job's memory does not grow with the number of frames.

    python -m affrepro.va.train --config C --protocol paper --fold 0 --folds work/va/folds.json \
        --prepared work/va/prepare/shard0.json ... --packed work/va/packed/iresnet50.json work/va/packed/vggish.json work/va/packed/mfcc.json \
        --metrics work/va/folds/paper/fold0/metrics.json --predictions work/va/folds/paper/fold0/predictions.npz
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from affrepro import compute, jobs
from affrepro.environment import record as environment_record
from affrepro.files import read_json, write_json, write_npz
from affrepro.metrics import va_score
from affrepro.models.va import VAModel, VAModelSettings, ccc_loss
from affrepro.sequences import fit_standardiser
from affrepro.store import PackedSplit, iter_rows, open_store
from affrepro.training import Trainer, checkpoint_path, fingerprint, fit, remove_checkpoint
from affrepro.va.folds import PROTOCOLS, selection_fold
from affrepro.va.settings import Train

log = logging.getLogger("affrepro.va.train")

CPU = torch.device("cpu")


@dataclass(frozen=True)
class FoldData:
    """One fold's trials by role, every trial's labels, and its features read from the packed stores as needed.

    Features are standardised with the training trials' statistics (one (mean, std) per extractor).
    """

    fold: int
    protocol: str  # paper | nested (affrepro.va.folds.PROTOCOLS)
    selection_fold: int
    trials: dict[str, list[str]]  # held_out, selection (the held-out trials under the paper's protocol), training
    extractors: list[str]
    labels: dict[str, np.ndarray]  # (N, 2) float64 valence, arousal
    targets: dict[str, torch.Tensor]  # the labels as (N, 2) float32
    features: dict[str, PackedSplit]  # extractor -> every trial's (N, D) rows
    stats: dict[str, tuple[np.ndarray, np.ndarray]]  # extractor -> (mean, std) of the training trials

    def rows(self, trial: str, start: int = 0, stop: int | None = None) -> dict[str, torch.Tensor]:
        """Standardised rows [start, stop) of `trial`, per extractor."""
        return {
            e: torch.from_numpy((self.features[e].rows(trial, start, stop) - self.stats[e][0]) / self.stats[e][1])
            for e in self.extractors
        }


def trial_labels(prepared: list[dict]) -> dict[str, Path]:
    """Trial -> its frames-and-labels file (.npz), from the prepare manifests."""
    return {name: Path(info["trial"]) for manifest in prepared for name, info in manifest["trials"].items()}


def load_labels(files: dict[str, Path], names: list[str]) -> dict[str, np.ndarray]:
    labels = {}
    for name in names:
        with np.load(files[name]) as trial:
            labels[name] = trial["labels"].astype(np.float64)
    return labels


def load_fold(
    label_files: dict[str, Path],
    stores: dict[str, PackedSplit],
    assignment: dict[str, int],
    fold: int,
    settings: Train,
    protocol: str,
) -> FoldData:
    """The trials of scored `fold` by role under `protocol`, with the training trials' standardiser."""
    extractors = list(settings.extractors)
    missing = [e for e in extractors if e not in stores] + [
        f"{e}: {t}" for e in extractors if e in stores for t in sorted(assignment) if t not in stores[e]
    ]
    if missing:
        raise ValueError(
            f"no packed features for {', '.join(missing[:5])} in the stores given (--packed); rerun the va_pack jobs"
        )
    chooser = selection_fold(fold, settings.folds, protocol)
    trials = {
        "held_out": sorted(t for t, f in assignment.items() if f == fold),
        "selection": sorted(t for t, f in assignment.items() if f == chooser),
        "training": sorted(t for t, f in assignment.items() if f not in (fold, chooser)),
    }
    labels = load_labels(label_files, sorted(assignment))
    stats = {e: fit_standardiser(lambda e=e: iter_rows(stores[e], trials["training"])) for e in extractors}
    return FoldData(
        fold=fold,
        protocol=protocol,
        selection_fold=chooser,
        trials=trials,
        extractors=extractors,
        labels=labels,
        targets={n: torch.from_numpy(y.astype(np.float32)).clone() for n, y in labels.items()},
        features={e: stores[e] for e in extractors},
        stats=stats,
    )


def window_starts(length: int, window: int, hop: int) -> list[int]:
    """Starts of `window`-frame windows every `hop` frames; the last one ends at the trial's end."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, hop))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def make_batch(items: list[tuple[dict[str, torch.Tensor], torch.Tensor]], window: int, extractors: list[str]):
    """Zero-padded (features, labels, mask) of `window` frames from [(features per extractor, labels)] windows."""
    batch = {e: torch.zeros(len(items), window, items[0][0][e].shape[1]) for e in extractors}
    labels = torch.zeros(len(items), window, 2)
    mask = torch.zeros(len(items), window, dtype=torch.bool)
    for i, (features, target) in enumerate(items):
        length = len(target)
        for e in extractors:
            batch[e][i, :length] = features[e]
        labels[i, :length] = target
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
    for start in window_starts(length, window, settings["eval_hop"]):
        stop = min(start + window, length)
        item = ({e: inputs[e][start:stop] for e in extractors}, torch.zeros(stop - start, 2))
        batch, _, mask = to_device(make_batch([item], window, extractors), next(model.parameters()).device)
        out = model(batch, mask)[0, : int(mask[0].sum())].double().cpu().numpy()
        total[start : start + len(out)] += out
        count[start : start + len(out)] += 1
    return moving_average(total / count, settings["smoothing"])


def evaluate(model: VAModel, data: FoldData, names: list[str], settings: dict) -> tuple[dict, dict[str, np.ndarray]]:
    predictions = {n: predict_trial(model, data.rows(n), len(data.labels[n]), settings) for n in names}
    truth = np.concatenate([data.labels[n] for n in names])
    predicted = np.concatenate([predictions[n] for n in names])
    return va_score(truth[:, 0], predicted[:, 0], truth[:, 1], predicted[:, 1]), predictions


def training_windows(data: FoldData, settings: dict) -> list[tuple[str, int]]:
    """(trial, start) of every training window."""
    return [
        (n, s)
        for n in data.trials["training"]
        for s in window_starts(len(data.labels[n]), settings["window"], settings["hop"])
    ]


def window_item(data: FoldData, trial: str, start: int, window: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """A training window's standardised features (read from the stores) and labels."""
    stop = min(start + window, len(data.labels[trial]))
    return data.rows(trial, start, stop), data.targets[trial][start:stop]


def train_epoch(
    model: VAModel,
    optimiser,
    data: FoldData,
    windows: list[tuple[str, int]],
    order: list[int],
    settings: dict,
    device: torch.device,
) -> list[float]:
    """One pass over the training windows in `order`, in batches; the batches' losses."""
    model.train()
    losses = []
    for first in range(0, len(order), settings["batch_size"]):
        items = [
            window_item(data, *windows[i], settings["window"]) for i in order[first : first + settings["batch_size"]]
        ]
        batch, labels, mask = to_device(make_batch(items, settings["window"], data.extractors), device)
        if mask.sum() < 2:
            continue
        loss = ccc_loss(model(batch, mask)[mask], labels[mask])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def select_epoch(
    model: VAModel,
    data: FoldData,
    windows: list[tuple[str, int]],
    settings: dict,
    seed: int,
    device: torch.device,
    checkpoint: Path | None = None,
) -> tuple[dict, list[dict]]:
    """Train every epoch, score it on the selection fold, and leave the model at the epoch with the best P.

    Returns the best epoch ({"p", "epoch"}) and every epoch's loss and selection-fold P (`score`). Every epoch is
    saved to `checkpoint` and a rerun resumes from it (affrepro.training).
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    generator = torch.Generator().manual_seed(seed)

    def train(epoch: int) -> float | None:
        order = torch.randperm(len(windows), generator=generator).tolist()
        losses = train_epoch(model, optimiser, data, windows, order, settings, device)
        return float(np.mean(losses)) if losses else None

    def evaluate_selection(epoch: int) -> dict:
        score, _ = evaluate(model, data, data.trials["selection"], settings)
        log.info("fold %d epoch %d: selection-fold P %.4f", data.fold, epoch, score["p"])
        return {"score": score["p"]}  # selection-fold P

    identity = {"fold": data.fold, "protocol": data.protocol, "seed": seed, "settings": settings, "trials": data.trials}
    identity |= {"model": repr(model), "extractors": data.extractors, "device": str(device)}
    stats = [part for e in sorted(data.stats) for part in data.stats[e]]  # the training features' moments
    identity["data"] = fingerprint(*stats, *(data.labels[n] for n in sorted(data.labels)))
    trainer = Trainer(model, optimiser, train, evaluate_selection, generators={"order": generator})
    result = fit(trainer, settings["epochs"], checkpoint, identity, name=f"fold {data.fold}")
    model.load_state_dict(result.best_state)
    return {"p": result.best_scores["score"], "epoch": result.best_epoch}, result.history


def train_fold(
    settings: Train,
    fold: int,
    assignment: dict[str, int],
    label_files: dict[str, Path],
    stores: dict[str, PackedSplit],
    protocol: str = "paper",
    device: torch.device = CPU,
    checkpoint: Path | None = None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Fold `fold`'s scores (valence, arousal, p: a fold row of Table 2 or table2_nested) and its predictions per scored trial.

    `assignment` maps trial -> fold (affrepro.va.folds); `label_files` maps trial -> its prepared file
    (`trial_labels`); `stores` maps extractor -> its packed features (affrepro.store, split "trials");
    `protocol` chooses the fold that picks the epoch (affrepro.va.folds.PROTOCOLS). Both protocols
    train fold k with the same seed, so they differ only in which trials train and select.
    """
    train = settings.train
    data = load_fold(label_files, stores, assignment, fold, settings, protocol)
    torch.manual_seed(settings.seed + fold)
    dims = {e: data.features[e].dim for e in data.extractors}
    model = VAModel(dims, VAModelSettings(**settings.model)).to(device)
    windows = training_windows(data, train)
    best, history = select_epoch(model, data, windows, train, settings.seed + fold, device, checkpoint)
    held_out = data.trials["held_out"]
    held_out_score, predictions = evaluate(model, data, held_out, train)
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
        __doc__,
        "va",
        argv,
        protocol=jobs.one_of(PROTOCOLS),
        fold=jobs.INT,
        folds={**jobs.PATH, "help": "folds.json from affrepro.va.folds"},
        prepared=jobs.PATHS,
        packed=jobs.PATHS,
        metrics=jobs.PATH,
        predictions=jobs.PATH,
    )
    settings = Train.from_config(config)
    device = compute.setup(settings.compute)
    assignment = read_json(args.folds)["assignment"]
    stores = {read_json(path)["extractor"]: open_store(path)["trials"] for path in args.packed}
    metrics, predictions = train_fold(
        settings,
        args.fold,
        assignment,
        trial_labels([read_json(p) for p in args.prepared]),
        stores,
        args.protocol,
        device,
        checkpoint_path(args.metrics),
    )
    metrics["substitutes"] = settings.substitutes
    metrics["environment"] = environment_record(
        device, "fp32"
    )  # training is fp32 (no autocast); read into the tables' provenance sidecars
    write_npz(args.predictions, **{name: p.astype(np.float32) for name, p in predictions.items()})
    write_json(args.metrics, metrics)
    remove_checkpoint(checkpoint_path(args.metrics))
    log.info(
        "%s fold %d: valence %.4f arousal %.4f P %.4f (epoch %d)",
        args.protocol,
        args.fold,
        metrics["valence"],
        metrics["arousal"],
        metrics["p"],
        metrics["best_epoch"],
    )


if __name__ == "__main__":
    main()
