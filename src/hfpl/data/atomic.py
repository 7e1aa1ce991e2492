"""Atomic outputs: build a folder or file under a temp name, rename it into place at the end.

An interrupted run therefore leaves only dot-prefixed temp names, never something that looks done.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def building_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temp folder next to ``dest``; on success it replaces ``dest`` (an older
    ``dest`` is removed), on error it is deleted and ``dest`` is left untouched."""
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
    """Yield a temp path next to ``dest``; on success it is renamed to ``dest``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
