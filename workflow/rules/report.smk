"""The resolved configuration, the Sec. S.1 study, and the paper's tables/figures from every run
(`hfpl tables`), with results/REPRODUCTION.md; `snakemake --report` shows them all."""

from hfpl.workflow.aggregate import ResultsError, load_tables_config


report: "../report/workflow.rst"


localrules:
    resolved_config,
    tables,


try:
    TABLES = load_tables_config(CFG.settings["tables"])
except (ResultsError, ConfigError) as err:
    sys.exit(f"hfpl: configuration error: {err}")
# figures drawn from a study (`study: true`, Fig. 7) rather than from runs: their grid points
STUDY_FIGURES = {
    n: f for n, f in (TABLES.get("figures") or {}).items() if f.get("study")
}
STUDY_POINTS = sorted(
    {
        v
        for f in STUDY_FIGURES.values()
        for p in f["panels"]
        for s in p["series"]
        for v in s["variants"]
    }
)
STUDY_DATASETS = sorted(
    {f["dataset"] for f in STUDY_FIGURES.values()} & set(plan.datasets(CFG))
)
STUDY = (
    f"{RESULTS}/studies/fsl_mu_sigma.json" if STUDY_POINTS and STUDY_DATASETS else None
)


rule resolved_config:
    input:
        # the expected step identities (resolved_config) name the verified datasets' digests
        verified_stamps(),
    output:
        f"{RESULTS}/config.resolved.json",
    log:
        f"{RESULTS}/config.resolved.log",
    params:
        # a change of any resolved setting re-runs this rule (params are a rerun trigger);
        # a function, so that the templates' {placeholders} are not taken for wildcards
        resolved=resolved_config,
    run:
        Path(output[0]).write_text(f"{params.resolved}\n")


if STUDY:

    rule fsl_mu_sigma:
        # Sec. S.1 / Fig. 7: FSL alone over Gaussian CAMs of one VOC train image per class (no
        # network; hfpl.studies.fsl_mu_sigma), on the real or the smoke data
        input:
            plan.verified_stamp(CFG, STUDY_DATASETS[0]),
        output:
            STUDY,
        log:
            f"{RESULTS}/studies/fsl_mu_sigma.log",
        params:
            python=shlex.quote(sys.executable),
            root=plan.data_root(CFG, STUDY_DATASETS[0]),
            smoke="--smoke" if CFG.settings["data"]["smoke"]["generate"] else "",
            points=" ".join(STUDY_POINTS),
        shell:
            "{params.python} -m hfpl.studies.fsl_mu_sigma --root {params.root:q} --out {output:q}"
            " {params.smoke} {params.points} > {log:q} 2>&1"


rule tables:
    input:
        runs=plan.targets(CFG),
        config=rules.resolved_config.output[0],
        study=[STUDY] if STUDY else [],
    output:
        # `snakemake --report results/report.html` shows every table (rendered, beside the
        # paper's numbers, with the deviation flags), every figure and REPRODUCTION
        tables=report(
            directory(f"{RESULTS}/tables"),
            patterns=["{name}.html"],
            caption="../report/tables.rst",
            category="Tables",
        ),
        figures=report(
            directory(f"{RESULTS}/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
        ),
        reproduction=f"{RESULTS}/REPRODUCTION.md",
        reproduction_html=report(
            f"{RESULTS}/REPRODUCTION.html",
            caption="../report/reproduction.rst",
            category="Reproduction",
        ),
    log:
        f"{RESULTS}/tables.log",
    conda:
        ENV
    params:
        hfpl=HFPL,
        runs=lambda wildcards: RUNS,
        experiments=CFG.settings["experiments"],
        tables=CFG.settings["tables"],
        paper=CFG.settings["paper"],
        study=lambda wildcards, input: (
            f"--study {shlex.quote(input.study[0])}" if input.study else ""
        ),
    shell:
        # a grid without data for any figure writes none: the folder must exist all the same
        "mkdir -p {output.figures:q} && {params.hfpl} tables --runs {params.runs:q}"
        " --experiments {params.experiments:q} --tables {params.tables:q} --paper {params.paper:q}"
        " --resolved {input.config:q} {params.study} --out {output.tables:q}"
        " --figures {output.figures:q} --reproduction {output.reproduction:q} > {log:q} 2>&1"
