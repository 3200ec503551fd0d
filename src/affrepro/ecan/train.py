"""One ECAN experiment (paper §4.2) from explicit arguments, and from the config.

`run` trains ResNet-18 with the chosen loss set and returns a JSON-able dict;
`run_from_config` reads the `ecan:` block of the resolved config, applies a
run spec ({dataset, augment, losses, lambda1, lambda2, V, seed}) and loads the
dataset. Same arguments give the same dict on CPU (everything is seeded, data
is fed in the main process).

Loss sets (Table 3 rows; Eq. 11 with the two slots filled as named):
  ce        L^cls                                  single view (the baseline)
  center    L^cls + w_c L^center (Eq. 7)           single view
  supcon    (1-λ1) L^cls + λ1 L^supcon (Eq. 4)     two views
  esc       (1-λ1) L^cls + λ1 L^esc (Eq. 5)        two views + bank
  ensc      (1-λ1) L^cls + λ1 L^ensc (Eq. 6)       two views + bank
  ensc+mva  Eq. 11 (ECAN)                          two views + bank
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from affrepro import compute as compute_mod
from affrepro.ecan import augment as aug
from affrepro.ecan import losses as L
from affrepro.ecan.model import ECAN, MemoryBank
from affrepro.features.weights import parse_weights
from affrepro.metrics import classification_scores

LOSS_SETS = ("ce", "center", "supcon", "esc", "ensc", "ensc+mva")
TWO_VIEW = {"supcon", "esc", "ensc", "ensc+mva"}
USES_BANK = {"esc", "ensc", "ensc+mva"}
N_CLASSES = 7


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx): per class, round(fraction * n_c) samples (at least 1) held out, seeded."""
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_val = max(1, int(round(fraction * len(idx)))) if len(idx) > 1 else 0
        val.extend(rng.permutation(idx)[:n_val].tolist())
    val = np.sort(np.asarray(val, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


def lr_at(step: int, total_steps: int, base_lr: float, schedule: str) -> float:
    """Per-step learning rate. cosine: 0.5 lr (1 + cos(pi t / T)), no warm-up; constant: lr."""
    if schedule == "constant":
        return base_lr
    if schedule == "cosine":
        return 0.5 * base_lr * (1 + math.cos(math.pi * step / max(1, total_steps)))
    raise ValueError(f"unknown lr schedule {schedule!r} (cosine | constant)")


def _views(x: torch.Tensor, idx: np.ndarray, transform) -> torch.Tensor:
    return torch.stack([transform(x[i]) for i in idx])


def _to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    return x.to(device, memory_format=torch.channels_last)


@torch.no_grad()
def predict(model: ECAN, x: torch.Tensor, transform, device, precision: str, batch_size: int) -> np.ndarray:
    """Predicted classes with the query encoder; five-crop inputs average the crops' logits."""
    model.eval()
    preds = []
    for start in range(0, len(x), batch_size):
        batch = torch.stack([transform(img) for img in x[start : start + batch_size]])
        crops = batch.shape[1] if batch.ndim == 5 else 1
        flat = batch.flatten(0, 1) if batch.ndim == 5 else batch
        with compute_mod.autocast(device, precision):
            _, logits = model(_to_device(flat, device))
        logits = logits.float().view(len(batch), crops, -1).mean(1)
        preds.append(logits.argmax(1).cpu())
    model.train()
    return torch.cat(preds).numpy()


def _step_loss(model, bank, losses, xq, xk, y, device, precision, lambda1, lambda2, V, tau, center_weight):
    """Loss of one minibatch and the key features to push into the bank (None for single-view loss sets)."""
    with compute_mod.autocast(device, precision):
        zq, logits = model(xq)
    zq, logits = zq.float(), logits.float()
    cls = L.cross_entropy(logits, y)
    if losses == "ce":
        return cls, None
    if losses == "center":
        return cls + center_weight * L.center(zq, y, model.centers), None
    with compute_mod.autocast(device, precision):
        zk = model.encode_key(xk)
    zk = zk.float()
    # Contrastive terms on L2-normalised features (as SupCon / MoCo); z = z_q ∪ z_k, gradient only through z_q.
    z = torch.cat([F.normalize(zq, dim=1), F.normalize(zk, dim=1)])
    yy = torch.cat([y, y])
    bank_z, bank_y = bank.all() if losses in USES_BANK else (None, None)
    if bank_z is not None:
        bank_z = F.normalize(bank_z, dim=1)
    negatives = {"supcon": "none", "esc": "all", "ensc": "other_class", "ensc+mva": "other_class"}[losses]
    contrast = L.contrastive(z, yy, tau, bank_z, bank_y, negatives=negatives)
    if losses != "ensc+mva":
        return (1 - lambda1) * cls + lambda1 * contrast, zk
    # MVA on the raw (unnormalised) deep features, like the center/affinity losses it extends.
    mva = L.mva(zq, y, model.centers, bank.recent(V - 1))
    return L.total(cls, contrast, mva, lambda1, lambda2), zk


def run(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    dataset: str,
    augment: str,
    aug_config: dict,
    losses: str = "ensc+mva",
    lambda1: float = 0.2,
    lambda2: float = 0.7,
    V: int = 5,
    tau: float = 0.1,
    center_weight: float = 0.01,
    key_momentum: float = 0.999,
    bank_groups: int = 4,
    epochs: int = 40,
    batch_size: int = 256,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    schedule: str = "cosine",
    input_size: int = 224,
    weights: str = "random",
    seed: int = 0,
    compute: dict | None = None,
    eval_batch_size: int = 256,
    max_steps: int | None = None,
    progress: bool = False,
) -> dict:
    """Train one model; select the epoch on validation accuracy; report val and test scores of that epoch.

    train/val/test are (uint8 images, int64 labels). max_steps (tests only)
    stops an epoch early. Returns scores as fractions, the test confusion
    matrix, the best epoch, per-epoch history and the budget used.
    """
    if losses not in LOSS_SETS:
        raise ValueError(f"losses must be one of {LOSS_SETS}, got {losses!r}")
    if V < 1:
        raise ValueError("V (feature groups of the MVA loss) must be >= 1")
    compute = compute or {"device": "cpu", "precision": "fp32", "threads": 1}
    device = compute_mod.setup(compute)
    precision = compute["precision"]
    if weights is None:
        raise ValueError(f"ecan.{dataset}.weights is not set: give the encoder checkpoint path (paper: ResNet-18 pretrained on MS-Celeb-1M for RAF-DB) or `random`")
    spec = parse_weights(weights, f"ecan.{dataset}")
    model = ECAN(spec, N_CLASSES, seed).to(device, memory_format=torch.channels_last)
    torch.manual_seed(seed)  # augmentation stream
    order_rng = torch.Generator().manual_seed(seed)  # minibatch order

    train_tf, eval_tf = aug.build(dataset, augment, aug_config, input_size)
    x_train, y_train = aug.prepare(train[0], input_size), torch.as_tensor(train[1])
    x_val, x_test = aug.prepare(val[0], input_size), aug.prepare(test[0], input_size)

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name == "centers" else decay).append(p)
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, momentum=momentum, foreach=True)

    two_view = losses in TWO_VIEW
    # Bank size K: the paper does not give it; it must hold the V-1 groups the MVA loss reads.
    bank = MemoryBank(max(bank_groups, V - 1) if losses in USES_BANK else 0)
    n = len(y_train)
    steps_per_epoch = n // batch_size if n >= batch_size else 1
    if max_steps is not None:
        steps_per_epoch = min(steps_per_epoch, max_steps)
    total_steps = steps_per_epoch * epochs

    def batches():
        perm = torch.randperm(n, generator=order_rng).numpy()
        for s in range(steps_per_epoch):
            yield perm[s * batch_size : (s + 1) * batch_size]

    # Initialisation pass (§3.1): fill the bank with Enc_k features, no parameter updates.
    init_steps = 0
    while len(bank) < bank.groups:
        for idx in batches():
            with compute_mod.autocast(device, precision):
                bank.push(model.encode_key(_to_device(_views(x_train, idx, train_tf), device)).float(), y_train[idx].to(device))
            init_steps += 1
            if bank.full:
                break

    history, best = [], None
    step = 0
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total_loss = 0.0
        for idx in batches():
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total_steps, lr, schedule)
            xq = _to_device(_views(x_train, idx, train_tf), device)
            xk = _to_device(_views(x_train, idx, train_tf), device) if two_view else None
            y = y_train[idx].to(device)
            loss, zk = _step_loss(model, bank, losses, xq, xk, y, device, precision, lambda1, lambda2, V, tau, center_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if two_view:
                model.momentum_update(key_momentum)  # Eq. 1, then Eq. 2, after each step
                bank.push(zk, y)
            total_loss += float(loss.detach())
            step += 1
        val_scores = classification_scores(val[1], predict(model, x_val, eval_tf, device, precision, eval_batch_size), N_CLASSES)
        record = {"epoch": epoch, "train_loss": total_loss / steps_per_epoch, "val_accuracy": val_scores["accuracy"], "val_mean_class_accuracy": val_scores["mean_class_accuracy"], "val_macro_f1": val_scores["macro_f1"]}
        history.append(record)
        if best is None or val_scores["accuracy"] > best["val"]["accuracy"]:
            best = {"epoch": epoch, "val": val_scores, "state": copy.deepcopy(model.state_dict())}
        if progress:
            print(f"epoch {epoch}/{epochs} loss {record['train_loss']:.4f} val acc {val_scores['accuracy']:.4f} ({time.perf_counter() - started:.0f}s)", flush=True)

    # Test is scored once, with the weights of the epoch validation selected; it never influences selection.
    model.load_state_dict(best["state"])
    best["test"] = classification_scores(test[1], predict(model, x_test, eval_tf, device, precision, eval_batch_size), N_CLASSES)

    def scores(s):
        return {k: s[k] for k in ("accuracy", "mean_class_accuracy", "macro_f1")}

    return {
        "dataset": dataset,
        "augment": augment,
        "losses": losses,
        "hyperparameters": {"lambda1": lambda1, "lambda2": lambda2, "V": V, "tau": tau, "center_weight": center_weight, "key_momentum": key_momentum, "bank_groups": bank.groups, "lr": lr, "momentum": momentum, "weight_decay": weight_decay, "schedule": schedule, "batch_size": batch_size, "input_size": input_size, "seed": seed},
        "weights": spec.provenance(),
        "best_epoch": best["epoch"],
        "val": scores(best["val"]),
        "test": scores(best["test"]),
        "test_confusion_matrix": best["test"]["confusion_matrix"],
        "history": history,
        "budget": {"epochs": epochs, "steps": step, "init_steps": init_steps, "train_samples": n, "val_samples": int(len(val[1])), "test_samples": int(len(test[1])), "samples_seen": step * batch_size, "views_per_sample": 2 if two_view else 1, "precision": precision, "threads": compute["threads"]},
    }


def load_splits(dataset: str, location: str, ecan: dict) -> tuple[tuple, tuple, tuple]:
    """(train, val, test) arrays. RAF-DB: val is a seeded stratified hold-out of train; FER2013: PrivateTest is val, PublicTest is test.

    With ecan.<dataset>.max_train set, training uses a class-stratified subset of that size (a reduced budget).
    """
    settings = ecan[dataset]
    if dataset == "rafdb":
        from affrepro.data import rafdb

        data = rafdb.load(location)
        train_idx, val_idx = stratified_split(data["train"]["labels"], settings["val_fraction"], settings["split_seed"])
        images, labels = data["train"]["images"], data["train"]["labels"]
        train, val, test = (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx]), (data["test"]["images"], data["test"]["labels"])
    elif dataset == "fer2013":
        from affrepro.data import fer2013

        data = fer2013.load(location)
        split = lambda usage: (data[usage]["images"], data[usage]["labels"])  # noqa: E731
        train, val, test = split("Training"), split("PrivateTest"), split("PublicTest")
    else:
        raise ValueError(f"unknown ECAN dataset {dataset!r} (rafdb | fer2013)")
    if settings["max_train"] is not None and settings["max_train"] < len(train[1]):
        _, keep = stratified_split(train[1], settings["max_train"] / len(train[1]), settings["split_seed"])
        train = (train[0][keep], train[1][keep])
    return train, val, test


def resolve_spec(ecan: dict, spec: dict) -> dict:
    """The spec with every missing key taken from ecan.defaults; unknown keys are an error."""
    allowed = {"dataset", "augment", "losses", "lambda1", "lambda2", "V", "seed", "data"}
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"unknown run spec key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    merged = {**ecan["defaults"], "seed": ecan["seeds"][0], **spec}
    if "dataset" not in merged:
        raise ValueError("run spec needs a dataset (rafdb | fer2013)")
    return merged


def run_from_config(config: dict, spec: dict) -> dict:
    """Run one experiment: ecan config defaults overridden by spec {dataset, augment, losses, lambda1, lambda2, V, seed[, data]}.

    `data` (optional) is the dataset location (RAF-DB root or fer2013 csv);
    without it datasets.rafdb.root / datasets.fer2013.path is used.
    """
    ecan = config["ecan"]
    spec = resolve_spec(ecan, spec)
    dataset = spec["dataset"]
    location = spec.get("data") or config["datasets"][dataset]["root" if dataset == "rafdb" else "path"]
    if location is None:
        raise ValueError(f"no data for {dataset}: set datasets.{dataset} or pass the demo location as spec['data']")
    train, val, test = load_splits(dataset, location, ecan)
    settings, train_cfg, model_cfg, loss_cfg = ecan[dataset], ecan["train"], ecan["model"], ecan["loss"]
    result = run(
        train, val, test,
        dataset=dataset, augment=spec["augment"], aug_config=ecan["augment"], losses=spec["losses"],
        lambda1=spec["lambda1"], lambda2=spec["lambda2"], V=spec["V"], tau=loss_cfg["tau"], center_weight=loss_cfg["center_weight"],
        key_momentum=model_cfg["key_momentum"], bank_groups=model_cfg["bank_groups"],
        epochs=settings["epochs"], batch_size=train_cfg["batch_size"], lr=train_cfg["lr"], momentum=train_cfg["momentum"],
        weight_decay=train_cfg["weight_decay"], schedule=train_cfg["schedule"], input_size=settings["input_size"],
        weights=settings["weights"], seed=spec["seed"], compute=config["compute"], eval_batch_size=train_cfg["eval_batch_size"],
    )
    result["spec"] = {k: v for k, v in spec.items() if k != "data"}
    return result
