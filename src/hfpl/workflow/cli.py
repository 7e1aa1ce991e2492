"""``hfpl workflow ...``: the commands the Snakemake rules call, plus ``validate``.

- ``hfpl workflow checkout --job JSON [--url URL] [--log FILE]``: a
  :class:`~hfpl.workflow.jobs.CheckoutJob` (see :func:`hfpl.workflow.checkout.checkout`); the
  clone URL from ``--url`` or, in the workflow, from ``$HFPL_CHECKOUT_URLS`` (JSON dest -> URL,
  set by ``workflow/rules/common.smk``: not a rerun trigger).
- ``hfpl workflow run-step --job JSON --log FILE``: a :class:`~hfpl.workflow.jobs.StepJob`
  from :func:`hfpl.workflow.plan.step_job`.
- ``hfpl workflow validate [--configfile FILE ...] [--config KEY=VALUE ...] [--schemas DIR]``:
  check the configuration (later files override earlier ones, then ``--config`` values, typed
  like Snakemake's: YAML) and print the run count.

Every failure (configuration, checkout, step, executor, a malformed job, too few GPUs) is one
line on stderr (``hfpl workflow: error: ...``) and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from hfpl.workflow.checkout import CheckoutError, checkout
from hfpl.workflow.config import load_workflow_config
from hfpl.workflow.executors import ExecutorError, make_executor
from hfpl.workflow.jobs import CHECKOUT_URLS_ENV, CheckoutJob, StepJob
from hfpl.workflow.runner import StepError, run_step
from hfpl.workflow.schema import command_line_config, deep_merge, read_yaml

# ValueError: configuration errors, malformed jobs (JSON, fields), bad executor options, a step
# needing more GPUs than the machine has
_ERRORS = (ValueError, CheckoutError, StepError, ExecutorError)


def _checkout_url(job: CheckoutJob, url: str | None) -> str:
    if url:
        return url
    urls = json.loads(os.environ.get(CHECKOUT_URLS_ENV) or "{}")
    if job.dest not in urls:
        raise ValueError(
            f"no clone URL for {job.dest}: pass --url, or run it through snakemake (which sets "
            f"${CHECKOUT_URLS_ENV} from upstream.url_template)"
        )
    return urls[job.dest]


def _checkout(args: argparse.Namespace) -> int:
    job = CheckoutJob.from_json(args.job)
    checkout(
        _checkout_url(job, args.url), job.commit, [Path(p) for p in job.patches],
        Path(job.dest), Path(job.marker), sparse_exclude=job.sparse_exclude, log=args.log,
    )  # fmt: skip
    return 0


def _run_step(args: argparse.Namespace) -> int:
    job = StepJob.from_json(args.job)
    run_step(job, make_executor(job.executor, **job.executor_options), Path(args.log))
    return 0


def _validate(args: argparse.Namespace) -> int:
    config: dict = {}
    args.configfile = args.configfile or ["config/config.yaml"]
    for path in args.configfile:
        config = deep_merge(config, read_yaml(Path(path)) or {})
    config = deep_merge(config, command_line_config(args.config))
    source = " + ".join(args.configfile + (["--config"] if args.config else []))
    cfg = load_workflow_config(config, Path(args.schemas), source=source)
    steps = sum(len(cfg.methods[r.method]["steps"]) for r in cfg.runs)
    print(f"ok: {len(cfg.runs)} runs, {steps} steps, {len(cfg.methods)} methods")
    return 0


def _guarded(func):
    def handler(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except _ERRORS as err:
            print(f"hfpl workflow: error: {' '.join(str(err).split())}", file=sys.stderr)
            return 1

    return handler


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``hfpl workflow {checkout,run-step,validate}``."""
    parser = subparsers.add_parser("workflow", help="commands used by the Snakemake workflow")
    sub = parser.add_subparsers(dest="workflow_command", required=True)

    p = sub.add_parser("checkout", help="pinned, patched, read-only checkout of one repo")
    p.add_argument("--job", required=True, help="JSON of a CheckoutJob (hfpl.workflow.jobs)")
    p.add_argument("--url", help=f"clone URL (default: from ${CHECKOUT_URLS_ENV})")
    p.add_argument("--log", type=Path, help="append git progress here")
    p.set_defaults(func=_guarded(_checkout))

    p = sub.add_parser("run-step", help="run one step of a method x variant x seed")
    p.add_argument("--job", required=True, help="JSON of a StepJob (hfpl.workflow.plan.step_job)")
    p.add_argument("--log", type=Path, required=True, help="the step's output goes here")
    p.set_defaults(func=_guarded(_run_step))

    p = sub.add_parser("validate", help="validate config.yaml, methods and experiments")
    p.add_argument(
        "--configfile",
        "--configfiles",
        action="extend",
        nargs="+",
        default=[],
        metavar="FILE",
        help="config file(s), later ones override (default: config/config.yaml)",
    )
    p.add_argument(
        "--config",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override top-level keys, values in YAML (like snakemake --config)",
    )
    p.add_argument("--schemas", default="workflow/schemas", help="folder of *.schema.yaml")
    p.set_defaults(func=_guarded(_validate))
