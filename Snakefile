# affrepro: paper tables as Snakemake targets.
#   snakemake --cores 8 results/table3.csv     (the EMI paper's Table 3, on the demo data by default)
#   snakemake --cores 8 results/va/table2.csv  (the VA paper's six-fold cross-validation)
#   snakemake --cores 8 ecan_tables            (the ECAN paper's Tables 1-5 and Figures 3, 4, 6, 7)
# Every knob is in config.yaml, validated at start-up against workflow/schemas/config.schema.yaml.

configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/emi.smk"
include: "workflow/rules/va.smk"
include: "workflow/rules/ecan.smk"


EMI_TARGETS = (
    expand("results/{table}.{ext}", table=EMI_TABLES, ext=["csv", "json"])
    + expand("results/emi/{table}.{ext}", table=EMI_TABLES, ext=["csv", "json"])
    + ["results/emi/submission_test.csv"]
)
VA_TARGETS = expand("results/va/{table}.{ext}", table=VA_TABLES, ext=["csv", "json"])
ECAN_TARGETS = expand("results/ecan/{table}.{ext}", table=ECAN_TABLES, ext=["csv", "json"]) + expand(
    "results/ecan/{figure}.{ext}", figure=ECAN_FIGURES, ext=["png", "csv"]
)


rule all:
    input:
        EMI_TARGETS,
        VA_TARGETS,
        ECAN_TARGETS,


# One target per paper (the DVC stages call these).
rule emi_tables:
    input:
        EMI_TARGETS,


rule va_tables:
    input:
        VA_TARGETS,


rule ecan_tables:
    input:
        ECAN_TARGETS,
