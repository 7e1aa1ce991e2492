"""The first job of a GPU run: `hfpl preflight` on a GPU node (docs/executors.md, Preflight).

It checks the driver against the images' torch CUDA build, each GPU's compute capability against
the build's arch list, GPU count and free memory against the configured GPU steps, and that the
images exist and were built from the current recipe; a problem stops the run before any GPU step
is submitted, with one line naming the fix. Every GPU step waits for its marker (as `ancient`:
a later re-check, e.g. `--forcerun preflight` on another node, re-runs no step). Not a local
rule: on SLURM it runs on a GPU node like the steps, with as many GPUs as the largest GPU step.
Included by the Snakefile when common.smk's PREFLIGHT says so (config `preflight`).
"""


rule preflight:
    output:
        plan.preflight_marker(CFG),
    log:
        f"{RESULTS}/logs/preflight.log",
    conda:
        ENV
    resources:
        gpu=plan.preflight_gpus(CFG),
        runtime=10,
    params:
        hfpl=HFPL,
        args=preflight_args(),
    shell:
        "{params.hfpl} preflight {params.args} --out {output:q} > {log:q} 2>&1"
        " || {{ grep '^hfpl preflight' {log:q} >&2; exit 1; }}"
