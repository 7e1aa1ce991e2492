"""Configuration, validation and the input/params functions of every rule.

All logic lives in hfpl.workflow.{config,plan} (unit-tested); this file adapts it to wildcards.
"""

import json
import os
import re
import shlex
import sys
from pathlib import Path

from hfpl.workflow import layout, plan
from hfpl.workflow.config import ConfigError, Run, load_workflow_config
from hfpl.workflow.gpu_cli import preflight_cli_args
from hfpl.workflow.jobs import CHECKOUT_URLS_ENV
from hfpl.workflow.lifeline import WORKFLOW_PID_ENV
from hfpl.workflow.schema import deep_merge, typed_scalars

# name the config files in messages (snakemake merges them, later ones win)
CONFIG_SOURCE = " + ".join(map(str, workflow.configfiles)) or "config"
# snakemake hands --config values over as strings (seeds='[0]' -> ['0']): type them as YAML
COMMAND_LINE = typed_scalars(dict(workflow.config_settings.config))
if COMMAND_LINE:
    CONFIG_SOURCE += " + --config"
SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"
try:
    CFG = load_workflow_config(
        deep_merge(config, COMMAND_LINE), SCHEMAS, source=CONFIG_SOURCE
    )
except ConfigError as err:
    sys.exit(f"hfpl: configuration error: {err}")
# the first job of a GPU run (workflow/rules/preflight.smk, config `preflight`); a CPU run says
# `--resources gpu=0` (profiles/smoke)
PREFLIGHT = plan.runs_preflight(CFG, workflow.global_resources.get("gpu").value != 0)

# handed to the jobs through the environment, not params (params are rerun triggers): where
# checkouts are cloned from (a new URL template or a mirror re-runs nothing), and this
# Snakemake's pid (a step dies with the Snakemake that started it: hfpl.workflow.lifeline)
os.environ[CHECKOUT_URLS_ENV] = json.dumps(plan.checkout_urls(CFG))
os.environ[WORKFLOW_PID_ENV] = str(os.getpid())

# how rules call `hfpl`: with the Python that runs Snakemake, whatever PATH says (the CLI imports
# only the chosen subcommand's room, so each of the many jobs starts fast)
HFPL = f"{shlex.quote(sys.executable)} -m hfpl.cli"
RESULTS = CFG.settings["results_dir"]
RUNS = plan.runs_dir(CFG)
# the wildcard patterns of the layout (hfpl.workflow.layout, the one definition)
RUN = layout.run_dir(RUNS, "{dataset}", "{method}", "{variant}", "{seed}", "{step}")
CHECKOUT = layout.checkout_dir(CFG.settings["checkouts_dir"], "{owner}/{name}/{key}")
# the workflow's own rules (not the steps: those use the executor's environment)
ENV = "../envs/hfpl.yaml"


def _alternatives(names):
    return "|".join(sorted(map(re.escape, names))) or "(?!)"


wildcard_constraints:
    dataset=_alternatives({r.dataset for r in CFG.runs}),
    method=_alternatives(CFG.methods),
    variant=_alternatives(CFG.variants),
    seed=r"\d+",
    step=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    evaluation=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    key=r"[0-9a-f]{40}-[0-9a-f]{16}",


def _run(wildcards):
    return Run(
        wildcards.dataset, wildcards.method, wildcards.variant, int(wildcards.seed)
    )


def step_inputs(wildcards):
    """plan.step_inputs; a GPU step also waits for the preflight marker (as `ancient`: a new
    preflight re-runs no step)."""
    inputs = plan.step_inputs(CFG, _run(wildcards), wildcards.step)
    if PREFLIGHT and step_resource("gpu")(wildcards):
        inputs.append(ancient(plan.preflight_marker(CFG)))
    return inputs


def step_job(wildcards):
    return plan.step_job(CFG, _run(wildcards), wildcards.step).to_json()


def step_resource(name):
    return lambda wildcards: plan.step_resources(
        CFG, wildcards.method, wildcards.step, wildcards.dataset
    )[name]


def preflight_args():
    """`hfpl preflight` options that load this run's configuration (config files, --config)."""
    args = preflight_cli_args(workflow.configfiles, COMMAND_LINE)
    return shlex.join([*args, "--schemas", str(SCHEMAS)])


def checkout_job(wildcards):
    checkout_id = f"{wildcards.owner}/{wildcards.name}/{wildcards.key}"
    return plan.checkout_job(CFG, checkout_id).to_json()


def evaluation_args(wildcards):
    argv = plan.evaluation_argv(
        CFG, _run(wildcards), wildcards.step, wildcards.evaluation
    )
    return shlex.join(argv)


def resolved_config(wildcards):
    """The resolved configuration (JSON) with the expected step identities; evaluated when
    the rule is planned and again right before it runs, after the datasets it waits for
    (verified_stamps()) exist."""
    return json.dumps(plan.resolved(CFG), sort_keys=True, default=str)


def verified_stamps():
    return [plan.verified_stamp(CFG, d) for d in plan.datasets(CFG)]


def final_targets():
    targets = plan.targets(CFG)
    if CFG.settings["report"]["tables"]:
        targets.append(f"{RESULTS}/tables")
    return targets
