"""Per-epoch training curves of a paper's runs, in one small CSV: results/<key>/curves/training.csv.

Every training job keeps its history in its metrics file (EMI: per seed; VA: per
fold; ECAN: per run). This job gathers them into long format, one row per run and
epoch, with the same columns for every paper (DVC plots them, `dvc plots show`):

    run          EMI <feature_set>/seed<s>; VA <protocol>/fold<k>; ECAN the run id
    epoch        from 1 (affrepro.training: one loop, one history record for every paper)
    train_loss   mean training loss of the epoch (EMI: MSE; VA: 1 - CCC; ECAN: the run's loss set)
    valid_score  the history's `score`, which selects the epoch (EMI: validation mean Pearson; VA: selection-fold P;
                 ECAN: validation accuracy)
    test_score   a diagnostic no selection reads, empty where the job does not score test every epoch (ECAN: test
                 accuracy after the epoch; the runs select on valid_score and report the selected epoch's test)
    lr           the learning rate at the end of the epoch (empty for a history from before lr was recorded)
    collapse     1 when the epoch looks collapsed (ECAN: one predicted class or a loss at the prior's; a run is
                 flagged after several in a row, papers/ecan.yaml choices.collapse), 0 when not, empty elsewhere

Values are written with 6 significant digits, rows in run then epoch order: the
file is deterministic for deterministic runs.

A plot of the three curves (`--png`) goes into the Snakemake report.

    python -m affrepro.curves --paper emi --metrics work/emi/runs/*/metrics.json --out results/emi/curves/training.csv \
        --png results/emi/curves/training.png
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from affrepro import jobs, papers, registry
from affrepro.files import read_json, write_text

COLUMNS = ["run", "epoch", "train_loss", "valid_score", "test_score", "lr", "collapse"]


def _number(value) -> str:
    return "" if value is None else f"{float(value):.6g}"


def rows(paper: str, metrics_files: list[Path]) -> list[dict]:
    found = {}
    for path in metrics_files:
        for run, history in registry.paper(paper).history_runs(read_json(path)).items():
            if run in found:
                raise SystemExit(f"affrepro.curves: {path} names run {run!r}, which another metrics file already named")
            found[run] = history
    return [
        {
            "run": run,
            "epoch": int(h["epoch"]),
            "train_loss": _number(h.get("train_loss")),
            "valid_score": _number(h.get("score")),
            "test_score": _number(h.get("test_score")),
            "lr": _number(h.get("lr")),
            "collapse": "" if h.get("collapse") is None else int(h["collapse"]),
        }
        for run in sorted(found)
        for h in sorted(found[run], key=lambda h: h["epoch"])
    ]


def render(table: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


def plot(paper: str, table: list[dict], png: Path) -> None:
    """Train loss, validation score and lr against epoch, one line per run (a legend while it stays readable)."""
    import matplotlib.pyplot as plt

    from affrepro.plots import save_png

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    plotted = ["train_loss", "valid_score", "lr"]
    runs = sorted({row["run"] for row in table})
    for run in runs:
        points = [row for row in table if row["run"] == run]
        for ax, column in zip(axes, plotted):
            kept = [(row["epoch"], float(row[column])) for row in points if row[column] != ""]
            if kept:
                ax.plot(*zip(*kept), linewidth=0.8, alpha=0.7, label=run)
    from matplotlib.ticker import MaxNLocator

    for ax, title in zip(axes, ("train loss", "validation score (selects the epoch)", "learning rate")):
        ax.set_title(title, fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
    if len(runs) <= 12:
        axes[0].legend(fontsize=6)
    fig.suptitle(f"{registry.paper(paper).name}: training curves of {len(runs)} runs", fontsize=10)
    fig.tight_layout()
    save_png(fig, png)


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(
        __doc__,
        None,
        argv,
        paper=jobs.one_of(papers.PAPERS),
        metrics=jobs.PATHS,
        out=jobs.PATH,
        png=jobs.PATH,
    )
    table = rows(args.paper, args.metrics)
    write_text(args.out, render(table))
    plot(args.paper, table, args.png)


if __name__ == "__main__":
    main()
