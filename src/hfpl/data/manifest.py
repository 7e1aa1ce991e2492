"""Content manifest of a prepared dataset: every file's size and sha256, written last.

A truncated validation JPEG still decodes to plausible numbers, so datasets are checked against
the manifest before the steps that read them. ``{data_root}/hfpl-dataset.json``::

    {"dataset": "voc", "files": {relpath: [size, sha256]}, "digest": <sha256 of the listing>}

``relpath`` is relative to the data root and covers every file below the dataset's folder
(:data:`hfpl.data.layout.DATASET_DIRS`); the digest is the sha256 of ``files`` as compact JSON
with sorted keys. Standard library only (:func:`fingerprint` runs at DAG time).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from hfpl.data.layout import DATASET_DIRS, MARKER
from hfpl.io import sha256_file, write_json_atomic


class DatasetChanged(RuntimeError):
    """A prepared dataset differs from its manifest (or has none); the message names the first
    differing file and the fix."""


def _listed_files(root: Path, dataset: str) -> list[str]:
    """Paths (relative to ``root``, ``/``-separated, sorted) of every file below the dataset's
    folder; symlinked folders are followed (datasets are often linked in)."""
    if dataset not in DATASET_DIRS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASET_DIRS)}")
    top = root / DATASET_DIRS[dataset]
    if not top.is_dir():
        raise ValueError(f"{top} not found: is {root} the data root of a prepared {dataset}?")
    out = []
    for folder, _dirs, files in os.walk(top, followlinks=True):
        rel = Path(folder).relative_to(root).as_posix()
        out += [f"{rel}/{name}" for name in files]
    return sorted(out)


def _digest(files: dict[str, list]) -> str:
    listing = json.dumps(files, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(listing.encode()).hexdigest()


def write_manifest(root: str | os.PathLike, dataset: str) -> Path:
    """Hash every file of the ``dataset`` tree below ``root`` and write ``root/MARKER``
    (atomically; call it last). Returns the manifest's path."""
    root = Path(root)
    files = {
        rel: [(root / rel).stat().st_size, sha256_file(root / rel)]
        for rel in _listed_files(root, dataset)
    }
    path = root / MARKER
    write_json_atomic(path, {"dataset": dataset, "files": files, "digest": _digest(files)})
    return path


def _read(root: Path) -> dict:
    path = root / MARKER
    if not path.is_file():
        raise DatasetChanged(
            f"{path} not found: prepare the dataset first (`hfpl data voc|coco --root {root}`, "
            "or `hfpl smoke-data` for smoke data)"
        )
    manifest = json.loads(path.read_text())
    if _digest(manifest["files"]) != manifest["digest"]:
        raise DatasetChanged(f"{path} was edited: prepare the dataset again")
    return manifest


def verify(root: str | os.PathLike) -> str:
    """Check the dataset below ``root`` against its manifest; return the manifest's digest.

    Listing and sizes are compared first (cheap), then every sha256. Raises DatasetChanged
    naming the first missing, extra or changed file and the fix.
    """
    root = Path(root)
    manifest = _read(root)
    files: dict[str, list] = manifest["files"]
    dataset = manifest["dataset"]
    fix = (
        f"restore it, or delete {root / DATASET_DIRS[dataset]} and {root / MARKER} and prepare "
        f"the {dataset} dataset again"
    )
    present = _listed_files(root, dataset)
    missing = sorted(set(files) - set(present))
    if missing:
        raise DatasetChanged(f"{root / missing[0]} is missing from the prepared dataset: {fix}")
    extra = sorted(set(present) - set(files))
    if extra:
        raise DatasetChanged(
            f"{root / extra[0]} is not in the prepared dataset's manifest: remove it, or delete "
            f"{root / MARKER} and prepare the {dataset} dataset again"
        )
    for rel, (size, _) in files.items():
        got = (root / rel).stat().st_size
        if got != size:
            raise DatasetChanged(f"{root / rel} has {got} bytes, the manifest {size}: {fix}")
    for rel, (_, digest) in files.items():
        if sha256_file(root / rel) != digest:
            raise DatasetChanged(f"{root / rel} changed since the dataset was prepared: {fix}")
    return manifest["digest"]


def fingerprint(root: str | os.PathLike) -> str:
    """A cheap token that changes when the dataset may have: the manifest digest plus each listed
    file's size and mtime (no hashing; for rerun triggers at DAG time). ``""`` when there is no
    manifest yet; a missing file counts as a change, never an error."""
    root = Path(root)
    if not (root / MARKER).is_file():
        return ""
    manifest = json.loads((root / MARKER).read_text())
    state = [manifest["digest"]]
    for rel in sorted(manifest["files"]):
        try:
            st = (root / rel).stat()
            state.append(f"{rel}:{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            state.append(f"{rel}:missing")
    return hashlib.sha256("\n".join(state).encode()).hexdigest()
