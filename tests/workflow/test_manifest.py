"""hfpl.workflow.manifest: the provenance probe (run in a step's interpreter) and host facts."""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
from importlib import metadata

from hfpl.workflow import manifest, recipe


def test_probe_reports_the_interpreters_versions(tmp_path) -> None:
    out = tmp_path / "probe.json"
    subprocess.run([sys.executable, "-c", manifest.PROBE, str(out)], check=True)
    info = json.loads(out.read_text())
    assert info["python"] == platform.python_version()
    assert info["hfpl"] == metadata.version("hfpl")
    assert info["torch"] == metadata.version("torch")
    assert set(info) == {"python", "hfpl", "torch", "torchvision", "cuda", "recipe"}


def test_probe_reads_the_recipe_record_below_sys_prefix(tmp_path) -> None:
    """The record of the interpreter's own environment (a venv: its folder), not the one of
    the interpreter running the test; none there: empty text."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    out = tmp_path / "probe.json"
    subprocess.run([python, "-c", manifest.PROBE, str(out)], check=True)
    assert json.loads(out.read_text())["recipe"] == ""
    (venv / recipe.RECORD).write_text(f"base {'a' * 64}\nseam {'b' * 64}\n")
    subprocess.run([python, "-c", manifest.PROBE, str(out)], check=True)
    assert json.loads(out.read_text())["recipe"] == f"base {'a' * 64}\nseam {'b' * 64}\n"


def test_host_without_gpus() -> None:
    assert manifest.gpu_models([]) == []
    assert manifest.host([]) == {"hostname": socket.gethostname(), "gpu_ids": [], "gpu_models": []}
