"""ECAN training runs (paper §4.2): the workflow job, and the training loop it calls.

    python -m affrepro.ecan.train --config C --setting rafdb-strong-ensc+mva-l1_0.2-l2_0.7-V5 --data work/data/rafdb --out M0 M1 M2

One job trains every seed of a setting (a run spec without its seed), one after
another, writing each run's metrics file (`--out`, one per `ecan.seeds`, in that
order) as soon as the run ends. The run id names its spec (affrepro.ecan.plan);
`--data` is the dataset's location (RAF-DB root or the fer2013 csv) as the rule names it. `Settings`
gathers everything a run reads from the config and the spec; `run` trains
ResNet-18 with the spec's loss set, selects the epoch on validation accuracy
and scores the test split once, with that epoch's weights. The output holds
the run id and its spec beside the scores. Same settings give the same result
on CPU (everything is seeded, data is fed in the main process).

Loss sets (Table 3 rows; Eq. 11 with the two slots filled as named), the table `LOSSES`:
  ce        L^cls                                  single view (the baseline)
  center    L^cls + w_c L^center (Eq. 7)           single view
  supcon    (1-λ1) L^cls + λ1 L^supcon (Eq. 4)     two views
  esc       (1-λ1) L^cls + λ1 L^esc (Eq. 5)        two views + bank
  ensc      (1-λ1) L^cls + λ1 L^ensc (Eq. 6)       two views + bank
  ensc+mva  Eq. 11 (ECAN)                          two views + bank
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from affrepro import compute, jobs
from affrepro.ecan import augment, losses, plan, prepare
from affrepro.ecan.settings import Train as TrainJob
from affrepro.environment import record as environment_record
from affrepro.features.weights import parse_weights
from affrepro.files import write_json
from affrepro.jobconfig import StrictConfig
from affrepro.metrics import classification_scores
from affrepro.models.ecan import ECAN, MemoryBank
from affrepro.training import Trainer, checkpoint_path, fingerprint, fit, remove_checkpoint

N_CLASSES = 7
log = logging.getLogger("affrepro.ecan.train")


@dataclass(frozen=True)
class LossSpec:
    """One loss set: how many views a step draws, whether it reads the bank, and the terms beside L^cls."""

    views: int
    uses_bank: bool = False
    contrastive: Callable | None = None  # losses.supcon / losses.esc / losses.ensc (Eqs. 4-6)
    center: bool = False  # + w_c L^center (Eq. 7)
    mva: bool = False  # Eq. 11: + λ2 L^mva (Eqs. 9-10)


LOSSES = {
    "ce": LossSpec(views=1),
    "center": LossSpec(views=1, center=True),
    "supcon": LossSpec(views=2, contrastive=losses.supcon),
    "esc": LossSpec(views=2, uses_bank=True, contrastive=losses.esc),
    "ensc": LossSpec(views=2, uses_bank=True, contrastive=losses.ensc),
    "ensc+mva": LossSpec(views=2, uses_bank=True, contrastive=losses.ensc, mva=True),
}


TRAIN_KEYS = ("batch_size", "lr", "optimizer", "atan_alpha", "atan_beta", "momentum", "weight_decay", "schedule")
TRAIN_KEYS += ("warmup_epochs", "eval_batch_size", "collapse_epochs", "stop_on_collapse")
SCHEDULES = ("cosine_epoch", "cosine_step", "constant")


@dataclass(frozen=True)
class Settings:
    """Everything one run reads: its spec (plan.SPEC_KEYS) and the `ecan:` / `compute:` values it uses."""

    # the run spec
    dataset: str
    augment: str
    losses: str
    lambda1: float
    lambda2: float
    V: int
    seed: int
    # ecan.loss, ecan.model
    tau: float
    center_weight: float
    key_momentum: float
    bank_groups: int
    # ecan.train (papers/ecan.yaml choices.sgd: GAF's configuration)
    batch_size: int
    lr: float
    optimizer: str
    atan_alpha: float
    atan_beta: float
    momentum: float
    weight_decay: float
    schedule: str
    warmup_epochs: int
    eval_batch_size: int
    collapse_epochs: int
    stop_on_collapse: bool
    # ecan.<dataset>, ecan.augment, compute
    epochs: int
    input_size: int
    weights: str | None
    augmentations: dict
    compute: dict
    max_steps: int | None = None  # tests only: stop each epoch after this many steps
    progress: bool = False  # print a line per epoch (benchmarks)

    def __post_init__(self):
        if self.losses not in LOSSES:
            raise ValueError(f"losses must be one of {tuple(LOSSES)}, got {self.losses!r}")
        if self.schedule not in SCHEDULES or self.optimizer not in ("sgd", "sgd_atan"):
            raise ValueError(
                f"schedule {self.schedule!r} / optimizer {self.optimizer!r}: one of {SCHEDULES} / sgd, sgd_atan"
            )
        if self.V < 1:
            raise ValueError("V (feature groups of the MVA loss) must be >= 1")
        if self.loss.mva and self.bank_groups < self.V - 1:
            raise ValueError(
                f"ecan.model.bank_groups (K = {self.bank_groups}) must be >= V - 1 = {self.V - 1}: the MVA loss reads the V - 1 newest bank groups"
            )
        if self.weights is None:
            raise ValueError(
                f"ecan.{self.dataset}.weights is not set: give the encoder checkpoint path (paper: ResNet-18 "
                "pretrained on MS-Celeb-1M for RAF-DB) or `random`"
            )

    @classmethod
    def from_config(cls, config: dict, spec: dict) -> Settings:
        """A run of a whole config (tests, benchmarks): the spec over ecan.defaults (plan.spec), with the config
        values of its dataset, as its training job would read them."""
        run = spec if set(plan.SPEC_KEYS) <= set(spec) else plan.spec(config, **spec)
        return cls.from_job(TrainJob.from_config(config, setting=plan.setting_id(run)), run)

    @classmethod
    def from_job(cls, job: TrainJob, run: dict) -> Settings:
        """One run of a training job: `run` is a complete spec (the job's setting and a seed)."""
        return cls(
            **run,
            tau=job.loss["tau"],
            center_weight=job.loss["center_weight"],
            key_momentum=job.model["key_momentum"],
            bank_groups=job.model["bank_groups"],
            **{key: job.train[key] for key in TRAIN_KEYS},
            epochs=job.data["epochs"],
            input_size=job.data["input_size"],
            weights=job.data["weights"],
            augmentations={job.dataset: job.augment},
            compute=job.compute,
        )

    @property
    def loss(self) -> LossSpec:
        return LOSSES[self.losses]

    @property
    def bank_size(self) -> int:
        """K of Eq. 2 (ecan.model.bank_groups; not given by the paper), independent of V; no bank for loss sets that do not read it."""
        return self.bank_groups if self.loss.uses_bank else 0


def lr_at(epoch: int, step: int, steps_per_epoch: int, settings: Settings) -> float:
    """The learning rate of step `step` (from 0) of epoch `epoch` (from 1), as GAF's CIFAR/train.py sets it.

    Warm-up (GAF's WarmUpLR, --warm): over the first `warmup_epochs` epochs the lr rises linearly per step,
    step t (from 1) at lr t / (warmup_epochs x steps_per_epoch). After it:
    cosine_epoch  GAF's CosineAnnealingLR(T_max = epochs) stepped with the epoch: 0.5 lr (1 + cos(pi e / epochs))
                  for the whole of epoch e (GAF's loop stops at epoch 199 of 200; ours trains epoch 200 at lr 0)
    cosine_step   per step over the whole run: 0.5 lr (1 + cos(pi t / T)), t the step from 0, T every step
    constant      lr
    """
    base = settings.lr
    if epoch <= settings.warmup_epochs:
        return base * ((epoch - 1) * steps_per_epoch + step + 1) / (settings.warmup_epochs * steps_per_epoch)
    if settings.schedule == "constant":
        return base
    if settings.schedule == "cosine_epoch":
        return 0.5 * base * (1 + math.cos(math.pi * epoch / settings.epochs))
    total = steps_per_epoch * settings.epochs
    return 0.5 * base * (1 + math.cos(math.pi * ((epoch - 1) * steps_per_epoch + step) / max(1, total)))


def _to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    return x.to(device, memory_format=torch.channels_last)


@dataclass
class Minibatches:
    """The training split, resized once, drawn in a seeded order; every epoch has the same number of full minibatches."""

    images: torch.Tensor  # uint8 (N, 3, S, S)
    labels: torch.Tensor
    transform: Callable
    batch_size: int
    steps_per_epoch: int
    order: torch.Generator

    @classmethod
    def build(cls, train: prepare.Split, transform: Callable, settings: Settings) -> Minibatches:
        n = len(train[1])
        steps = n // settings.batch_size if n >= settings.batch_size else 1
        if settings.max_steps is not None:
            steps = min(steps, settings.max_steps)
        images, labels = augment.prepare(train[0], settings.input_size), torch.as_tensor(train[1])
        return cls(images, labels, transform, settings.batch_size, steps, torch.Generator().manual_seed(settings.seed))

    def epoch(self) -> Iterator[np.ndarray]:
        perm = torch.randperm(len(self.labels), generator=self.order).numpy()
        for s in range(self.steps_per_epoch):
            yield perm[s * self.batch_size : (s + 1) * self.batch_size]

    def views(self, idx: np.ndarray, device: torch.device) -> torch.Tensor:
        """One augmented view of each sample: the batch transform on the minibatch (draws from torch's global generator)."""
        return _to_device(self.transform(self.images[torch.from_numpy(idx)]), device)


@torch.inference_mode()
def predict(model: ECAN, x: torch.Tensor, transform, device, precision: str, batch_size: int) -> np.ndarray:
    """Predicted classes with the query encoder; five-crop inputs average the crops' logits."""
    model.eval()
    preds = []
    for start in range(0, len(x), batch_size):
        batch = transform(x[start : start + batch_size])
        crops = batch.shape[1] if batch.ndim == 5 else 1
        flat = batch.flatten(0, 1) if batch.ndim == 5 else batch
        with compute.autocast(device, precision):
            _, logits = model(_to_device(flat, device))
        logits = logits.float().view(len(batch), crops, -1).mean(1)
        preds.append(logits.argmax(1).cpu())
    model.train()
    return torch.cat(preds).numpy()


def evaluate(model: ECAN, split: tuple[torch.Tensor, np.ndarray], transform, device, settings: Settings) -> dict:
    """Classification scores of one split (resized images, labels)."""
    images, labels = split
    return classification_scores(
        labels,
        predict(model, images, transform, device, settings.compute["precision"], settings.eval_batch_size),
        N_CLASSES,
    )


def sgd(model: ECAN, settings: Settings) -> torch.optim.SGD:
    """SGD with momentum; weight decay on every trained parameter except the class centres."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name == "centers" else decay).append(p)
    groups = [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # fused: one kernel per step for weight decay, momentum and the update (CPU and CUDA), instead of a foreach pass for each.
    return torch.optim.SGD(groups, lr=settings.lr, momentum=settings.momentum, fused=True)


def fill_bank(model: ECAN, data: Minibatches, device: torch.device, precision: str) -> int:
    """Initialisation pass (§3.1): fill the bank with Enc_k features, no parameter updates. Returns the steps it took."""
    steps = 0
    while not model.bank.full:
        for idx in data.epoch():
            with compute.autocast(device, precision):
                model.enqueue(model.encode_key(data.views(idx, device)).float(), data.labels[idx].to(device))
            steps += 1
            if model.bank.full:
                break
    return steps


def _normalised_bank(bank: MemoryBank) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    bank_z, bank_y = bank.all()
    return (None if bank_z is None else F.normalize(bank_z, dim=1)), bank_y


def minibatch_loss(
    model: ECAN, settings: Settings, device: torch.device, xq: torch.Tensor, xk: torch.Tensor | None, y: torch.Tensor
):
    """Loss of one minibatch, the key features to push into the bank (None for single-view loss sets) and the
    minibatch's cross-entropy term alone (the collapse check compares it with the class prior's entropy)."""
    loss, precision = settings.loss, settings.compute["precision"]
    with compute.autocast(device, precision):
        zq, logits = model(xq)
    zq, logits = zq.float(), logits.float()
    cls = losses.cross_entropy(logits, y)
    if loss.views == 1:
        return (cls + settings.center_weight * losses.center(zq, y, model.centers) if loss.center else cls), None, cls
    with compute.autocast(device, precision):
        zk = model.encode_key(xk)
    zk = zk.float()
    # Contrastive terms on L2-normalised features (as SupCon / MoCo); z = z_q ∪ z_k, gradient only through z_q.
    z = torch.cat([F.normalize(zq, dim=1), F.normalize(zk, dim=1)])
    bank = _normalised_bank(model.bank) if loss.uses_bank else ()
    contrast = loss.contrastive(z, torch.cat([y, y]), settings.tau, *bank)
    if not loss.mva:
        return (1 - settings.lambda1) * cls + settings.lambda1 * contrast, zk, cls
    # MVA on the raw (unnormalised) deep features, like the center/affinity losses it extends.
    mva = losses.mva(zq, y, model.centers, model.bank.recent(settings.V - 1))
    return losses.total(cls, contrast, mva, settings.lambda1, settings.lambda2), zk, cls


def activate_gradients(parameters, alpha: float, beta: float) -> None:
    """GAF's SGD_atan (CIFAR/GAF.py): each gradient g becomes alpha * atan(beta * g) before SGD's weight decay,
    momentum and update, which torch's SGD then applies exactly as SGD_atan does (dampening 0, no Nesterov)."""
    for p in parameters:
        if p.grad is not None:
            p.grad.copy_(alpha * torch.atan(beta * p.grad))


def train_epoch(
    model: ECAN,
    optimizer: torch.optim.Optimizer,
    data: Minibatches,
    settings: Settings,
    device: torch.device,
    epoch: int,
) -> tuple[float, float]:
    """One epoch of SGD steps (each followed by Eq. 1 and Eq. 2 for two-view loss sets); returns the mean loss
    and the mean cross-entropy term."""
    total_loss, total_ce = 0.0, 0.0
    for s, idx in enumerate(data.epoch()):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(epoch, s, data.steps_per_epoch, settings)
        xq = data.views(idx, device)
        xk = data.views(idx, device) if settings.loss.views == 2 else None
        y = data.labels[idx].to(device)
        loss, zk, cls = minibatch_loss(model, settings, device, xq, xk, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.optimizer == "sgd_atan":
            activate_gradients(model.parameters(), settings.atan_alpha, settings.atan_beta)
        optimizer.step()
        if zk is not None:
            model.momentum_update(settings.key_momentum)
            model.enqueue(zk, y)
        total_loss += float(loss.detach())
        total_ce += float(cls.detach())
    return total_loss / data.steps_per_epoch, total_ce / data.steps_per_epoch


def trainer(model: ECAN, data: Minibatches, splits: dict, eval_transform, settings: Settings, device) -> Trainer:
    """One epoch of SGD steps, then the scores of `splits` ({"val": ..., "test": ...}, resized images and labels):
    validation's accuracy is the `score` that selects the epoch; the test split's (`test_score`) is a diagnostic
    that no selection reads. The bank and the data order resume; `stop_on_collapse` ends a collapsed run."""
    optimizer, started, last = sgd(model, settings), time.perf_counter(), {}
    prior = prior_entropy(data.labels.numpy())

    def train(epoch: int) -> float:
        loss, last["ce"] = train_epoch(model, optimizer, data, settings, device, epoch)
        return loss

    def evaluate_epoch(epoch: int) -> dict:
        val, test = (evaluate(model, splits[name], eval_transform, device, settings) for name in ("val", "test"))
        row = {"score": val["accuracy"]} | {f"val_{k}": v for k, v in _scores(val).items()}
        row |= {"test_score": test["accuracy"], "test_macro_f1": test["macro_f1"], "train_ce": last["ce"]}
        row |= {"val_majority_share": majority_share(val["confusion_matrix"])}
        row["collapse"] = collapse_signal(row, prior)
        if settings.progress:
            print(
                f"epoch {epoch}/{settings.epochs} val acc {val['accuracy']:.4f} ({time.perf_counter() - started:.0f}s)"
            )
        return row

    def stop(history: list[dict]) -> bool:
        return settings.stop_on_collapse and collapsed_at(history, settings.collapse_epochs) is not None

    return Trainer(
        model=model,
        optimiser=optimizer,
        train_epoch=train,
        evaluate=evaluate_epoch,
        state={"bank": model.bank},
        generators={"order": data.order},
        stop=stop,
    )


# A collapse (issue 22): predictions on (nearly) one class, or a cross-entropy at the class prior's entropy, which is
# what a model that ignores its input reaches. Both are measured every epoch; a run is flagged after
# ecan.train.collapse_epochs such epochs in a row.
COLLAPSE_SHARE, COLLAPSE_LOSS_TOLERANCE = 0.95, 0.01
COLLAPSE_CRITERION = (
    f"validation predictions >= {COLLAPSE_SHARE:.0%} one class, or the training cross-entropy within "
    f"{COLLAPSE_LOSS_TOLERANCE:.0%} of the training labels' prior entropy"
)


def prior_entropy(labels: np.ndarray) -> float:
    """The entropy (nats) of the class prior: the cross-entropy of a model that predicts the prior for every image."""
    p = np.bincount(labels, minlength=N_CLASSES) / len(labels)
    return float(-(p[p > 0] * np.log(p[p > 0])).sum())


def majority_share(confusion: list[list[int]]) -> float:
    """The share of predictions that go to the most predicted class (columns of the confusion matrix)."""
    predicted = np.asarray(confusion).sum(0)
    return float(predicted.max() / max(1, predicted.sum()))


def collapse_signal(row: dict, prior: float) -> bool:
    stuck = abs(row["train_ce"] - prior) <= COLLAPSE_LOSS_TOLERANCE * prior
    return bool(row["val_majority_share"] >= COLLAPSE_SHARE or stuck)


def collapsed_at(history: list[dict], epochs: int) -> int | None:
    """The first epoch that ends `epochs` collapsed epochs in a row, or None."""
    run = 0
    for row in history:
        run = run + 1 if row["collapse"] else 0
        if run >= epochs:
            return row["epoch"]
    return None


def _scores(scores: dict) -> dict:
    return {k: scores[k] for k in ("accuracy", "mean_class_accuracy", "macro_f1")}


# The settings each run's metrics file records (with bank_groups, the memory bank's size).
HYPERPARAMETERS = ("lambda1", "lambda2", "V", "tau", "center_weight", "key_momentum", "lr", "momentum", "weight_decay")
HYPERPARAMETERS += ("schedule", "warmup_epochs", "optimizer", "batch_size", "input_size", "seed")


def hyperparameters(settings: Settings) -> dict:
    """The settings a run's metrics file records (with bank_groups, the memory bank's size; GAF's alpha and beta
    only where sgd_atan reads them)."""
    found = {k: getattr(settings, k) for k in HYPERPARAMETERS} | {"bank_groups": settings.bank_size}
    if settings.optimizer == "sgd_atan":
        found |= {"atan_alpha": settings.atan_alpha, "atan_beta": settings.atan_beta}
    return found


def run(
    settings: Settings, train: prepare.Split, val: prepare.Split, test: prepare.Split, checkpoint: Path | None = None
) -> dict:
    """Train one model; select the epoch on validation accuracy; report val and test scores of that epoch.
    train/val/test are (uint8 images, int64 labels); scores are fractions. After every epoch the run is saved
    to `checkpoint`, and resumed from it."""
    device, precision = compute.setup(settings.compute, fixed_malloc_threshold=False), settings.compute["precision"]
    weights = parse_weights(settings.weights, f"ecan.{settings.dataset}")
    model = ECAN(weights, N_CLASSES, settings.seed, settings.bank_size).to(device).to_fast_layout(settings.input_size)
    torch.manual_seed(settings.seed)  # augmentation stream (the minibatch order has its own generator)
    train_transform, eval_transform = augment.build(
        settings.dataset, settings.augment, settings.augmentations, settings.input_size
    )
    data = Minibatches.build(train, train_transform, settings)
    x_val, x_test = augment.prepare(val[0], settings.input_size), augment.prepare(test[0], settings.input_size)
    init_steps = fill_bank(model, data, device, precision)
    splits = {"val": (x_val, val[1]), "test": (x_test, test[1])}
    result = fit(
        trainer(model, data, splits, eval_transform, settings, device),
        settings.epochs,
        checkpoint,
        identity=asdict(settings) | {"data": fingerprint(train[0], train[1], val[1], test[1]), "device": str(device)},
        name=f"{settings.dataset} seed {settings.seed}",
    )
    # Test is scored once, with the weights of the epoch validation selected; it never influences selection.
    model.load_state_dict(result.best_state)
    test_scores = evaluate(model, splits["test"], eval_transform, device, settings)
    steps = data.steps_per_epoch * len(result.history)
    return {
        "dataset": settings.dataset,
        "augment": settings.augment,
        "losses": settings.losses,
        "hyperparameters": hyperparameters(settings),
        "weights": weights.provenance(),
        "best_epoch": result.best_epoch,
        "val": {k: result.best_scores[f"val_{k}"] for k in _scores(test_scores)},
        "test": _scores(test_scores),
        "test_confusion_matrix": test_scores["confusion_matrix"],
        **epoch_summaries(result.history, settings, prior_entropy(train[1])),
        "history": result.history,
        "budget": {
            "epochs": settings.epochs,
            "epochs_trained": len(result.history),
            "steps": steps,
            "init_steps": init_steps,
            "train_samples": len(data.labels),
            "val_samples": int(len(val[1])),
            "test_samples": int(len(test[1])),
            "samples_seen": steps * settings.batch_size,
            "views_per_sample": settings.loss.views,
            "precision": precision,
            "threads": settings.compute["threads"],
        },
        "environment": environment_record(device, precision),  # read into the tables' provenance sidecars
    }


def epoch_summaries(history: list[dict], settings: Settings, prior: float) -> dict:
    """Beside the selected epoch's scores (`test`, the numbers claims read): the final epoch's, the largest test
    accuracy over epochs (a labelled diagnostic of what selecting on test would report, as GAF's script does;
    nothing reads it for a verdict), and the collapse flag."""
    final, best_test = history[-1], max(history, key=lambda row: row["test_score"])
    collapsed = collapsed_at(history, settings.collapse_epochs)
    if collapsed is not None:
        log.warning(
            "%s seed %d: collapse flagged at epoch %d (%s)",
            settings.dataset,
            settings.seed,
            collapsed,
            COLLAPSE_CRITERION,
        )
    return {
        "final_epoch": {
            "epoch": final["epoch"],
            "test": {"accuracy": final["test_score"], "macro_f1": final["test_macro_f1"]},
        },
        "diagnostic_max_test_accuracy": {
            "accuracy": best_test["test_score"],
            "epoch": best_test["epoch"],
            "note": "selection on the test split (GAF's script reports this); a diagnostic, never a claim's number",
        },
        "collapse": {
            "flagged": collapsed is not None,
            "epoch": collapsed,
            "criterion": f"{COLLAPSE_CRITERION}, {settings.collapse_epochs} epochs in a row",
            "prior_entropy": prior,
            "stopped": collapsed is not None and settings.stop_on_collapse,
        },
    }


def run_output(
    job: TrainJob, seed: int, location: str, splits: tuple | None = None, checkpoint: Path | None = None
) -> dict:
    """The metrics file of the job's run with `seed`: its id, spec, data and substitutes, then what `run` returns.

    `splits` are the (train, val, test) of the run's dataset when the caller has loaded them already;
    `checkpoint` is where the run saves every epoch and resumes from (affrepro.training).
    """
    spec = job.spec | {"seed": seed}
    if splits is None:
        splits = load_run_splits(job, location)
    result = run(Settings.from_job(job, spec), *splits, checkpoint=checkpoint)
    data = {"kind": "demo" if job.demo else "real", "location": location}
    # Stand-ins for the paper's models this run trained with (real data, allow_substitutes); the table rows name them.
    return {"run_id": plan.run_id(spec), "spec": spec, "data": data, "substitutes": job.substitutes, **result}


def load_run_splits(job: TrainJob, location: str) -> tuple:
    return prepare.load_splits(job.dataset, location, {job.dataset: job.data}, job.location["on_unreadable"])


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(__doc__, "ecan", argv, setting=jobs.TEXT, data=jobs.PATH, out=jobs.PATHS)
    if not isinstance(config, StrictConfig):  # a whole config.yaml (a job run by hand): the setting must be planned
        if args.setting not in (setting_runs := plan.setting_runs(config)):
            raise SystemExit(
                f"unknown ECAN setting {args.setting!r}; the config plans: {', '.join(sorted(setting_runs))}"
            )
    try:
        job = TrainJob.from_config(config, setting=args.setting)
    except ValueError as error:  # not a setting id
        raise SystemExit(str(error)) from None
    run_ids = [plan.run_id(job.spec | {"seed": seed}) for seed in job.seeds]
    if len(args.out) != len(run_ids):
        raise SystemExit(
            f"--out names {len(args.out)} file(s); setting {args.setting} has {len(run_ids)} run(s): {', '.join(run_ids)}"
        )
    splits = load_run_splits(job, str(args.data))
    checkpoints = [checkpoint_path(out) for out in args.out]
    for seed, out, checkpoint in zip(job.seeds, args.out, checkpoints):
        write_json(out, run_output(job, seed, str(args.data), splits, checkpoint))
    for checkpoint in checkpoints:  # only now: a rerun of a job killed in a later seed skips the finished ones
        remove_checkpoint(checkpoint)


if __name__ == "__main__":
    main()
