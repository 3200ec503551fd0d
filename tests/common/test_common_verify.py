"""`make verify`: a verdict per committed table cell, with the tolerance derived from the row's std."""

import pandas as pd

from affrepro.verify import compare_table, main, tolerances

HEADER = "Modality,Features,rho_paper,rho_ours,rho_std,rho_delta,note\n"
COMMITTED = (
    HEADER
    + "V+A,theirs,0.25,,,,not rerun\nV+A,fused,0.3288,0.5117,0.0476,0.1829,demo\nV,single,0.2,0.4000,,0.2,one seed\n"
)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def verdicts_of(tmp_path, rebuilt_text):
    committed = write(tmp_path / "a/table3.csv", COMMITTED)
    rebuilt = write(tmp_path / "b/table3.csv", rebuilt_text)
    return {(v["row"], v["cell"]): v["verdict"] for v in compare_table(committed, rebuilt, "results/table3.csv")}


def test_identical_within_and_beyond_the_rows_std(tmp_path):
    rebuilt = (
        HEADER
        + "V+A,theirs,0.25,,,,not rerun\nV+A,fused,0.3288,0.5419,0.0323,0.2131,demo\nV,single,0.2,0.4000,,0.2,one seed\n"
    )
    verdicts = verdicts_of(tmp_path, rebuilt)
    assert verdicts[("V+A | fused", "rho_ours")] == "within tolerance"  # |0.5419 - 0.5117| = 0.0302 <= 0.0476
    assert verdicts[("V+A | fused", "rho_std")] == "within tolerance"
    assert verdicts[("V | single", "rho_ours")] == "identical"
    assert ("V+A | theirs", "rho_ours") not in verdicts  # empty on both sides: nothing of ours to verify
    rebuilt = rebuilt.replace("0.5419", "0.5700")  # 0.0583 > 0.0476
    assert verdicts_of(tmp_path, rebuilt)[("V+A | fused", "rho_ours")] == "different"


def test_a_row_without_std_borrows_the_largest_std_of_its_metric():
    table = pd.DataFrame({"rho_std": [None, "0.0476", None, "0.01"]})
    assert tolerances(table, "rho").tolist() == [0.0476, 0.0476, 0.0476, 0.01]
    assert tolerances(pd.DataFrame({"rho_std": [None, None]}), "rho").tolist() == [0.0, 0.0]


def test_exit_code_says_whether_anything_differs(tmp_path):
    write(tmp_path / "committed/emi/table3.csv", COMMITTED)
    write(tmp_path / "build/results/emi/table3.csv", COMMITTED)
    assert main(["--built", str(tmp_path / "build"), "--results", str(tmp_path / "committed")]) == 0
    write(
        tmp_path / "build/results/emi/table3.csv", COMMITTED.replace("0.4000", "0.4100")
    )  # a std-less row, tolerance 0.0476: fine
    assert main(["--built", str(tmp_path / "build"), "--results", str(tmp_path / "committed")]) == 0
    write(tmp_path / "build/results/emi/table3.csv", COMMITTED.replace("0.4000", "0.5000"))
    assert main(["--built", str(tmp_path / "build"), "--results", str(tmp_path / "committed")]) == 1
    (tmp_path / "build/results/emi/table3.csv").unlink()
    assert main(["--built", str(tmp_path / "build"), "--results", str(tmp_path / "committed")]) == 1
