"""One generic rule for every step of every method x variant x seed (see config/methods/)."""


rule step:
    input:
        step_inputs,
    output:
        f"{RUN}/manifest.json",
    log:
        f"{RUN}/log.txt",
    conda:
        ENV
    threads: step_resource("threads")
    resources:
        gpu=step_resource("gpu"),
        mem_mb=step_resource("mem_mb"),
        runtime=step_resource("runtime"),
    params:
        hfpl=HFPL,
        spec=step_spec,
    shell:
        "{params.hfpl} workflow run-step --spec {params.spec:q} --log {log:q}"
