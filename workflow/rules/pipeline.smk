"""One generic rule for every step of every method x variant x seed (see config/methods/)."""


rule step:
    input:
        step_inputs,
    output:
        layout.manifest(RUN),
    log:
        layout.log(RUN),
    conda:
        ENV
    threads: step_resource("threads")
    resources:
        gpu=step_resource("gpu"),
        mem_mb=step_resource("mem_mb"),
        runtime=step_resource("runtime"),
    params:
        hfpl=HFPL,
        job=step_job,
    shell:
        "{params.hfpl} workflow run-step --job {params.job:q} --log {log:q}"
