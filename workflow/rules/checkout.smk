"""One pinned, patched, read-only checkout per (repo, commit, patch series + sparse excludes)."""


# clones need the network, which cluster compute nodes often lack: run them where Snakemake runs
localrules:
    checkout,


rule checkout:
    output:
        f"{CHECKOUT}.json",
    log:
        f"{CHECKOUT}.log",
    conda:
        ENV
    params:
        hfpl=HFPL,
        job=checkout_job,
    shell:
        "{params.hfpl} workflow checkout --job {params.job:q} --log {log:q}"
