"""What a paper's claims job reads, planned from papers/<key>.yaml while the workflow plans (no scipy, no run
files): the tables its claims read, and the run files holding the per-seed numbers its text claims compare.
The verdicts themselves are affrepro.claims.
"""

from __future__ import annotations

from pathlib import Path

from affrepro import registry
from affrepro.tables import row_label


class ClaimSpecError(ValueError):
    """papers/<key>.yaml names a claim, a cell or an input that does not exist."""


def find_row(paper: dict, table: str, ref: str) -> int:
    """Index of the row of `table` whose label (key columns joined by ' | ') or one key column equals `ref`."""
    if table not in paper["tables"]:
        raise ClaimSpecError(
            f"no table {table!r} in papers/{paper['paper']['key']}.yaml (tables: {', '.join(paper['tables'])})"
        )
    spec = paper["tables"][table]
    found = [
        i
        for i, row in enumerate(spec["rows"])
        if ref == row_label(row, spec["keys"]) or any(str(row[k]) == ref for k in spec["keys"])
    ]
    if len(found) != 1:
        labels = "; ".join(row_label(r, spec["keys"]) for r in spec["rows"])
        raise ClaimSpecError(f"{table}: row {ref!r} names {len(found)} rows, not one (rows: {labels})")
    return found[0]


def text_refs(spec: dict) -> list[dict]:
    """The cells one text claim of papers/<key>.yaml compares."""
    if spec["kind"] == "ordering":
        return [ref for comp in spec["comparisons"] for ref in (comp["greater"], *comp["than"])]
    return [spec["of"], spec["over"]]


def text_cells(paper: dict) -> list[dict]:
    return [ref for spec in paper.get("claims", {}).get("text", []) for ref in text_refs(spec)]


def tables_of_claim(claims_spec: dict, claim_id: str, kind: str) -> set[str]:
    """The tables one claim reads: a value claim's from its id (<table>/<row>/<metric>), a derived or text
    claim's from its entry in papers/<key>.yaml `claims` (set() for an id it does not name)."""
    if kind == "value":
        return {claim_id.split("/", 1)[0]}
    for entry in claims_spec.get("derived", []):
        if entry["id"] == claim_id:
            return {entry["of"]["table"], entry["ours"]["table"]}
    for entry in claims_spec.get("text", []):
        if entry["id"] == claim_id:
            return {ref["table"] for ref in text_refs(entry) if ref}
    return set()


def claim_tables(paper: dict) -> list[str]:
    """The tables a paper's claims read, in the order of papers/<key>.yaml."""
    spec = paper.get("claims", {})
    used = set(spec.get("tolerances", {})) | {ref["table"] for ref in text_cells(paper)}
    used |= {derived["ours"]["table"] for derived in spec.get("derived", [])}
    return [t for t in paper["tables"] if t in used]


def table_files(paper: dict, targets: list[str]) -> list[str]:
    """The files of the paper's targets that belong to a table the claims read (its .csv, .json, .provenance.json)."""
    key, tables = paper["paper"]["key"], claim_tables(paper)
    names = {f"results/{key}/{table}.{ext}" for table in tables for ext in ("csv", "json", "provenance.json")}
    found = [t for t in targets if t in names]
    missing = [t for t in tables if f"results/{key}/{t}.csv" not in found]
    if missing:
        raise ClaimSpecError(
            f"the claims of {key} read table(s) {', '.join(missing)}, which are not among the paper's targets"
        )
    return found


def run_files(paper: dict, config: dict) -> list[str]:
    """The run files holding the per-seed numbers of the cells the text claims compare (the claims rule's inputs)."""
    style = paper.get("claims", {}).get("per_seed", {"style": "single"})
    files: list[str] = []
    for ref in text_cells(paper):
        row = paper["tables"][ref["table"]]["rows"][find_row(paper, ref["table"], ref["row"])]
        source = (row.get("ours") or {}).get(ref["metric"])
        if source is None:
            continue
        files.append(source["file"])
        if style["style"] == "runs":
            group_runs = registry.paper(paper["paper"]["key"]).group_runs
            files += [style["file"].format(run=r) for r in group_runs(config, Path(source["file"]).stem)]
    return list(dict.fromkeys(files))
