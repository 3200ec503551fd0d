"""The README's headline table: the headline paper's (affrepro.registry; EMI Table 3 beside each row's verdict).

    python -m affrepro.headline --write README.md    # rewrite the block between the headline markers
    python -m affrepro.headline                      # print it

Nothing in the block is typed: it is rendered from the committed CSVs, and a test fails when
the README's block differs from what they give (rerun the first command after a re-render).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affrepro import registry
from affrepro.files import write_text

START, END = "<!-- headline: python -m affrepro.headline --write README.md -->", "<!-- headline end -->"


def render(results: Path = Path("results")) -> str:
    """The headline paper's README table (affrepro.registry), rendered from the committed CSVs under `results`."""
    return registry.paper(registry.HEADLINE).readme_table(results)


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
