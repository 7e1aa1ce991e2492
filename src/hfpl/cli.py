"""The `hfpl` command: a thin dispatcher over each room's own subcommands.

Each room (metrics, data, workflow) owns a ``cli`` module exposing ``register(subparsers)``;
a subcommand's handler is stored as ``func`` on its parser and returns an exit code.
Rooms are imported lazily so that ``hfpl eval`` does not pay for the workflow's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand module -> dependency extra that provides what it imports
_ROOMS = {
    "hfpl.metrics.cli": "cli",
    "hfpl.data.cli": "data",
    "hfpl.workflow.cli": "workflow",
    "hfpl.workflow.tables_cli": "workflow",
}


def build_parser() -> argparse.ArgumentParser:
    from hfpl import __version__

    parser = argparse.ArgumentParser(prog="hfpl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hfpl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name, extra in _ROOMS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and err.name.startswith("hfpl"):
                continue  # room not built yet
            missing = err.name
            stub = subparsers.add_parser(module_name.split(".")[-1], help=f"(needs hfpl[{extra}])")
            stub.set_defaults(
                func=lambda _args, m=missing, e=extra: sys.exit(
                    f"hfpl: missing dependency {m!r}; install it with: pip install 'hfpl[{e}]'"
                )
            )
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
