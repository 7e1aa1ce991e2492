"""hfpl-repro: every configured method x variant x seed, evaluated and aggregated.

Thin on purpose: configuration is validated and turned into paths, inputs and job specs by
`hfpl.workflow` (see workflow/rules/common.smk); each .smk file holds one concern.
Run: `snakemake --profile profiles/default` (see docs/workflow.md).
"""

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/checkout.smk"
include: "workflow/rules/pipeline.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


if PREFLIGHT:

    include: "workflow/rules/preflight.smk"


rule all:
    default_target: True
    input:
        final_targets(),
