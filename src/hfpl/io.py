"""One home for file I/O helpers every room uses: atomic outputs and content digests.

Atomic outputs: build a folder or file under a temp name, rename it into place at the end, so an
interrupted run leaves only dot-prefixed temp names, never something that looks done.
Standard library only (the ``hfpl`` core stays light).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def building_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temp folder next to ``dest``; on success it replaces ``dest`` (an older
    ``dest`` is removed only after the new one is in place), on error it is deleted and ``dest``
    is left untouched."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}-"))
    try:
        yield tmp
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            dest.rename(old)
        tmp.rename(dest)
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def building_file(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path next to ``dest`` (parents created); on success it is renamed to
    ``dest``, on error it is removed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temp sibling and a rename."""
    with building_file(path) as tmp:
        tmp.write_text(text)


def write_json_atomic(path: str | os.PathLike, data: Any, **dumps: Any) -> None:
    """``data`` as JSON (indent 2, sorted keys unless ``dumps`` says otherwise, trailing newline)
    written atomically; extra keyword arguments go to :func:`json.dumps`."""
    options = {"indent": 2, "sort_keys": True, **dumps}
    write_text_atomic(path, json.dumps(data, **options) + "\n")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (weights and images are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
