# affrepro: paper tables as Snakemake targets.
#   snakemake --cores 8 results/table3.csv     (the EMI paper's Table 3, on the demo data by default)
#   snakemake --cores 8 results/va/table2.csv  (the VA paper's six-fold cross-validation)
#   snakemake --cores 8 ecan_tables            (the ECAN paper's Tables 1-5 and Figures 3, 4, 6, 7)
# Every knob is in config.yaml, validated at start-up against workflow/schemas/config.schema.yaml.
# Tracing a table cell: papers/<key>.yaml names the file it reads -> the rule whose output that is
# (workflow/rules/<key>.smk) -> the one function its job calls (README, "Tracing a cell").

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# Each paper's rules (affrepro.registry: workflow/rules/<key>.smk), then the rules they share.
for _paper in registry.PAPERS.values():

    include: registry.rules_file(_paper)


include: "workflow/rules/results.smk"


rule all:
    input:
        [target for targets in PAPER_TARGETS.values() for target in targets],
        "results/index.html",  # the verdict page of every paper (results.smk)
        [page for pages in REPORT_PAGES.values() for page in pages],  # the report's pages (results.smk)


# One target per paper (the DVC stages call these): emi_tables, va_tables, ecan_tables (affrepro.papers.targets),
# with the paper's report pages (work/report/<paper>/, for `snakemake --report`).
for _paper, _targets in PAPER_TARGETS.items():

    rule:
        name:
            f"{_paper}_tables"
        input:
            _targets,
            REPORT_PAGES[_paper],
