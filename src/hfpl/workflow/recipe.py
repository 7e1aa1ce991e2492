"""The environment recipe: which pinned files an image or venv was built from, as digests.

One recipe per layer: ``containers/base/`` (``install.sh`` + ``requirements.txt``, the torch pin)
and ``containers/<image>/`` (every file but its ``Dockerfile`` and ``.def``). The Dockerfiles,
the Apptainer definitions and the Makefile's ``.venv-upstream`` all run
``containers/base/install.sh``, which appends ``<layer> <sha256>`` per installed layer to
``<venv>/hfpl-recipe.txt`` (:data:`RECORD`); :func:`digest` is the same sha256 (of the files'
concatenated bytes, in that order), so a run's manifest can name the recipe it ran in and
:func:`expected` what the working tree would build now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

RECORD = "hfpl-recipe.txt"  # below the venv (sys.prefix): "<layer> <sha256>" per line
BASE = "base"
BASE_FILES = ("install.sh", "requirements.txt")  # containers/base/, in install.sh's order
_NOT_RECIPE = ("Dockerfile",)  # + *.def: how a recipe is run, not what it installs


def digest(files: Iterable[Path]) -> str:
    """sha256 hex of the files' bytes, concatenated in the given order (``cat FILES |
    sha256sum``, as install.sh records it)."""
    h = hashlib.sha256()
    for path in files:
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def layer_files(layer_dir: Path) -> list[Path]:
    """The recipe files of a method layer ``containers/<image>/``, in byte order of their
    names (install.sh's ``LC_ALL=C sort``)."""
    files = [
        p for p in Path(layer_dir).iterdir()
        if p.is_file() and p.name not in _NOT_RECIPE and p.suffix != ".def"
    ]  # fmt: skip
    return sorted(files, key=lambda p: p.name.encode())


def expected(containers: Path, image: str) -> dict[str, str]:
    """``{layer: digest}`` the working tree's recipe gives the environment of ``image`` (the
    base, plus the method layer unless ``image`` is the base)."""
    base = Path(containers) / BASE
    out = {BASE: digest(base / name for name in BASE_FILES)}
    if image != BASE:
        out[image] = digest(layer_files(Path(containers) / image))
    return out


def parse(text: str) -> dict[str, str]:
    """``{layer: digest}`` of a :data:`RECORD` file's text (a later line for the same layer
    wins: a layer installed again)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def stale(recorded: dict[str, str], wanted: dict[str, str]) -> list[str]:
    """The layers of ``wanted`` that ``recorded`` lacks or has with another digest."""
    return [layer for layer, d in wanted.items() if recorded.get(layer) != d]
