"""Hash-verified downloads: pooch for the transfer and checks, mirrors tried in order, retries
that resume a cut transfer with HTTP Range requests, and a sha256 record next to every file.

``fetch(resource, folder)`` (a :class:`~hfpl.data.resource.Resource`: a registered dataset
archive, or a weights file built from its method YAML entry) returns ``folder/<name>`` only once
its checksum matched; a file without a URL (Google Drive, OneDrive, Baidu, login-only) must be
placed there by hand, and the error says where to get it. Verified files get a ``<name>.sha256``
sidecar (sha256sum format) so later runs skip re-hashing multi-GB archives when size and mtime
are unchanged.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pooch
import requests
from tqdm.auto import tqdm

from hfpl.data.resource import Resource
from hfpl.io import sha256_file, write_text_atomic


class DownloadError(RuntimeError):
    """A file could not be obtained or verified; the message names the fix."""


class ResumableDownloader:
    """A pooch downloader that keeps a ``.part`` file between attempts and asks the server for
    the missing byte range (``Range: bytes=N-``); servers without range support restart it."""

    def __init__(self, part: Path, progressbar: bool = True, timeout: float = 60.0) -> None:
        self.part, self.progressbar, self.timeout = part, progressbar, timeout

    def __call__(self, url: str, output_file: str, pooch_obj: object, check_only: bool = False):
        if check_only:
            return requests.head(url, timeout=self.timeout, allow_redirects=True).ok
        offset = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as r:
            if r.status_code == 416:  # the part already holds every byte
                r.close()
            else:
                r.raise_for_status()
                if offset and r.status_code != 206:
                    offset = 0  # no range support: start over
                length = r.headers.get("content-length")
                total = offset + int(length) if length else None
                with (
                    open(self.part, "ab" if offset else "wb") as f,
                    tqdm(
                        total=total, initial=offset, unit="B", unit_scale=True,
                        desc=Path(output_file).name.lstrip("."), disable=not self.progressbar,
                    ) as bar,
                ):  # fmt: skip
                    for chunk in r.iter_content(chunk_size=1 << 16):  # small: a cut loses < 64 KiB
                        f.write(chunk)
                        bar.update(len(chunk))
                if total is not None and self.part.stat().st_size < total:
                    raise requests.ConnectionError(
                        f"transfer cut at {self.part.stat().st_size} of {total} bytes"
                    )
        shutil.copyfile(self.part, output_file)


def _known_hash(res: Resource) -> str | None:
    if res.sha256:
        return f"sha256:{res.sha256}"
    return f"md5:{res.md5}" if res.md5 else None


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _recorded(path: Path) -> str | None:
    """The sha256 recorded for ``path``, if the record is not older than the file."""
    side = _sidecar(path)
    if not side.exists() or side.stat().st_mtime < path.stat().st_mtime:
        return None
    digest, _, rest = side.read_text().partition("  ")
    return digest if rest.strip() == path.name else None


def record_sha256(path: Path, digest: str | None = None) -> str:
    """Write ``<path>.sha256`` (sha256sum format, atomically); return the digest."""
    digest = digest or sha256_file(path)
    write_text_atomic(_sidecar(path), f"{digest}  {path.name}\n")
    return digest


def verify(res: Resource, path: Path) -> str:
    """Check ``path`` against the resource's checksum; record and return its sha256.

    Raises DownloadError naming the file and the fix on a mismatch. Files without a published
    checksum are accepted and their sha256 recorded (a later change would then be noticed).
    """
    digest = _recorded(path) or sha256_file(path)
    problem = None
    if res.sha256 and digest != res.sha256:
        problem = f"sha256 {digest}, expected {res.sha256}"
    elif res.sha256_prefix and not digest.startswith(res.sha256_prefix):
        problem = f"sha256 {digest} does not start with {res.sha256_prefix}"
    elif res.md5 and not res.sha256:
        md5 = pooch.file_hash(str(path), alg="md5")
        if md5 != res.md5:
            problem = f"md5 {md5}, expected {res.md5}"
    if problem:
        raise DownloadError(
            f"{path} is not the expected {res.name} ({problem}): delete it and download it again"
            + (f" from {res.manual}" if res.manual else "")
        )
    return record_sha256(path, digest)


def manual_instructions(res: Resource, path: Path) -> str:
    """One message: which file is missing, where to get it and where to put it."""
    where = res.manual or " or ".join(res.urls)
    check = f" (sha256 {res.sha256} is checked)" if res.sha256 else ""
    return f"{res.name} not found: download it from {where} and put it at {path}{check}"


def fetch(
    res: Resource, folder: str | os.PathLike, *, retries: int = 3, progressbar: bool = True,
    backoff: float = 2.0,
) -> Path:  # fmt: skip
    """Return ``folder/<res.name>``, downloading and verifying it first if needed.

    Mirrors are tried in order, each up to ``retries`` times with the transfer resumed; a
    checksum mismatch discards the bytes and moves on to the next mirror. On failure raises
    DownloadError with one message (what failed where, and how to place the file by hand);
    nothing is left at the final path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / res.name
    if path.exists():
        verify(res, path)
        return path
    if not res.urls:
        raise DownloadError(manual_instructions(res, path))
    part = folder / f".{res.name}.part"
    failures = []
    for url in res.urls:
        for attempt in range(retries):
            try:
                pooch.retrieve(
                    url, _known_hash(res), fname=res.name, path=folder,
                    downloader=ResumableDownloader(part, progressbar), progressbar=progressbar,
                )  # fmt: skip
                part.unlink(missing_ok=True)
                verify(res, path)
                return path
            except ValueError as err:  # pooch: hash mismatch; the bytes are useless
                part.unlink(missing_ok=True)
                path.unlink(missing_ok=True)
                failures.append(f"{url}: {err}".splitlines()[0])
                break
            except DownloadError as err:  # prefix check failed
                part.unlink(missing_ok=True)
                path.unlink(missing_ok=True)
                failures.append(f"{url}: {err}")
                break
            except (requests.RequestException, OSError) as err:
                failures.append(f"{url} (attempt {attempt + 1}): {err}")
                if attempt + 1 < retries:
                    time.sleep(backoff * (attempt + 1))
    part.unlink(missing_ok=True)
    raise DownloadError(
        f"could not download {res.name}: {'; '.join(failures)}. " + manual_instructions(res, path)
    )
