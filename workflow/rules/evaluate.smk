"""`hfpl eval` on each evaluation a step declares -> {step}/metrics/{evaluation}.json
(hfpl.workflow.layout.metrics)."""


rule evaluate:
    input:
        layout.manifest(RUN),
    output:
        layout.metrics(RUN, "{evaluation}"),
    log:
        f"{RUN}/metrics/{{evaluation}}.log",
    conda:
        ENV
    params:
        hfpl=HFPL,
        args=evaluation_args,
    shell:
        "{params.hfpl} eval {params.args} > {log:q} 2>&1"
