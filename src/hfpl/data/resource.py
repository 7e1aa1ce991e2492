"""One downloadable file and how it is checked: what :func:`hfpl.data.download.fetch` takes.

Dataset archives are registered in :mod:`hfpl.data.registry`; a weights file's facts come from
its method YAML entry (``weights: {NAME: {urls, md5|sha256|sha256_prefix, manual, loading,
smoke}}``), passed to ``hfpl data weights --spec`` as JSON and read by :meth:`Resource.from_spec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SPEC_KEYS = {"urls", "md5", "sha256", "sha256_prefix", "manual", "loading", "smoke", "size"}
"""Keys a weights entry may carry (``smoke``, the stand-in's architecture, is not used here)."""


@dataclass(frozen=True)
class Resource:
    """One file.

    name: file name on disk; urls: mirrors tried in order (empty: manual download only);
    sha256 / md5: full digests when published; sha256_prefix: the digest prefix in torch-hub
    style names; size: bytes when known; loading: how the code that reads it loads it; manual:
    where a human gets it when no URL works.
    """

    name: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    md5: str | None = None
    sha256_prefix: str | None = None
    size: int | None = None
    loading: str = ""
    manual: str = ""

    @classmethod
    def from_spec(cls, name: str, spec: Mapping[str, Any]) -> Resource:
        """The Resource of a method YAML weights entry; ValueError naming the fix if the entry
        lacks ``urls`` or ``loading``, has unknown keys, or is manual-only without ``manual``."""
        where = f"weights entry {name!r}"
        if not isinstance(spec, Mapping):
            raise ValueError(f"{where} must be a mapping (urls, md5|sha256|sha256_prefix, ...)")
        unknown = sorted(set(spec) - SPEC_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; allowed: {sorted(SPEC_KEYS)}")
        missing = [k for k in ("urls", "loading") if k not in spec]
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)}: add them to the method YAML")
        urls = spec["urls"]
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise ValueError(f"{where}: urls must be a list of strings (empty: manual only)")
        if not urls and not spec.get("manual"):
            raise ValueError(f"{where} has no urls: add `manual` (where a human gets the file)")
        return cls(
            name=name,
            urls=tuple(urls),
            sha256=spec.get("sha256"),
            md5=spec.get("md5"),
            sha256_prefix=spec.get("sha256_prefix"),
            size=spec.get("size"),
            loading=spec["loading"],
            manual=spec.get("manual", ""),
        )
