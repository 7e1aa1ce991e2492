"""Tiny synthetic VOC-format data and random-init weights for smoke runs (data.smoke.generate)."""

SMOKE = CFG.settings["data"]["smoke"]


localrules:
    smoke_data,


rule smoke_data:
    output:
        plan.smoke_data_marker(CFG),
    log:
        f"{SMOKE['root']}/smoke-data.log",
    conda:
        ENV
    params:
        hfpl=HFPL,
        data=plan.data_root(CFG, "voc"),
        weights=plan.weights_dir(CFG),
        images=SMOKE["images"],
        size=SMOKE["size"],
        seed=SMOKE["seed"],
    shell:
        "{params.hfpl} smoke-data --out {params.data:q} --images {params.images}"
        " --size {params.size} --seed {params.seed} --weights-out {params.weights:q}"
        " > {log:q} 2>&1 && echo '{{\"complete\": true}}' > {output:q}"
