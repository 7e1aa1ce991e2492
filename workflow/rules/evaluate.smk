"""`hfpl eval` on each evaluation a step declares -> {step}/metrics/{evaluation}.json."""


rule evaluate:
    input:
        f"{RUN}/manifest.json",
    output:
        f"{RUN}/metrics/{{evaluation}}.json",
    log:
        f"{RUN}/metrics/{{evaluation}}.log",
    conda:
        ENV
    params:
        hfpl=HFPL,
        args=evaluation_args,
    shell:
        "{params.hfpl} eval {params.args} > {log:q} 2>&1"
