"""``hfpl preflight`` and ``hfpl plan``: before a GPU run, can it run here and what will it cost.

- ``hfpl preflight [--configfile FILE ...] [--config KEY=VALUE ...] [--nvidia-smi FILE]
  [--probe FILE]``: :func:`hfpl.workflow.preflight.check` for the configured GPU steps and
  the environments they run in; exit 1 with one line per problem (each naming its fix), else
  ``preflight ok: ...``. ``--nvidia-smi`` / ``--probe``: recorded outputs instead of asking
  this host (nvidia-smi's CSV of :data:`~hfpl.workflow.preflight.NVIDIA_SMI`, the
  :data:`~hfpl.workflow.preflight.TORCH_PROBE` JSON), e.g. to check a cluster node's facts
  from a login node. ``--out FILE``: on success the checked facts as JSON (the workflow's
  preflight marker, written only when every check passed).
- ``hfpl plan [TARGET ...] [--configfile ...] [--config ...]``: jobs and GPU-hours per table /
  figure of config/tables.yaml (default: all), from the method YAMLs' estimates and the
  durations finished runs recorded (:mod:`hfpl.workflow.cost`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from hfpl.io import write_json_atomic
from hfpl.workflow import cost, plan, preflight, recipe
from hfpl.workflow.config import WorkflowConfig, load_workflow_config
from hfpl.workflow.methods import DEFAULT_IMAGE
from hfpl.workflow.resources import step_estimate
from hfpl.workflow.schema import ConfigError, command_line_config, deep_merge, read_yaml


def _config(args: argparse.Namespace) -> WorkflowConfig:
    config: dict = {}
    files = args.configfile or ["config/config.yaml"]
    for path in files:
        config = deep_merge(config, read_yaml(Path(path)) or {})
    config = deep_merge(config, command_line_config(args.config))
    source = " + ".join(files + (["--config"] if args.config else []))
    return load_workflow_config(config, Path(args.schemas), source=source)


def needs(cfg: WorkflowConfig) -> list[preflight.Need]:
    """One :class:`~hfpl.workflow.preflight.Need` per configured GPU step x dataset."""
    out = []
    for (method, step, dataset), res in plan.gpu_steps(cfg).items():
        estimate = step_estimate(cfg.methods[method]["steps"][step], dataset)
        label = f"{method}/{step} on {dataset}"
        out.append(preflight.Need(label, res["gpu"], int(estimate.get("gpu_mem_mb", 0))))
    return out


def _environments(cfg: WorkflowConfig, probe_file: Path | None) -> list[preflight.Environment]:
    """The environments of the methods that have GPU steps, probed (or one recorded probe)."""
    kind = cfg.settings["executor"]["kind"]
    gpu_methods = sorted({method for method, _, _ in plan.gpu_steps(cfg)})
    envs = {}
    for method in gpu_methods:
        options = plan.executor_options(cfg, method, network=False)
        options.setdefault("python", cfg.settings["executor"][kind].get("python", "python"))
        name = str(options.get("image", options["python"]))
        image = cfg.methods[method].get("image", DEFAULT_IMAGE)
        wanted = recipe.expected(Path("containers"), image) if Path("containers").is_dir() else {}
        if name in envs:  # one venv for several methods: it holds all their layers
            envs[name] = dataclasses.replace(envs[name], wanted={**envs[name].wanted, **wanted})
        elif probe_file is not None:
            envs[name] = preflight.Environment(name, json.loads(probe_file.read_text()), "", wanted)
        else:
            env = preflight.probe_environment(kind, options, name)
            envs[name] = dataclasses.replace(env, wanted=wanted)
    return list(envs.values())


def _preflight(args: argparse.Namespace) -> int:
    cfg = _config(args)
    if args.nvidia_smi is not None:
        gpus = preflight.parse_nvidia_smi(args.nvidia_smi.read_text())
    else:
        found = preflight.gather_gpus()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        gpus = None if found is None else preflight.visible(found, visible)
    step_needs = needs(cfg)
    envs = _environments(cfg, args.probe)
    problems = preflight.check(gpus, envs, step_needs)
    for line in problems:
        print(f"hfpl preflight: {line}", file=sys.stderr)
    if problems:
        return 1
    if args.out is not None:  # the workflow's marker: written only when every check passed
        facts = {"gpus": [dataclasses.asdict(g) for g in gpus or []],
                 "environments": {e.name: e.probe for e in envs},
                 "needs": [dataclasses.asdict(n) for n in step_needs]}  # fmt: skip
        write_json_atomic(args.out, facts)
    where = f"{len(gpus)} GPU(s)" if gpus else "no GPU needed"
    print(f"preflight ok: {len(step_needs)} GPU step kinds, {where}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    cfg = _config(args)
    tables = read_yaml(Path(cfg.settings["tables"]))
    known = cost.targets(tables)
    names = args.targets or list(known)
    unknown = [t for t in names if t not in known]
    if unknown:
        raise ConfigError(
            f"hfpl plan: unknown target {unknown[0]!r}; use keys of {cfg.settings['tables']}: "
            f"{', '.join(known)}"
        )
    measured = cost.measured_hours(Path(cfg.settings["results_dir"]) / "runs")
    costs = [
        cost.target_cost(t, known[t], cfg.methods, cfg.variants, tables.get("seeds", [0]),
                         tables.get("rows", {}), measured)
        for t in names
    ]  # fmt: skip
    print(cost.render(costs))
    return 0


def _guarded(prog: str, func):
    def handler(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (ConfigError, ValueError, preflight.PreflightError) as err:
            print(f"{prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
            return 1

    return handler


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configfile", "--configfiles", action="extend", nargs="+", default=[],
                   metavar="FILE", help="config file(s), later ones override "
                   "(default: config/config.yaml)")  # fmt: skip
    p.add_argument(
        "--config",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override top-level keys, values in YAML (like snakemake --config)",
    )
    p.add_argument("--schemas", default="workflow/schemas", help="folder of *.schema.yaml")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hfpl preflight`` and ``hfpl plan``."""
    p = subparsers.add_parser("preflight", help="check driver, GPUs and images for a GPU run")
    _config_args(p)
    p.add_argument("--nvidia-smi", type=Path, help="recorded nvidia-smi CSV instead of this host's")
    p.add_argument("--probe", type=Path, help="recorded torch probe JSON instead of probing")
    p.add_argument("--out", type=Path, help="on success, write the checked facts here (JSON)")
    p.set_defaults(func=_guarded("hfpl preflight", _preflight))

    p = subparsers.add_parser("plan", help="jobs and GPU-hours per table/figure, before running")
    p.add_argument("targets", nargs="*", metavar="TARGET", help="table/figure keys (default: all)")
    _config_args(p)
    p.set_defaults(func=_guarded("hfpl plan", _plan))


def preflight_cli_args(configfiles: list, overrides: dict) -> list[str]:
    """`hfpl preflight` options that load the configuration a Snakemake run was given: its
    config files, then its ``--config`` items as JSON (which is YAML)."""
    args = ["--configfile", *map(str, configfiles)] if configfiles else []
    if overrides:
        args += ["--config", *(f"{k}={json.dumps(v)}" for k, v in overrides.items())]
    return args
