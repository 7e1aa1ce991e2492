"""``hfpl workflow ...``: the commands the Snakemake rules call, plus ``validate``.

- ``hfpl workflow checkout --spec JSON [--log FILE]``: spec keys ``url commit patches dest marker
  sparse_exclude`` (see :func:`hfpl.workflow.checkout.checkout`).
- ``hfpl workflow run-step --spec JSON --log FILE``: spec from :func:`hfpl.workflow.plan.step_spec`.
- ``hfpl workflow validate [--configfile FILE ...] [--schemas DIR]``: check the configuration
  (later files override earlier ones, like Snakemake's ``--configfile``) and print the run count.

Every failure is one line on stderr (``hfpl workflow: error: ...``) and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hfpl.workflow.checkout import CheckoutError, checkout
from hfpl.workflow.config import ConfigError, deep_merge, load_workflow_config, read_yaml
from hfpl.workflow.executors import ExecutorError, make_executor
from hfpl.workflow.gpus import GpuAllocationTimeout
from hfpl.workflow.runner import StepError, run_step

_ERRORS = (ConfigError, CheckoutError, StepError, ExecutorError, GpuAllocationTimeout)


def _checkout(args: argparse.Namespace) -> int:
    spec = json.loads(args.spec)
    checkout(
        spec["url"], spec["commit"], [Path(p) for p in spec["patches"]], Path(spec["dest"]),
        Path(spec["marker"]), sparse_exclude=spec["sparse_exclude"], log=args.log,
    )  # fmt: skip
    return 0


def _run_step(args: argparse.Namespace) -> int:
    spec = json.loads(args.spec)
    options = dict(spec["executor"]["options"])
    kind = spec["executor"]["kind"]
    if kind != "local":
        options.pop("python", None)  # the interpreter inside the image is in the argv already
    if kind == "docker" and spec["network"]:
        options["network"] = "bridge"
    run_step(spec, make_executor(kind, **options), Path(args.log))
    return 0


def _validate(args: argparse.Namespace) -> int:
    config: dict = {}
    args.configfile = args.configfile or ["config/config.yaml"]
    for path in args.configfile:
        config = deep_merge(config, read_yaml(Path(path)) or {})
    cfg = load_workflow_config(config, Path(args.schemas), source=" + ".join(args.configfile))
    steps = sum(len(cfg.methods[r.method]["steps"]) for r in cfg.runs)
    print(f"ok: {len(cfg.runs)} runs, {steps} steps, {len(cfg.methods)} methods")
    return 0


def _guarded(func):
    def handler(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except _ERRORS as err:
            print(f"hfpl workflow: error: {err}", file=sys.stderr)
            return 1

    return handler


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hfpl workflow {checkout,run-step,validate}``."""
    parser = subparsers.add_parser("workflow", help="commands used by the Snakemake workflow")
    sub = parser.add_subparsers(dest="workflow_command", required=True)

    p = sub.add_parser("checkout", help="pinned, patched, read-only checkout of one repo")
    p.add_argument("--spec", required=True, help="JSON: url commit patches dest marker ...")
    p.add_argument("--log", type=Path, help="append git progress here")
    p.set_defaults(func=_guarded(_checkout))

    p = sub.add_parser("run-step", help="run one step of a method x variant x seed")
    p.add_argument("--spec", required=True, help="JSON job spec (hfpl.workflow.plan.step_spec)")
    p.add_argument("--log", type=Path, required=True, help="the step's output goes here")
    p.set_defaults(func=_guarded(_run_step))

    p = sub.add_parser("validate", help="validate config.yaml, methods and experiments")
    p.add_argument(
        "--configfile",
        action="append",
        default=[],
        help="config file(s), later ones override (default: config/config.yaml)",
    )
    p.add_argument("--schemas", default="workflow/schemas", help="folder of *.schema.yaml")
    p.set_defaults(func=_guarded(_validate))
