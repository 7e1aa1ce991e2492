"""Pinned, patched, read-only checkouts of upstream repositories (GitPython).

``checkout()`` clones with ``--no-checkout`` into a temporary sibling folder
(:func:`hfpl.io.building_dir`, so an existing tree is replaced only by a complete one), applies
the sparse excludes (partial upstream snapshots lack a few blobs; see ``docs/workflow.md``),
checks out the pinned commit and verifies HEAD, applies the patch series in order with
``git apply``, removes write permission, renames the folder into place and only then writes the
JSON marker that the workflow tracks. Any failure raises one :class:`CheckoutError` and leaves
no marker, no temporary folder, and an earlier tree as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import git

from hfpl.io import building_dir, sha256_file, write_json_atomic

_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class CheckoutError(RuntimeError):
    """Clone, pin or patch failure; the message names the cause and the fix."""


def _chmod_tree(root: Path, writable: bool) -> None:
    """Add (``writable``) or remove write permission on every file and folder under ``root``."""
    paths = [root] + [Path(d) / n for d, dirs, files in os.walk(root) for n in dirs + files]
    for path in paths:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~_WRITE)


def remove_tree(root: Path) -> None:
    """Delete a (possibly read-only) checkout."""
    if root.exists():
        _chmod_tree(root, writable=True)
        shutil.rmtree(root)


def _last_line(err: git.GitCommandError) -> str:
    lines = [ln.strip() for ln in str(err.stderr).strip().strip("'").splitlines() if ln.strip()]
    return lines[-1].removeprefix("stderr: ").strip("' ") if lines else str(err)


def _hunk(patch: Path, file: str, line: int) -> str | None:
    """The ``@@`` header of the hunk of ``patch`` that touches ``file`` at old ``line``."""
    current = None
    for text in patch.read_text(errors="replace").splitlines():
        if text.startswith("+++ "):
            current = text[4:].removeprefix("b/")
        match = re.match(r"@@ -(\d+)", text)
        if match and current == file and int(match.group(1)) == line:
            return text
    return None


def _patch_error(patch: Path, err: git.GitCommandError, where: str) -> CheckoutError:
    stderr = str(err.stderr)
    failed = re.search(r"patch failed: (.+):(\d+)", stderr)
    if failed:
        file, line = failed.group(1), int(failed.group(2))
        hunk = _hunk(patch, file, line) or f"at line {line}"
        detail = f"file {file}, hunk {hunk}"
    else:
        detail = _last_line(err)
    return CheckoutError(
        f"patch {patch.name} does not apply to {where}: {detail}; "
        f"rebase {patch} on the pinned commit"
    )


def _build(
    url: str, commit: str, patches: Sequence[Path], tmp: Path, excludes: Sequence[str], log
) -> None:
    try:
        repo = git.Repo.clone_from(url, tmp, no_checkout=True)
    except git.GitCommandError as err:
        raise CheckoutError(
            f"cannot clone {url}: {_last_line(err)}; offline? wrong upstream.url_template?"
        ) from None
    log.write(f"cloned {url}\n")
    try:
        kind = repo.git.cat_file("-t", commit)
    except git.GitCommandError:
        kind = None
    if kind != "commit":
        raise CheckoutError(
            f"commit {commit} not found in {url}; fix the pin in the method file "
            "(full SHA of a commit that exists upstream)"
        )
    if excludes:
        repo.git.sparse_checkout("set", "--no-cone", "/*", *[f"!{p}" for p in excludes])
        log.write(f"sparse-checkout excludes {list(excludes)}\n")
    try:
        repo.git.checkout("--detach", "--quiet", commit)
    except git.GitCommandError as err:
        raise CheckoutError(
            f"cannot check out {commit} from {url}: {_last_line(err)}; "
            "missing blobs? exclude them with sparse_exclude"
        ) from None
    if repo.head.commit.hexsha != commit:
        raise CheckoutError(f"HEAD is {repo.head.commit.hexsha} after checking out {commit}")
    where = f"{url}@{commit[:12]}"
    for patch in patches:
        try:
            repo.git.apply("--whitespace=nowarn", str(Path(patch).resolve()))
        except git.GitCommandError as err:
            raise _patch_error(Path(patch), err, where) from None
        log.write(f"applied {Path(patch).name}\n")


def checkout(
    url: str,
    commit: str,
    patches: Sequence[Path],
    dest: Path,
    marker: Path,
    *,
    sparse_exclude: Sequence[str] = (),
    log: Path | None = None,
) -> dict[str, Any]:
    """Create the read-only patched tree ``dest`` and its JSON ``marker``; return the marker data.

    ``patches`` are applied in the given order. The marker records the URL, the verified commit
    and the sha256 of each patch (copied into every step's ``manifest.json``).
    """
    dest, marker = Path(dest), Path(marker)
    dest.parent.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    log_path = Path(log) if log else Path(os.devnull)
    # the new tree is built beside the old one, which is replaced only once the new one is
    # complete: a wrong URL, a missing commit or a broken patch leaves a good tree in place
    with building_dir(dest) as tmp, open(log_path, "a", encoding="utf-8") as fh:
        _build(url, commit, patches, tmp, sparse_exclude, fh)
        _chmod_tree(tmp, writable=False)  # the rename into place needs no write permission
        if dest.exists():
            _chmod_tree(dest, writable=True)  # so that building_dir can delete the old tree
    info = {
        "url": url,
        "commit": commit,
        "patches": [{"name": Path(p).name, "sha256": sha256_file(Path(p))} for p in patches],
        "sparse_exclude": list(sparse_exclude),
        "path": str(dest.resolve()),
        "created": datetime.now(timezone.utc).isoformat(),
    }
    write_json_atomic(marker, info, sort_keys=False)
    return info
