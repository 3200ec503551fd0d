"""Six-fold cross-validation over the annotated trials (VA paper §3.3, §4.2).

The train and validation trials are pooled and split into folds; every trial
is in exactly one fold, and the two people of a `_left`/`_right` video share
a fold (their faces differ but the audio is the same track, so splitting
them would leak). Folds are "randomly segmented" (§4.2): videos are shuffled
with a fixed seed, then each in turn goes to the fold with the fewest frames
so far, which keeps the folds' sizes close. Folds balance frames, not trial
counts, and the official train/validation split plays no part in them.

Each fold k is scored under two selection protocols (PROTOCOLS): the paper's
(fold k is the validation set: it picks the epoch and is scored, the other
n-1 folds train; Table 2) and a nested one (fold (k+1) mod n picks the epoch,
fold k is scored, the other n-2 train; table2_nested), which shows how
optimistic selecting the epoch on the reported fold is.

    python -m affrepro.va.folds --config C --manifests work/va/prepare/shard0.json ... --out work/va/folds.json
"""

from __future__ import annotations

import numpy as np

from affrepro import jobs
from affrepro.data.affwild2 import video_group
from affrepro.files import read_json, write_json
from affrepro.va.settings import Folds


def assign_folds(lengths: dict[str, int], n_folds: int, seed: int) -> dict[str, int]:
    """Trial name -> fold index, pairs together, deterministic for a seed."""
    groups: dict[str, list[str]] = {}
    for name in sorted(lengths):
        groups.setdefault(video_group(name), []).append(name)
    if len(groups) < n_folds:
        raise ValueError(f"{len(groups)} videos cannot fill {n_folds} folds; lower va.cv.folds or add trials")
    names = sorted(groups)
    shuffled = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    size = {g: sum(lengths[t] for t in groups[g]) for g in shuffled}
    load = [0] * n_folds
    folds: dict[str, int] = {}
    for group in shuffled:
        fold = min(range(n_folds), key=lambda k: (load[k], k))
        load[fold] += size[group]
        for trial in groups[group]:
            folds[trial] = fold
    return dict(sorted(folds.items()))


PROTOCOLS = {
    "paper": "the paper's six-fold protocol: fold k is the validation set, it picks the epoch (best P) and is scored; "
    "the other folds train (5 of 6). The score is optimistic: the fold it is reported on chose the epoch",
    "nested": "fold k is held out and scored; fold (k+1) mod n picks the epoch (best P), so the scored fold never "
    "influences training or selection; the other folds train (4 of 6)",
}


def selection_fold(fold: int, n_folds: int, protocol: str) -> int:
    """The fold that picks the epoch when `fold` is scored: `fold` itself (paper) or the next one (nested)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown selection protocol {protocol!r}; one of {', '.join(PROTOCOLS)}")
    return fold if protocol == "paper" else (fold + 1) % n_folds


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__, "va", argv, manifests={**jobs.PATHS, "help": "prepare manifests (trial lengths)"}, out=jobs.PATH
    )
    cv = Folds.from_config(config).cv
    manifests = [read_json(m) for m in args.manifests]
    lengths = {name: info["length"] for m in manifests for name, info in m["trials"].items()}
    skipped = {
        name: why for m in manifests for name, why in m.get("skipped", {}).items()
    }  # on_unreadable: skip, for provenance
    folds = assign_folds(lengths, cv["folds"], cv["seed"])
    summary = {
        f"fold-{k}": {
            "trials": sorted(t for t, f in folds.items() if f == k),
            "frames": sum(lengths[t] for t, f in folds.items() if f == k),
        }
        for k in range(cv["folds"])
    }
    write_json(
        args.out,
        {"n_folds": cv["folds"], "seed": cv["seed"], "assignment": folds, "folds": summary}
        | ({"skipped": skipped} if skipped else {}),
    )


if __name__ == "__main__":
    main()
