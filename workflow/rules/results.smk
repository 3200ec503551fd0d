# The rules every paper shares, after the papers' .smk files have filled the registries of common.smk:
# the resolved config, a paper's tables, its training curves and its claims verdict, and the verdict page of
# every paper (results/index.html). Each output a reader looks at is marked for `snakemake --report` with a
# caption from workflow/report/: the report shows an HTML output in its main pane but a CSV only as a download,
# so each table and each paper's claims are also written as an HTML page under work/report/ (not committed).
# Every output under results/ (here and in the papers' .smk files) is flagged update(): Snakemake does
# not delete the committed file before the job runs, it keeps a backup and puts it back if the job
# fails, and the jobs write through a temporary file (affrepro.files), so a failed or stopped rerun leaves
# results/ as committed.


localrules:
    paper_config,


# Every paper's declaration (affrepro/<key>/paper.py), which the registry loads by name: the shared jobs
# below read them, so their code versions hash them with their imports (common.smk, job).
DECLARATIONS = [f"{paper}.paper" for paper in papers.PAPERS]


# A paper's record (common.smk), written when the workflow is read; this rule stands for it in the report
# and where it could not be written then.
rule paper_config:
    output:
        report("work/config/paper-{paper}-{hash}.yaml", caption="../report/config.rst", category="configuration"),
    wildcard_constraints:
        hash="[0-9a-f]{16}",
    log:
        "logs/{paper}/config-{hash}.log",
    run:
        write_paper_record(wildcards.paper, output[0], log[0])


rule paper_table:
    input:
        # The paper's record (common.smk): new in a fresh clone, so the committed tables are recomputed.
        config=lambda w: PAPER_RECORDS[w.paper][0],
        paper=lambda w: str(papers.paper_file(w.paper)),
        runs=lambda w: input_files(load_paper(w.paper), w.table),
        provenance=lambda w: list(PROVENANCE[w.paper].values()),
    output:
        csv=update("results/{paper}/{table}.csv"),  # in the report as its page (rule report_table)
        json=update("results/{paper}/{table}.json"),
        sidecar=update("results/{paper}/{table}.provenance.json"),
        # Where and when (git revision, host, CPU, time): untracked, so a rebuild leaves the clone clean.
        runinfo="work/runinfo/{paper}/{table}.json",
    params:
        config=lambda w: PAPER_RECORDS[w.paper][0],  # the provenance reads the paper's keys: its record
        provenance=lambda w: [f"{name}={path}" for name, path in PROVENANCE[w.paper].items()],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/{paper}/{table}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("paper_table"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "tables",
            "--paper {wildcards.paper:q} --table {wildcards.table:q} --csv {output.csv:q} --json {output.json:q} --sidecar {output.sidecar:q} --runinfo {output.runinfo:q} --provenance {params.provenance:q}",
            reads=DECLARATIONS + [f"{paper}.provenance" for paper in papers.PAPERS],
        )


# Every training job's per-epoch history (loss, selection score, lr) in one small CSV per paper
# (affrepro.curves; DVC plots it) and one plot for the report.
rule paper_curves:
    input:
        lambda w: TRAINING_RUNS[w.paper],
    output:
        csv=update("results/{paper}/curves/training.csv"),
        png=update(
            report(
                "results/{paper}/curves/training.png",
                caption="../report/curves.rst",
                category="{paper}",
                subcategory="training curves",
                labels={"paper": "{paper}", "figure": "training curves"},
            )
        ),
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/{paper}/curves.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("paper_curves"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "curves",
            "--paper {wildcards.paper:q} --metrics {input:q} --out {output.csv:q} --png {output.png:q}",
            reads=DECLARATIONS,  # how its training histories read
            config=False,
        )


# A verdict per claim of the paper (affrepro.claims, README "Claims"): every number of its tables and the
# orderings and gains its text asserts (papers/<paper>.yaml `claims`); per-seed numbers from the run files.
rule paper_claims:
    input:
        paper=lambda w: str(papers.paper_file(w.paper)),
        tables=lambda w: claim_inputs.table_files(load_paper(w.paper), PAPER_TARGETS[w.paper]),
        runs=lambda w: claim_inputs.run_files(load_paper(w.paper), PAPER_CONFIGS[w.paper]),
    output:
        update("results/{paper}/claims.csv"),  # in the report as its page (rule paper_verdicts)
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/{paper}/claims.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("paper_claims"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "claims",
            "--paper {wildcards.paper:q} --tables {input.tables:q} --runs {input.runs:q} --out {output:q}",
            reads=DECLARATIONS,  # its run groups and scores
            config=False,
        )


# The report's pages: each paper's tables and claims as HTML (the report shows a CSV only as a download), and
# the counts of its verdicts for the report's landing page (workflow/report/workflow.rst).
REPORT_PAGES = {
    paper: [f"work/report/{paper}/{table}.html" for table in load_paper(paper)["tables"]]
    + [f"work/report/{paper}/claims.html"]
    for paper in papers.PAPERS
}


rule report_table:
    input:
        csv="results/{paper}/{table}.csv",
        paper=lambda w: str(papers.paper_file(w.paper)),
    output:
        report(
            "work/report/{paper}/{table}.html",
            caption="../report/table.rst",
            category="{paper}",
            subcategory="tables",
            labels={"paper": "{paper}", "table": "{table}"},
        ),
    params:
        caption=lambda w: load_paper(w.paper)["tables"][w.table]["caption"],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/{paper}/report-{table}.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("report_table"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "table_page",
            "--paper {input.paper:q} --table {wildcards.table:q} --csv {input.csv:q} --out {output:q}",
            config=False,
        )


# One paper's verdicts (affrepro.verdict_page) as a report page, and their counts for the landing page.
rule paper_verdicts:
    input:
        claims="results/{paper}/claims.csv",
        paper=lambda w: str(papers.paper_file(w.paper)),
    output:
        page=report(
            "work/report/{paper}/claims.html",
            caption="../report/claims.rst",
            category="{paper}",
            subcategory="claims",
            labels={"paper": "{paper}", "table": "claims"},
        ),
        summary="work/report/{paper}/summary.html",
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/{paper}/report-claims.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("paper_verdicts"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "verdict_page",
            "--claims {wildcards.paper:q}={input.claims:q} --papers {wildcards.paper:q}={input.paper:q} "
            "--out {output.page:q} --summary {output.summary:q}",
            config=False,
        )


# The verdict page: every claim of every registered paper (README "What you get"); committed, a DVC output.
rule verdicts:
    input:
        claims=[f"results/{paper}/claims.csv" for paper in papers.PAPERS],
        papers=[str(papers.paper_file(paper)) for paper in papers.PAPERS],
    output:
        page=update(
            report(
                "results/index.html",
                caption="../report/verdicts.rst",
                category="verdicts",
                labels={"page": "every paper's claims"},
            )
        ),
        summary="work/report/summary.html",
    params:
        claims=[f"{paper}=results/{paper}/claims.csv" for paper in papers.PAPERS],
        papers=[f"{paper}={papers.paper_file(paper)}" for paper in papers.PAPERS],
    conda:
        "../../envs/affrepro.yaml"
    log:
        "logs/verdicts.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=job_resources.small_job_mem_mb("verdicts"),
        runtime=job_resources.MIN_RUNTIME,
    shell:
        job(
            "verdict_page",
            "--claims {params.claims:q} --papers {params.papers:q} --out {output.page:q} --summary {output.summary:q}",
            config=False,
        )
