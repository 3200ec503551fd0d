"""One training loop for every paper (EMI branches, VA folds, ECAN runs), resumable after a kill.

`fit` runs epochs 1..n of a `Trainer`: the paper's own epoch (`train_epoch`) and scoring (`evaluate`, whose
`score` selects the epoch: higher is better). It keeps the best epoch (the first is always kept, a later one
when its score is finite and strictly higher) and records one history row per epoch:

    {"epoch": e (from 1), "train_loss": ..., "score": ..., <the paper's other scores>, "lr": <after the epoch>}

After every epoch it writes a checkpoint atomically: the model, the optimiser, the scheduler, every RNG state
(torch, numpy, python, the data-order generators), the paper's extra state (ECAN's memory bank), the history and
the best epoch. A rerun of a killed job that finds the checkpoint resumes after its last epoch and ends
byte-identical to an uninterrupted run; a finished run's checkpoint holds its result, so a job that trains
several seeds skips the ones it finished. The job removes its checkpoints once its outputs are written
(`remove_checkpoint`). A checkpoint written for other settings (`identity`) is not resumed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)


@dataclass
class Trainer:
    """What a paper gives the loop. `train_epoch(e)` trains epoch e and returns its mean loss (None: no step);
    `evaluate(e)` scores the model after it ({"score": ..., other scores}); `state` holds every other object
    with state_dict()/load_state_dict() that a resumed run needs (scheduler, memory bank); `generators` the
    data-order generators; `stop(history)` ends the run early when it returns True (checked after every epoch and
    on resuming, so a stopped run stays stopped)."""

    model: torch.nn.Module
    optimiser: torch.optim.Optimizer
    train_epoch: Callable[[int], float | None]
    evaluate: Callable[[int], dict]
    state: dict[str, Any] = field(default_factory=dict)
    generators: dict[str, torch.Generator] = field(default_factory=dict)
    stop: Callable[[list[dict]], bool] | None = None


@dataclass
class Fit:
    """The outcome of `fit`: every epoch's history row and the best epoch (its number, scores and weights)."""

    history: list[dict]
    best_epoch: int
    best_scores: dict
    best_state: dict[str, torch.Tensor]


def _better(score: float, best: dict | None) -> bool:
    if best is None:
        return True
    return math.isfinite(score) and (not math.isfinite(best["scores"]["score"]) or score > best["scores"]["score"])


def _rng_state(trainer: Trainer) -> dict:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "generators": {name: g.get_state() for name, g in trainer.generators.items()},
    }
    if torch.cuda.is_initialized():  # a CPU job on a GPU host must not open a CUDA context for this
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(trainer: Trainer, state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    for name, generator in trainer.generators.items():
        generator.set_state(state["generators"][name])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def fingerprint(*arrays) -> str:
    """A short hash of arrays' contents (numpy or torch): a checkpoint's identity holds its run's data."""
    digest = hashlib.sha256()
    for array in arrays:
        data = np.ascontiguousarray(array.numpy() if isinstance(array, torch.Tensor) else np.asarray(array))
        digest.update(f"{data.dtype}{data.shape}".encode())
        digest.update(data.tobytes())
    return digest.hexdigest()[:16]


def identity_hash(identity: dict) -> str:
    """The settings and data a checkpoint was written for, with the job's code version (a changed job starts over)."""
    identity = identity | {"code": os.environ.get("AFFREPRO_CODE", "")}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]


def save_checkpoint(path: Path, content: dict) -> None:
    """Atomically; through a file object, so the temporary name never ends up inside the archive."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        torch.save(content, handle)
    os.replace(tmp, path)


def load_checkpoint(path: Path | None, identity: dict) -> dict | None:
    """The checkpoint at `path` if it was written for `identity`, else None (a stale or unreadable one is ignored)."""
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            content = torch.load(handle, map_location="cpu", weights_only=False)
        written_for = content["identity"]
    except Exception as error:  # a torn or foreign file: start over rather than fail the job
        log.warning("%s: unreadable checkpoint (%s); training from the start", path, error)
        return None
    if written_for != identity_hash(identity):
        log.warning("%s: written for other settings; training from the start", path)
        return None
    return content


def checkpoint_path(output: Path) -> Path:
    """Where the run that writes `output` keeps its checkpoint: beside it, under work/ (e.g. metrics.checkpoint.pt)."""
    output = Path(output)
    return output.with_name(f"{output.stem}.checkpoint.pt")


def remove_checkpoint(path: Path | None) -> None:
    """The checkpoint, and the temporary file a kill during its writing may have left."""
    if path is not None:
        path.unlink(missing_ok=True)
        path.with_name(f".{path.name}.tmp").unlink(missing_ok=True)


def _restore(trainer: Trainer, content: dict) -> None:
    """Every state of the checkpoint, onto the devices the trainer's objects live on (it is read onto the CPU)."""
    trainer.model.load_state_dict(content["model"])
    trainer.optimiser.load_state_dict(content["optimiser"])
    for name, obj in trainer.state.items():
        obj.load_state_dict(content["state"][name])
    _set_rng_state(trainer, content["rng"])


def fit(
    trainer: Trainer, epochs: int, checkpoint: Path | None = None, identity: dict | None = None, name: str = ""
) -> Fit:
    """Train epochs 1..`epochs` (resuming from `checkpoint` when it holds an earlier epoch of the same `identity`)."""
    identity = identity or {}
    history: list[dict] = []
    best: dict | None = None
    start = 1
    resumed = load_checkpoint(checkpoint, identity)
    if resumed is not None:
        _restore(trainer, resumed)
        history, best, start = resumed["history"], resumed["best"], resumed["epoch"] + 1
        if best["state"] is None:  # the best epoch was the last one: its weights are the model's
            best["state"] = copy.deepcopy(resumed["model"])
        log.info("%s: resumed from %s after epoch %d of %d", name, checkpoint, resumed["epoch"], epochs)
    for epoch in range(start, epochs + 1):
        if trainer.stop is not None and history and trainer.stop(history):
            log.warning(
                "%s: stopped after epoch %d of %d (the trainer's stop rule)", name, history[-1]["epoch"], epochs
            )
            break
        train_loss = trainer.train_epoch(epoch)
        scores = trainer.evaluate(epoch)
        history.append(
            {"epoch": epoch, "train_loss": train_loss, **scores, "lr": trainer.optimiser.param_groups[0]["lr"]}
        )
        if _better(scores["score"], best):
            best = {"epoch": epoch, "scores": scores, "state": copy.deepcopy(trainer.model.state_dict())}
        if checkpoint is not None:
            save_checkpoint(checkpoint, _content(trainer, identity, epoch, history, best))
    if best is None:
        raise ValueError(f"{name}: no epoch to train (epochs = {epochs})")
    return Fit(history, best["epoch"], best["scores"], best["state"])


def _content(trainer: Trainer, identity: dict, epoch: int, history: list[dict], best: dict) -> dict:
    model = trainer.model.state_dict()
    # The best weights are stored only when they are not the model's own (the last epoch's).
    stored_best = dict(best, state=None if best["epoch"] == epoch else best["state"])
    return {
        "identity": identity_hash(identity),
        "epoch": epoch,
        "model": model,
        "optimiser": trainer.optimiser.state_dict(),
        "state": {name: obj.state_dict() for name, obj in trainer.state.items()},
        "rng": _rng_state(trainer),
        "history": history,
        "best": stored_best,
    }
