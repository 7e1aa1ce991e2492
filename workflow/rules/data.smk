"""Datasets, list files and weights: `hfpl data ...` for real data, `hfpl smoke-data` and
`hfpl data smoke-weights` for smoke runs (paths: hfpl.workflow.plan).

Local rules: compute nodes are often offline, and downloads need the network. `hfpl data` ends
a failure with one line naming the fix: the rules print it (`tail -n 1`) instead of only "see
the log".
"""

for dataset in plan.datasets(CFG):

    # one job per dataset: `hfpl data DATASET` (download + prepare) or `hfpl smoke-data
    # --dataset DATASET`; the dataset's hfpl-dataset.json is written last
    rule:
        name:
            f"data_{dataset}"
        output:
            plan.dataset_marker(CFG, dataset),
        log:
            f"{RESULTS}/logs/data-{dataset}.log",
        localrule: True
        conda:
            ENV
        params:
            hfpl=HFPL,
            args=lambda wildcards, dataset=dataset: shlex.join(
                plan.dataset_args(CFG, dataset)
            ),
        shell:
            "{params.hfpl} {params.args} > {log:q} 2>&1 || {{ tail -n 1 {log:q} >&2; exit 1; }}"

    # every file of the dataset against its manifest (`hfpl data verify`, a full sha256
    # pass) before anything reads it; the fingerprint (size + mtime of each listed file) is the
    # rerun trigger: a truncated file stops the run here with one line, and a restored or
    # re-prepared dataset is verified again and re-runs everything that read it
    rule:
        name:
            f"verify_data_{dataset}"
        input:
            plan.dataset_marker(CFG, dataset),
        output:
            plan.verified_stamp(CFG, dataset),
        log:
            f"{RESULTS}/logs/verify-data-{dataset}.log",
        localrule: True
        conda:
            ENV
        params:
            hfpl=HFPL,
            root=lambda wildcards, dataset=dataset: plan.data_root(CFG, dataset),
            fingerprint=lambda wildcards, dataset=dataset: plan.dataset_fingerprint(
                CFG, dataset
            ),
        shell:
            "{params.hfpl} data verify --root {params.root:q} > {log:q} 2>&1"
            " || {{ tail -n 1 {log:q} >&2; exit 1; }}; echo {params.fingerprint} > {output:q}"

    # each method's list and class-label files on this dataset (its `lists:` entries, which
    # are the params: an edited entry regenerates the folder)
    rule:
        name:
            f"data_lists_{dataset}"
        input:
            plan.verified_stamp(CFG, dataset),
        output:
            directory(plan.lists_dir(CFG, dataset, "{method}")),
        log:
            f"{RESULTS}/logs/data-lists-{dataset}-{{method}}.log",
        wildcard_constraints:
            method=_alternatives(m for d, m in plan.lists_targets(CFG) if d == dataset),
        localrule: True
        conda:
            ENV
        params:
            hfpl=HFPL,
            root=lambda wildcards, dataset=dataset: plan.data_root(CFG, dataset),
            dataset=dataset,
            spec=lambda wildcards, dataset=dataset: plan.lists_spec(
                CFG, dataset, wildcards.method
            ),
        shell:
            "{params.hfpl} data lists --dataset {params.dataset} --root {params.root:q}"
            " --spec {params.spec:q} --out {output:q}"
            " > {log:q} 2>&1 || {{ tail -n 1 {log:q} >&2; exit 1; }}"


# a weights file a method declares: downloaded and verified (or, for Drive/OneDrive/Baidu-only
# files, one message naming where to get it and where to put it); with smoke data, a
# random-init stand-in of its declared architecture
rule data_weights:
    output:
        f"{plan.weights_dir(CFG)}/{{name}}",
    log:
        f"{RESULTS}/logs/data-weights-{{name}}.log",
    wildcard_constraints:
        name=_alternatives(CFG.weights),
    localrule: True
    conda:
        ENV
    params:
        hfpl=HFPL,
        args=lambda wildcards: shlex.join(plan.weights_args(CFG, wildcards.name)),
    shell:
        "{params.hfpl} {params.args} > {log:q} 2>&1 || {{ tail -n 1 {log:q} >&2; exit 1; }}"
