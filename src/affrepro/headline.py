"""The README's headline table: EMI Table 3 (results/table3.csv) beside each row's verdict (results/emi/claims.csv).

    python -m affrepro.headline --write README.md    # rewrite the block between the headline markers
    python -m affrepro.headline                      # print it

Nothing in the block is typed: it is rendered from the committed CSVs, and a test fails when
the README's block differs from what they give (rerun the first command after a re-render).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from affrepro.files import write_text

START, END = "<!-- headline: python -m affrepro.headline --write README.md -->", "<!-- headline end -->"


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def render(results: Path = Path("results")) -> str:
    """The markdown table: features, the paper's rho, ours (mean ± std over seeds), our 95 % interval, the verdict."""
    verdicts = {row["claim_id"]: row for row in read_csv(results / "emi" / "claims.csv")}
    lines = [
        "| features | paper ρ | ours ρ | 95 % interval | verdict |",
        "|---|---|---|---|---|",
    ]
    for row in read_csv(results / "table3.csv"):
        claim = verdicts.get(f"table3/{row['Modality']} | {row['Features']}/rho", {})
        ours = f"{row['rho_ours']} ± {row['rho_std']}" if row["rho_std"] else row["rho_ours"] or "—"
        cells = [row["Features"], row["rho_paper"], ours, claim.get("interval") or "—", claim.get("verdict", "—")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def block(text: str) -> str:
    """The README's current headline block (between the markers)."""
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip("\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="the README whose headline block to rewrite")
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    table = render(args.results)
    if args.write is None:
        print(table)
        return
    text = args.write.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    write_text(args.write, f"{text[:start]}\n{table}\n{text[end:]}")


if __name__ == "__main__":
    main()
