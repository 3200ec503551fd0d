"""Figures 3, 4, 6 and 7 of the ECAN paper: a PNG and the CSV of the numbers it plots.

Figure 3: accuracy and mean class accuracy (test, %) against lambda1 and against lambda2.
Figure 4: the same against V, the feature groups of the MVA loss.
Figure 6: training-set class distribution of each dataset (counts, exact from the data).
Figure 7: test confusion matrices (rows normalised to %), baseline vs ECAN, per dataset.

    python -m affrepro.ecan.figures --config C --figure figure3 --inputs work/ecan/experiments/figure3.json --png P --csv C

--inputs is the aggregate of the figure's runs (affrepro.ecan.aggregate), or for
Figure 6 the dataset facts (affrepro.ecan.stats).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from affrepro import jobs  # noqa: E402
from affrepro.data import fer2013, rafdb  # noqa: E402
from affrepro.ecan.provenance import NAMES, data_label  # noqa: E402
from affrepro.ecan.settings import Figures  # noqa: E402
from affrepro.files import read_json, write_text  # noqa: E402
from affrepro.plots import save_png  # noqa: E402

CLASSES = {"rafdb": rafdb.CLASSES, "fer2013": fer2013.CLASSES}
SUBTITLE = "ours ({})"


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def sweep_rows(points: dict, parameter: str) -> list[dict]:
    rows = []
    for value in sorted(points, key=float):
        p = points[value]
        rows.append(
            {
                parameter: float(value),
                "accuracy_pct": round(p["accuracy_pct"], 4),
                "mean_class_accuracy_pct": round(p["mean_class_accuracy_pct"], 4),
                "runs": " ".join(p["runs"]),
            }
        )
    return rows


def plot_sweeps(panels: list[tuple[str, list[dict]]], title: str, label: str, png: Path) -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (parameter, rows) in zip(axes[0], panels):
        x = [r[parameter] for r in rows]
        ax.plot(x, [r["accuracy_pct"] for r in rows], "o-", label="accuracy")
        ax.plot(x, [r["mean_class_accuracy_pct"] for r in rows], "s--", label="mean class accuracy")
        ax.set_xlabel(parameter)
        ax.set_ylabel("test %")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{title}\n{SUBTITLE.format(label)}", fontsize=9)
    fig.tight_layout()
    save_png(fig, png)


def figure3(data: dict, label: str, png: Path) -> str:
    panels = [(key, sweep_rows(data[key], key)) for key in ("lambda1", "lambda2")]
    plot_sweeps(
        panels, "Figure 3: lambda1 (lambda2 at its default) and lambda2 (lambda1 at its default), RAF-DB", label, png
    )
    return _csv(
        [
            {"parameter": key, "value": r[key], **{k: v for k, v in r.items() if k != key}}
            for key, rows in panels
            for r in rows
        ]
    )


def figure4(data: dict, label: str, png: Path) -> str:
    rows = sweep_rows(data["V"], "V")
    plot_sweeps([("V", rows)], "Figure 4: feature groups V of the MVA loss on RAF-DB", label, png)
    return _csv(rows)


def figure6(data: dict, label: str, png: Path) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    rows = []
    for ax, dataset in zip(axes, ("rafdb", "fer2013")):
        counts, classes = data[dataset]["train"], data[dataset]["classes"]
        ax.bar(range(len(classes)), counts)
        ax.set_xticks(range(len(classes)), classes, rotation=35, fontsize=8)
        ax.set_title(f"{NAMES[dataset]} training set ({data[dataset]['kind']})", fontsize=9)
        ax.set_ylabel("images")
        rows += [
            {"dataset": dataset, "kind": data[dataset]["kind"], "class": c, "train_images": n}
            for c, n in zip(classes, counts)
        ]
    fig.suptitle(f"Figure 6: training-set class distributions\n{SUBTITLE.format(label)}", fontsize=9)
    fig.tight_layout()
    save_png(fig, png)
    return _csv(rows)


def figure7(data: dict, label: str, png: Path) -> str:
    fig, axes = plt.subplots(2, 2, figsize=(9, 8.4))
    rows = []
    for r, dataset in enumerate(("rafdb", "fer2013")):
        classes = CLASSES[dataset]
        for c, method in enumerate(("baseline", "ecan")):
            counts = np.asarray(data[dataset][method]["test_confusion_matrix"], dtype=np.float64)
            percent = 100 * counts / np.maximum(counts.sum(1, keepdims=True), 1)
            ax = axes[r, c]
            ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
            for i in range(len(classes)):
                for j in range(len(classes)):
                    ax.text(
                        j,
                        i,
                        f"{percent[i, j]:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if percent[i, j] > 60 else "black",
                    )
            ax.set_xticks(range(len(classes)), classes, rotation=45, fontsize=7)
            ax.set_yticks(range(len(classes)), classes, fontsize=7)
            ax.set_title(f"{NAMES[dataset]}: {'Baseline' if method == 'baseline' else 'ECAN'}", fontsize=9)
            ax.set_xlabel("predicted", fontsize=8)
            ax.set_ylabel("true", fontsize=8)
            for i, true in enumerate(classes):
                for j, predicted in enumerate(classes):
                    rows.append(
                        {
                            "dataset": dataset,
                            "method": method,
                            "true": true,
                            "predicted": predicted,
                            "count": int(counts[i, j]),
                            "row_percent": round(float(percent[i, j]), 4),
                        }
                    )
    fig.suptitle(f"Figure 7: test confusion matrices\n{SUBTITLE.format(label)}", fontsize=9)
    fig.tight_layout()
    save_png(fig, png)
    return _csv(rows)


FIGURES = {"figure3": figure3, "figure4": figure4, "figure6": figure6, "figure7": figure7}


def main(argv: list[str] | None = None) -> None:
    config, args = jobs.parse(
        __doc__,
        "ecan",
        argv,
        figure=jobs.one_of(sorted(FIGURES)),
        inputs=jobs.PATH,
        png=jobs.PATH,
        csv=jobs.PATH,
    )
    write_text(
        args.csv,
        FIGURES[args.figure](read_json(args.inputs), data_label(Figures.from_config(config).labelled), args.png),
    )


if __name__ == "__main__":
    main()
