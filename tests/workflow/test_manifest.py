"""hfpl.workflow.manifest: the provenance probe (run in a step's interpreter) and host facts."""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
from importlib import metadata

from hfpl.workflow import manifest


def test_probe_reports_the_interpreters_versions(tmp_path) -> None:
    out = tmp_path / "probe.json"
    subprocess.run([sys.executable, "-c", manifest.PROBE, str(out)], check=True)
    info = json.loads(out.read_text())
    assert info["python"] == platform.python_version()
    assert info["hfpl"] == metadata.version("hfpl")
    assert info["torch"] == metadata.version("torch")
    assert set(info) == {"python", "hfpl", "torch", "torchvision", "cuda"}


def test_host_without_gpus() -> None:
    assert manifest.gpu_models([]) == []
    assert manifest.host([]) == {"hostname": socket.gethostname(), "gpu_ids": [], "gpu_models": []}
