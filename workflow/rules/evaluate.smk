"""`hfpl eval` on each evaluation a step declares -> {step}/metrics/{evaluation}.json."""


rule evaluate:
    input:
        RUN + "/manifest.json",
    output:
        RUN + "/metrics/{evaluation}.json",
    log:
        RUN + "/metrics/{evaluation}.log",
    params:
        hfpl=HFPL,
        args=evaluation_args,
    shell:
        "{params.hfpl} eval {params.args} > {log:q} 2>&1"
