"""Datasets and weights: `hfpl data ...` for real data, `hfpl smoke-data` for smoke runs.

Local rules: compute nodes are often offline, and downloads need the network.
"""

SMOKE = CFG.settings["data"]["smoke"]
# `hfpl data` ends a failure with one line naming the fix: the rules print it (`tail -n 1`)
# instead of only "see the log"


localrules:
    smoke_data,
    data_weights,


rule smoke_data:
    output:
        plan.smoke_data_marker(CFG),
    log:
        f"{SMOKE['root']}/smoke-data.log",
    conda:
        ENV
    params:
        hfpl=HFPL,
        # --dataset voc [--dataset coco]: every dataset a configured run uses, in one call
        args=shlex.join(plan.smoke_data_args(CFG)),
    shell:
        "{params.hfpl} smoke-data {params.args} > {log:q} 2>&1"
        " && echo '{{\"complete\": true}}' > {output:q}"


# real data only: with generated smoke data the steps wait for smoke_data instead
ROOTS = {} if SMOKE["generate"] else CFG.settings["data"]["roots"]

if "voc" in ROOTS:

    localrules:
        data_voc,
        data_lists,

    # VOC2012 trainval + SBD -> SegmentationClassAug; train_aug.txt is written last
    rule data_voc:
        output:
            plan.data_inputs(CFG, "voc")[0],
        log:
            f"{RESULTS}/logs/data-voc.log",
        conda:
            ENV
        params:
            hfpl=HFPL,
            root=lambda wildcards: plan.data_root(CFG, "voc"),
        shell:
            "{params.hfpl} data voc --root {params.root:q} > {log:q} 2>&1"
            " || {{ tail -n 1 {log:q} >&2; exit 1; }}"

    # per-method list and class-label files, generated from the annotations
    rule data_lists:
        input:
            plan.data_inputs(CFG, "voc")[0],
        output:
            directory(plan.data_inputs(CFG, "voc")[1]),
        log:
            f"{RESULTS}/logs/data-lists.log",
        conda:
            ENV
        params:
            hfpl=HFPL,
            voc=lambda wildcards: f"{plan.data_root(CFG, 'voc')}/VOCdevkit/VOC2012",
        shell:
            "{params.hfpl} data lists --voc-root {params.voc:q} --out {output:q} > {log:q} 2>&1"
            " || {{ tail -n 1 {log:q} >&2; exit 1; }}"


if "coco" in ROOTS:

    localrules:
        data_coco,

    # COCO 2014 images + pixel labels from the instance annotations
    rule data_coco:
        output:
            plan.data_inputs(CFG, "coco")[0],
        log:
            f"{RESULTS}/logs/data-coco.log",
        conda:
            ENV
        params:
            hfpl=HFPL,
            root=lambda wildcards: plan.data_root(CFG, "coco"),
        shell:
            "{params.hfpl} data coco --root {params.root:q} > {log:q} 2>&1"
            " || {{ tail -n 1 {log:q} >&2; exit 1; }}"


# a pretrained weights file: downloaded and verified, or (Drive/OneDrive/Baidu-only files) one
# message naming where to get it and where to put it
rule data_weights:
    output:
        f"{plan.weights_dir(CFG)}/{{name}}",
    log:
        f"{RESULTS}/logs/data-weights-{{name}}.log",
    wildcard_constraints:
        name=r"[^/]+",
    conda:
        ENV
    params:
        hfpl=HFPL,
        weights=lambda wildcards: plan.weights_dir(CFG),
    shell:
        "{params.hfpl} data weights --dir {params.weights:q} {wildcards.name:q} > {log:q} 2>&1"
        " || {{ tail -n 1 {log:q} >&2; exit 1; }}"
