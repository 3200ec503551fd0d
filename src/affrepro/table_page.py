"""A paper table as an HTML page for the Snakemake report's main pane (work/report/<key>/<table>.html).

The report shows an HTML output in its main pane and a CSV only as a download in its sidebar, so each
results/<key>/<table>.csv is also written as a self-contained page: the table's caption from
papers/<key>.yaml, then every column of the CSV, the paper's and our columns side by side. Nothing of the
machine or the time: the same CSV gives the same bytes.

    python -m affrepro.table_page --paper papers/KEY.yaml --table table3 --csv results/KEY/table3.csv \\
        --out work/report/KEY/table3.html
"""

from __future__ import annotations

import csv
import io

from affrepro import jobs
from affrepro.config.reading import read_yaml
from affrepro.files import write_text
from affrepro.verdict_page import esc, number

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1em;color:#111}
table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top}
th{background:#eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
th.paper,td.paper{background:#f4f4f4}th.ours,td.ours{background:#e8f0fb}
"""


def column_class(name: str) -> str:
    for suffix, kind in (("_paper", "paper"), ("_ours", "ours"), ("_std", "ours"), ("_delta", "delta")):
        if name.endswith(suffix):
            return kind
    return "key"


def render(paper: dict, table: str, text: str) -> str:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    rows = list(reader)
    key = paper["paper"]["key"]
    caption = paper.get("tables", {}).get(table, {}).get("caption", "")
    title = f"{key} {table}"
    out = [f"<h1>{esc(title)}</h1>", f'<p class="caption">{esc(caption)}</p>', '<table class="paper-table">']
    out.append("<tr>" + "".join(f'<th class="{column_class(h)}">{esc(h)}</th>' for h in header) + "</tr>")
    for row in rows:
        cells = []
        for name, value in zip(header, row, strict=False):
            numeric = " n" if number(value) is not None else ""
            cells.append(f'<td class="{column_class(name)}{numeric}">{esc(value)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    out.append(
        f"<p>{len(rows)} rows. <code>_paper</code>: the paper's number (papers/{esc(key)}.yaml); <code>_ours</code>:"
        " ours, mean over seeds or folds; <code>_std</code>: their spread; <code>_delta</code>: ours - paper.</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(out)
        + "\n</body>\n</html>\n"
    )


def main(argv: list[str] | None = None) -> None:
    _, args = jobs.parse(__doc__, None, argv, paper=jobs.PATH, table=jobs.TEXT, csv=jobs.PATH, out=jobs.PATH)
    write_text(args.out, render(read_yaml(args.paper), args.table, args.csv.read_text(encoding="utf-8")))


if __name__ == "__main__":
    main()
