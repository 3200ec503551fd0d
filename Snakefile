# affrepro: paper tables as Snakemake targets.
#   snakemake --cores 8 results/table3.csv     (the EMI paper's Table 3, on the demo data by default)
# Every knob is in config.yaml, validated at start-up against workflow/schemas/config.schema.yaml.

configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/emi.smk"


rule all:
    input:
        expand("results/{table}.{ext}", table=EMI_TABLES, ext=["csv", "json"]),
        expand("results/emi/{table}.{ext}", table=EMI_TABLES, ext=["csv", "json"]),
        "results/emi/submission_test.csv",
