"""The upstream repositories of a method: pinned commit, patch series, sparse excludes, tree key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfpl.io import sha256_file
from hfpl.workflow.schema import ConfigError


@dataclass(frozen=True)
class Repo:
    """One upstream repository of a method, pinned and patched.

    ``tree_key`` is the first 16 hex digits of sha256 over the patch series (names + contents)
    and the sparse excludes: it changes exactly when the patched tree would.
    """

    key: str
    owner: str
    name: str
    commit: str
    url: str
    patches: tuple[Path, ...]
    sparse_exclude: tuple[str, ...]
    tree_key: str

    @property
    def checkout_id(self) -> str:
        """``{owner}/{name}/{commit}-{tree_key}``: one checkout per distinct patched tree."""
        return f"{self.owner}/{self.name}/{self.commit}-{self.tree_key}"


def tree_key(patches: tuple[Path, ...], excludes: tuple[str, ...]) -> str:
    """16 hex digits of sha256 over the patches' names + contents and the sparse excludes."""
    digest = hashlib.sha256()
    for patch in patches:
        digest.update(patch.name.encode() + b"\0" + bytes.fromhex(sha256_file(patch)))
    for pattern in excludes:
        digest.update(b"\0exclude\0" + pattern.encode())
    return digest.hexdigest()[:16]


def method_repos(doc: dict[str, Any], path: Path, url_template: str) -> dict[str, Repo]:
    """repo key -> :class:`Repo` of one validated method document (``path`` names it in errors);
    a ``patches`` folder without ``*.patch`` files is a :class:`ConfigError`."""
    out = {}
    for key, entry in doc["repos"].items():
        patches: tuple[Path, ...] = ()
        if "patches" in entry:
            series = Path(entry["patches"])
            patches = tuple(sorted(series.glob("*.patch")))
            if not patches:
                raise ConfigError(
                    f"{path}: repos.{key}.patches: no *.patch files in {series}; "
                    "fix the folder (relative to the workdir: patches/<repo>) or remove the key"
                )
        excludes = tuple(entry.get("sparse_exclude", ()))
        url = url_template.format(owner=entry["owner"], name=entry["name"])
        out[key] = Repo(
            key, entry["owner"], entry["name"], entry["commit"], url, patches, excludes,
            tree_key(patches, excludes),
        )  # fmt: skip
    return out
