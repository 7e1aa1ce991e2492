"""Provenance of one step run: what ran, on what code, in which environment, on which machine.

``manifest.json`` (written last, atomically via :func:`hfpl.io.write_json_atomic`, by
:mod:`hfpl.workflow.runner`) is also the step's
completion marker. Keys:

- ``dataset method variant seed step argv cwd env``: the job (the argv holds the variant's flags)
- ``identity``: :attr:`hfpl.workflow.jobs.StepJob.identity` (sha256 of what makes the result;
  the resolved config lists the identity the current configuration expects)
- ``dataset_digest``: the digest of the dataset's ``hfpl-dataset.json`` the step ran on
- ``outputs``: ``{relpath: [size, sha256]}`` of every declared output file (files inside a
  declared folder); checked before a later step reads them
- ``repos``: per repo key, the url, the verified commit and the sha256 of each applied patch
- ``executor``: the executor's ``describe()`` (image digest, or ``local`` + pip freeze sha256)
- ``environment``: python/hfpl/torch/torchvision/CUDA versions of the step's interpreter and
  its ``recipe``: ``{layer: sha256}`` of the ``hfpl-recipe.txt`` below its ``sys.prefix``
  (:mod:`hfpl.workflow.recipe`; in the images ``/opt/venv``), ``{}`` for an environment the
  recipe did not build. Provenance, not identity: a rebuilt image makes no run stale
- ``host``: hostname, GPU ids and models
- ``start``, ``end``, ``duration_s``, ``exit_status``, ``hfpl_version`` (of the workflow)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from typing import Any

# Runs in the step's interpreter (maybe another venv or a container); importing torch would take
# seconds per step, so versions come from package metadata and torch/version.py is read as text.
# "recipe" is the record file's text (the runner parses it: recipe.parse).
PROBE = r"""
import importlib.metadata as md, json, os, platform, re, sys
def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
cuda = None
if version("torch"):
    text = md.distribution("torch").locate_file("torch/version.py").read_text()
    found = re.search(r"^cuda(?:\s*:[^=]+)?\s*=\s*['\"]([^'\"]+)", text, re.M)
    cuda = found.group(1) if found else None
info = {"python": platform.python_version(), "hfpl": version("hfpl"), "torch": version("torch"),
        "torchvision": version("torchvision"), "cuda": cuda}
record = os.path.join(sys.prefix, "hfpl-recipe.txt")  # hfpl.workflow.recipe.RECORD
info["recipe"] = open(record).read() if os.path.exists(record) else ""
with open(sys.argv[1], "w") as fh:
    json.dump(info, fh)
"""


def gpu_models(ids: list[int]) -> list[str]:
    """Names of the GPUs ``ids`` from ``nvidia-smi`` (empty without GPUs or nvidia-smi)."""
    if not ids or shutil.which("nvidia-smi") is None:
        return []
    argv = ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]
    argv += ["-i", ",".join(map(str, ids))]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def host(gpu_ids: list[int]) -> dict[str, Any]:
    return {"hostname": socket.gethostname(), "gpu_ids": gpu_ids, "gpu_models": gpu_models(gpu_ids)}
