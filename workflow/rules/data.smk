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

    # each method's list and class-label files on this dataset (its `lists:` entries, which
    # are the params: an edited entry regenerates the folder)
    rule:
        name:
            f"data_lists_{dataset}"
        input:
            plan.dataset_marker(CFG, dataset),
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
