"""The `hfpl` command: a thin dispatcher over each room's own subcommands.

Each room (metrics, data, workflow) owns a ``cli`` module exposing ``register(subparsers)``;
a subcommand's handler is stored as ``func`` on its parser and returns an exit code.
Only the module of the chosen subcommand is imported (the table :data:`COMMANDS` names it), so
that e.g. ``hfpl eval`` in each of the workflow's many jobs does not pay for torch or pandas;
``hfpl --help`` lists every subcommand from the table without importing any room.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NamedTuple


class Command(NamedTuple):
    module: str  # the room's cli module, whose register() adds this subcommand
    extra: str  # the pip extra that provides what the module imports
    help: str  # shown by `hfpl --help`


# subcommand -> where it lives; tests/test_cli.py checks it against what each module registers
COMMANDS = {
    "eval": Command("hfpl.metrics.cli", "cli", "J, F and J&F of predictions against GT PNGs"),
    "smoke-data": Command("hfpl.data.cli", "data", "write one synthetic smoke dataset"),
    "data": Command("hfpl.data.cli", "data", "download and prepare datasets and weights"),
    "workflow": Command("hfpl.workflow.cli", "workflow", "commands used by the Snakemake workflow"),
    "convert": Command("hfpl.convert", "cli", "convert class-score maps between layouts"),
    "tables": Command(
        "hfpl.workflow.tables_cli", "workflow", "aggregate results/runs into tables and figures"
    ),
    "preflight": Command(
        "hfpl.workflow.gpu_cli", "workflow", "check driver, GPUs and images for a GPU run"
    ),
    "plan": Command(
        "hfpl.workflow.gpu_cli", "workflow", "jobs and GPU-hours per table/figure, before running"
    ),
}


def _register(subparsers: argparse._SubParsersAction, command: str) -> None:
    """Import the module of ``command`` and let it add its subcommands.

    A missing third-party dependency turns the command into one that exits with the fix.
    """
    module_name, extra, help_ = COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and err.name.startswith("hfpl"):
            raise
        stub = subparsers.add_parser(command, help=f"{help_} (needs hfpl[{extra}])")
        stub.set_defaults(
            func=lambda _args, m=err.name, e=extra: sys.exit(
                f"hfpl: missing dependency {m!r}; install it with: pip install 'hfpl[{e}]'"
            )
        )
        return
    module.register(subparsers)


def _chosen(argv: list[str]) -> str | None:
    """The subcommand in ``argv``: the first item that is not an option (the top-level parser
    has only flag options, which take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``hfpl`` parser with the room of the subcommand in ``argv`` loaded (all rooms if
    ``argv`` is None); the other subcommands are listed by name and help only."""
    from hfpl import __version__

    parser = argparse.ArgumentParser(prog="hfpl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hfpl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = list(COMMANDS) if argv is None else [_chosen(argv)]
    for command in wanted:
        if command in COMMANDS and command not in subparsers.choices:
            _register(subparsers, command)
    for command, spec in COMMANDS.items():
        if command not in subparsers.choices:  # not chosen: never parsed, only listed
            subparsers.add_parser(command, help=spec.help)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
