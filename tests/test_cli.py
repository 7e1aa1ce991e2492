"""The `hfpl` dispatcher: its static command table matches the rooms, and it imports only the
chosen subcommand's room."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import pytest

from hfpl import cli


@pytest.mark.parametrize("module", sorted({c.module for c in cli.COMMANDS.values()}))
def test_command_table_matches_what_each_room_registers(module: str) -> None:
    subparsers = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(subparsers)
    assert set(subparsers.choices) == {n for n, c in cli.COMMANDS.items() if c.module == module}


def _imported_after(argv: list[str]) -> dict:
    """Run ``hfpl ARGV`` in a fresh interpreter; the hfpl/torch/pandas modules it imported."""
    code = (
        "import json, sys\n"
        "from hfpl import cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "mods = [m for m in sys.modules if m.split('.')[0] in ('hfpl', 'torch', 'pandas')]\n"
        "print('\\n' + json.dumps(sorted(mods)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {"stdout": done.stdout, "modules": json.loads(done.stdout.splitlines()[-1])}


def test_help_lists_every_command_without_importing_rooms() -> None:
    got = _imported_after(["--help"])
    for name in cli.COMMANDS:
        assert name in got["stdout"]
    assert got["modules"] == ["hfpl", "hfpl.cli"]


def test_a_subcommand_imports_only_its_room() -> None:
    got = _imported_after(["workflow", "--help"])
    assert "run-step" in got["stdout"]
    assert "hfpl.workflow.cli" in got["modules"]
    assert not [m for m in got["modules"] if m.startswith(("hfpl.data", "hfpl.metrics", "torch"))]
    assert "pandas" not in got["modules"]


def test_dispatches_to_the_handler(tmp_path) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["tables", "--bogus"])
    assert exit_.value.code == 2  # argparse error of the real `tables` parser, not a stub
    assert cli.main(["workflow", "validate", "--configfile", str(tmp_path / "none.yaml")]) == 1
