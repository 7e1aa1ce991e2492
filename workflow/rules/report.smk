"""The resolved configuration and the paper's tables/figures from every run (`hfpl tables`)."""


localrules:
    resolved_config,
    tables,


rule resolved_config:
    output:
        f"{RESULTS}/config.resolved.json",
    log:
        f"{RESULTS}/config.resolved.log",
    params:
        # a change of any resolved setting re-runs this rule (params are a rerun trigger);
        # a function, so that the templates' {placeholders} are not taken for wildcards
        resolved=lambda wildcards: RESOLVED_CONFIG,
    run:
        Path(output[0]).write_text(f"{params.resolved}\n")


rule tables:
    input:
        runs=plan.targets(CFG),
        config=rules.resolved_config.output[0],
    output:
        # `snakemake --report results/report.html` shows every table and figure
        tables=report(
            directory(f"{RESULTS}/tables"),
            patterns=["{name}.csv"],
            caption="../report/tables.rst",
            category="Tables",
        ),
        figures=report(
            directory(f"{RESULTS}/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
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
    shell:
        # a grid without data for any figure writes none: the folder must exist all the same
        "mkdir -p {output.figures:q} && {params.hfpl} tables --runs {params.runs:q} --experiments {params.experiments:q}"
        " --tables {params.tables:q} --paper {params.paper:q}"
        " --out {output.tables:q} --figures {output.figures:q}"
        " > {log:q} 2>&1"
