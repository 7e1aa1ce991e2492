"""``python -m hfpl.workflow workflow ...``: the rules' entry point to :mod:`hfpl.workflow.cli`.

Same commands as ``hfpl workflow ...`` but without importing every room of the ``hfpl``
dispatcher (torch, pandas), which costs ~1 s of CPU in each of the workflow's many jobs.
"""

from __future__ import annotations

import argparse
import sys

from hfpl.workflow import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hfpl.workflow")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
