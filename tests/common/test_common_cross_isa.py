"""benchmarks/cross_isa_noise.py: which levels it emulates, and the tolerance it derives from rebuilt files."""

import sys

from helpers import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import cross_isa_noise  # noqa: E402


def test_levels_below_an_avx2_processor_and_mkl_on_another_vendor():
    native = cross_isa_noise.native_level({"avx2", "fma", "avx", "sse4_1"})
    assert cross_isa_noise.LADDER[native][0] == "avx2"
    amd = cross_isa_noise.emulated_levels(native, "AuthenticAMD")
    assert list(amd) == ["avx", "sse41"]
    assert amd["avx"] == {
        "ONEDNN_MAX_CPU_ISA": "AVX",
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_ENABLE_INSTRUCTIONS": "AVX",
        "MKL_CBWR": "COMPATIBLE",  # MKL ignores MKL_ENABLE_INSTRUCTIONS off Intel, but honours this
    }
    assert "MKL_CBWR" not in cross_isa_noise.emulated_levels(native, "GenuineIntel")["avx"]


def test_tolerance_is_the_largest_difference_over_rows_and_levels(tmp_path):
    table = "Method,Accuracy_paper,Accuracy_ours,Accuracy_std,note\nA,70.0,65.00,1.0,x\nB,71.0,66.00,,y\n"
    committed = tmp_path / "results" / "p"
    committed.mkdir(parents=True)
    (committed / "table1.csv").write_text(table)
    (committed / "figure1.csv").write_text("v,accuracy\n1,0.5\n2,0.25\n")
    rebuilds = {}
    for level, (a, b, fig) in {"avx": ("65.50", "66.00", "0.5"), "sse41": ("64.75", "66.10", "0.125")}.items():
        out = tmp_path / level / "results" / "p"
        out.mkdir(parents=True)
        (out / "table1.csv").write_text(table.replace("65.00", a).replace("66.00", b))
        (out / "figure1.csv").write_text(f"v,accuracy\n1,0.5\n2,{fig}\n")
        rebuilds[level] = tmp_path / level
    found = cross_isa_noise.compare(tmp_path / "results", rebuilds)
    assert found["tolerance"]["results/p/table1.csv"] == {"Accuracy_ours": 0.5, "Accuracy_std": 0.0}
    assert found["tolerance"]["results/p/figure1.csv"] == {"v": 0.0, "accuracy": 0.25}
    assert found["text"]["results/p/table1.csv"] == {"avx": 1, "sse41": 2}


def test_the_probe_sees_the_emulated_level_and_this_checkout():
    """The script's probe runs with a level's variables: PyTorch's kernels, oneDNN and MKL report that level."""
    _, flags, vendor = cross_isa_noise.cpu_info()
    levels = cross_isa_noise.emulated_levels(cross_isa_noise.native_level(flags), vendor)
    assert "avx" in levels, f"this processor ({sorted(flags & {'avx', 'avx2', 'avx512f'})}) has no level above AVX"
    found = cross_isa_noise.probe(REPO, levels["avx"])
    assert "error" not in found and found["affrepro_repo_root"] == str(REPO)
    assert found["aten"] == "DEFAULT" and found["onednn"].endswith(" AVX")  # capped below this processor's own
    if vendor != "GenuineIntel":
        assert found["mkl_cnr"] == "COMPATIBLE"
