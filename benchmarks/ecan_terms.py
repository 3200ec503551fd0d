"""Per-term diagnostics of ECAN's loss on real data (issue 22): where does a collapse onto one class come from?

It trains with the training job's own step (affrepro.ecan.train.train_epoch, the config's settings, the
Table 5 spec by default: strong augmentation, ENSC + MVA, lambda1 0.2, lambda2 0.7, V 5) and records at
every step, through wrappers around the loss functions the step calls:

    the weighted terms of Eq. 11: (1 - lambda1) CE, lambda1 ENSC, lambda2 MVA (and MVA's alpha);
    per term, every `--grad-every` steps, the norm of its gradient on Enc_q's parameters and its cosine with
    the CE term's gradient;
    the deep features z_q (every loss set's): mean L2 norm and the share of (feature, image) entries at zero (ReLU-dead);
    the class centres: sigma_c^2 (the MVA denominator) and their mean norm;
    the minibatch's majority-prediction share, and the lr.

It stops after `--steps` steps (the lr follows the full epochs' schedule: a one-epoch warm-up is 112 steps
of the full Training split at batch 256). Every `--grad-every` steps it prints a line; the rows go to
`--out` (JSON, with the stamp of where it ran).

    python benchmarks/ecan_terms.py /path/fer2013.csv.gz --steps 300 [--train 28709] [--losses ensc+mva]
        [--lambda1 0.2] [--lambda2 0.7] [--augment strong] [--threads 1] [--out benchmarks/ecan_terms.json]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from affrepro import compute
from affrepro.data import fer2013
from affrepro.ecan import augment, losses, plan
from affrepro.ecan import train as ecan_train
from affrepro.features.weights import parse_weights
from affrepro.files import write_json
from affrepro.models.ecan import ECAN

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ecan_fer2013 import stratified_subset  # noqa: E402
from stamp import stamp  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def flat_grad(term: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).flatten() for g, p in zip(grads, params)])


class Enough(Exception):
    """The steps asked for are recorded."""


class Recorder:
    """Wraps the loss functions ecan.train calls; one row per training step."""

    def __init__(self, model: ECAN, settings: ecan_train.Settings, optimizer, steps: int, grad_every: int):
        self.model, self.settings, self.optimizer = model, settings, optimizer
        self.steps, self.grad_every = steps, grad_every
        self.params = [p for p in model.encoder_q.parameters() if p.requires_grad]
        self.rows: list[dict] = []
        self.features: dict = {}
        self._ce, self._mva, self._total = losses.cross_entropy, losses.mva, losses.total
        self._forward = model.forward

    def forward(self, x):
        """Enc_q's features of every loss set (the baseline's too), then the model's output as it was."""
        z, logits = self._forward(x)
        with torch.no_grad():
            self.features = {
                "z_norm": float(z.float().norm(dim=1).mean()),
                "z_zero_share": float((z <= 0).float().mean()),
            }
        return z, logits

    def cross_entropy(self, logits, labels):
        cls = self._ce(logits, labels)
        predicted = torch.bincount(logits.argmax(1), minlength=logits.shape[1])
        self.features["majority_share"] = float(predicted.max() / len(labels))
        if not self.settings.loss.mva:  # the baseline: CE is the whole loss
            self.record({"ce": cls})
        return cls

    def mva(self, x, y, centers, history=()):
        term = self._mva(x, y, centers, history)
        with torch.no_grad():
            self.features |= {
                "sigma_c2": float(losses.center_variance(centers)),
                "centre_norm": float(centers.norm(dim=1).mean()),
                "mva_alpha": float(term / losses.affinity(x, y, centers)),
            }
        return term

    def total(self, cls, ensc_loss, mva_loss, lambda1, lambda2):
        self.record({"ce": (1 - lambda1) * cls, "ensc": lambda1 * ensc_loss, "mva": lambda2 * mva_loss})
        return self._total(cls, ensc_loss, mva_loss, lambda1, lambda2)

    def record(self, terms: dict[str, torch.Tensor]) -> None:
        """The step's row; past the last step asked for, stop before its update."""
        if len(self.rows) == self.steps:
            raise Enough
        step = len(self.rows) + 1
        row = {"step": step, "lr": self.optimizer.param_groups[0]["lr"]}
        row |= {f"{name}_term": float(term.detach()) for name, term in terms.items()}
        if step == 1 or step % self.grad_every == 0:
            grads = {name: flat_grad(term, self.params) for name, term in terms.items()}
            for name, grad in grads.items():
                row[f"{name}_grad_norm"] = float(grad.norm())
                if name != "ce":
                    row[f"{name}_cos_ce"] = float(torch.nn.functional.cosine_similarity(grad, grads["ce"], dim=0))
            print(
                " ".join(
                    f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in (row | self.features).items()
                )
            )
        self.rows.append(row | self.features)

    def __enter__(self):
        losses.cross_entropy, losses.mva, losses.total = self.cross_entropy, self.mva, self.total
        self.model.forward = self.forward
        return self

    def __exit__(self, *exc):
        losses.cross_entropy, losses.mva, losses.total = self._ce, self._mva, self._total
        del self.model.forward


def settings_for(args, config: dict) -> ecan_train.Settings:
    defaults = config["ecan"]["defaults"]
    spec = defaults | {"dataset": "fer2013", "augment": args.augment, "losses": args.losses, "seed": 0}
    spec |= {k: v for k, v in (("lambda1", args.lambda1), ("lambda2", args.lambda2)) if v is not None}
    return ecan_train.Settings.from_config(config, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="fer2013.csv or fer2013.csv.gz (the real file)")
    parser.add_argument("--steps", type=int, default=120, help="training steps recorded (the first epoch's, warm-up)")
    parser.add_argument("--train", type=int, default=28709, help="class-stratified subset of Training")
    parser.add_argument("--losses", default=plan.ECAN, choices=sorted(ecan_train.LOSSES))
    parser.add_argument("--augment", default="strong")
    parser.add_argument("--lambda1", type=float)
    parser.add_argument("--lambda2", type=float)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--grad-every", type=int, default=10, help="gradients (and a printed line) every this many steps"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "ecan_terms.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    settings = settings_for(args, config)
    torch.set_num_threads(args.threads)
    data = fer2013.load(args.path)
    chosen = stratified_subset(data["Training"]["labels"], args.train, seed=0)
    images, labels = data["Training"]["images"][chosen], data["Training"]["labels"][chosen]

    device = compute.setup(settings.compute, fixed_malloc_threshold=False)
    weights = parse_weights(settings.weights, "ecan.fer2013")
    model = ECAN(weights, ecan_train.N_CLASSES, settings.seed, settings.bank_size).to(device)
    model.to_fast_layout(settings.input_size)
    torch.manual_seed(settings.seed)
    transform, _ = augment.build("fer2013", settings.augment, settings.augmentations, settings.input_size)
    minibatches = ecan_train.Minibatches.build((images, labels), transform, settings)
    ecan_train.fill_bank(model, minibatches, device, settings.compute["precision"])
    optimizer = ecan_train.sgd(model, settings)
    with Recorder(model, settings, optimizer, args.steps, args.grad_every) as recorder:
        try:
            for epoch in range(1, settings.epochs + 1):
                ecan_train.train_epoch(model, optimizer, minibatches, settings, device, epoch)
        except Enough:
            pass
    prior = ecan_train.prior_entropy(np.asarray(labels))
    write_json(
        args.out,
        {
            "settings": ecan_train.hyperparameters(settings)
            | {"losses": settings.losses, "augment": settings.augment, "train_images": len(labels)},
            "prior_entropy": prior,
            "steps": recorder.rows,
            "stamp": stamp(load_before),
        },
    )
    print(f"class prior entropy {prior:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
