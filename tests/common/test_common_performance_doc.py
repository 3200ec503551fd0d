"""docs/performance.md is the render of benchmarks/records/ (benchmarks/performance_doc.py): no figure typed by hand."""

import json
import re
import sys

from helpers import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import performance_doc  # noqa: E402

STAMP = {
    "command": "python benchmarks/faces.py --quick --record",
    "commit": "0123abc4567890def0123abc4567890def012345-dirty",
    "date": "2031-02-03T04:05:06+00:00",
    "cpu": "Example CPU 9Z99",
    "cpu_features": ["avx2", "avx512_bf16", "fma"],
    "cores": 6,
    "load_before": [0.25, 0.5, 0.75],
    "load_after": [1.5, 1.25, 1.125],
}


def small_records(tmp_path) -> dict:
    record = {
        STAMP["command"]: {
            "figures": {
                "speed": {
                    "columns": ["video", "frames", "fast f/s"],
                    "rows": [["clip_a", 321, 45.6], ["OVERALL", 654, 78.9]],
                }
            },
            "settings": {"torch threads": 1},
            "stamp": STAMP,
        }
    }
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "faces.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return performance_doc.load_records(folder)


def test_the_committed_doc_is_the_render_of_the_committed_records():
    records = performance_doc.load_records()
    assert (REPO / "docs" / "performance.md").read_text() == performance_doc.render(records), (
        "docs/performance.md differs from the records' render: run python benchmarks/performance_doc.py"
    )
    for path in sorted((REPO / "benchmarks" / "records").glob("*.json")):  # as stamp.write_record writes them
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n", path
        for command, record in json.loads(text).items():
            assert record["stamp"]["command"] == command
            assert (REPO / command.split()[1]).is_file(), command  # the command names a script that exists


def test_a_record_puts_its_figures_and_stamp_in_the_doc(tmp_path):
    doc = performance_doc.render(small_records(tmp_path))
    section = doc.split("## Face detection")[1].split("\n## ")[0]
    assert "### `python benchmarks/faces.py --quick --record`" in section
    stamp_row = (
        "| 0123abc-dirty | 2031-02-03T04:05:06 | Example CPU 9Z99 | 6 | yes | 0.25 / 0.5 / 0.75 | 1.5 / 1.25 / 1.125 |"
    )
    assert stamp_row in section
    assert "| video | frames | fast f/s |" in section
    assert "| clip_a | 321 | 45.6 |" in section and "| OVERALL | 654 | 78.9 |" in section
    assert "- torch threads: 1" in section
    assert "No record yet" not in section
    # a benchmark with no record says how to make one
    assert "No record yet: run `python benchmarks/demo_budget.py --record`." in doc


def test_every_number_in_the_tables_comes_from_a_record(tmp_path):
    records = small_records(tmp_path)
    doc = performance_doc.render(records)
    assert performance_doc.table_numbers(doc)  # the check has numbers to look at
    assert performance_doc.stray_numbers(doc, records) == []
    committed = performance_doc.load_records()
    assert performance_doc.stray_numbers((REPO / "docs" / "performance.md").read_text(), committed) == []
    # a number typed into a table by hand is found
    typed = doc.replace("| clip_a | 321 | 45.6 |", "| clip_a | 321 | 45.6 |\n| by hand | 333 | 12.5 |")
    assert performance_doc.stray_numbers(typed, records) == ["333", "12.5"]
    typed = re.sub(r"\| 78\.9 \|", "| 79.9 |", doc)
    assert performance_doc.stray_numbers(typed, records) == ["79.9"]
