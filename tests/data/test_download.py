"""Downloads against a local threaded HTTP server that can fail, cut transfers or lie."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from hfpl.data.download import DownloadError, fetch, verify
from hfpl.data.resource import Resource

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /good, honours Range; /down answers 503; /cut sends half of the bytes
    then closes on the first request (later ones are served whole); /bad serves other bytes."""

    server_version = "hfpl-test"
    cuts: dict[str, int] = {}
    requests_seen: list[tuple[str, str | None]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        self.requests_seen.append((self.path, rng))
        if self.path.startswith("/down"):
            self.send_error(503)
            return
        body = b"x" * len(PAYLOAD) if self.path.startswith("/bad") else PAYLOAD
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body) - start))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if self.path.startswith("/cut") and self.cuts.get(self.path, 0) < 1:
            self.cuts[self.path] = self.cuts.get(self.path, 0) + 1
            self.wfile.write(body[start : start + len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _res(*urls: str, sha256: str | None = hashlib.sha256(PAYLOAD).hexdigest()) -> Resource:
    return Resource("payload.bin", urls=urls, sha256=sha256, manual="the test")


def _fetch(res, folder):
    return fetch(res, folder, progressbar=False, backoff=0.0)


def test_download_verifies_and_records_sha256(server, tmp_path):
    path = _fetch(_res(f"{server}/good"), tmp_path)
    assert path.read_bytes() == PAYLOAD
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert (tmp_path / "payload.bin.sha256").read_text() == f"{digest}  payload.bin\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payload.bin", "payload.bin.sha256"]


def test_checksum_mismatch_raises_and_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError, match="could not download payload.bin"):
        _fetch(_res(f"{server}/bad"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_transfer_is_resumed(server, tmp_path):
    _Handler.requests_seen.clear()
    path = _fetch(_res(f"{server}/cut/a"), tmp_path)
    assert path.read_bytes() == PAYLOAD
    # the retry asked only for the missing bytes (the cut lost at most one 64 KiB read)
    (first, rng0), (second, rng1) = _Handler.requests_seen
    assert (first, second, rng0) == ("/cut/a", "/cut/a", None)
    offset = int(rng1.removeprefix("bytes=").removesuffix("-"))
    assert len(PAYLOAD) // 2 - 65536 <= offset <= len(PAYLOAD) // 2


def test_first_mirror_down_second_used(server, tmp_path):
    _Handler.requests_seen.clear()
    path = _fetch(_res(f"{server}/down", f"{server}/good"), tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert [p for p, _ in _Handler.requests_seen][-1] == "/good"


def test_all_mirrors_down_one_clear_error(server, tmp_path):
    with pytest.raises(DownloadError, match=r"put it at .*payload.bin") as err:
        _fetch(_res(f"{server}/down", f"{server}/down2"), tmp_path)
    assert "503" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_manual_file_missing_names_source_and_destination(tmp_path):
    res = Resource("w.pth", manual="Google Drive XYZ")
    with pytest.raises(DownloadError) as err:
        fetch(res, tmp_path)
    assert (
        str(err.value)
        == f"w.pth not found: download it from Google Drive XYZ and put it at {tmp_path / 'w.pth'}"
    )


def test_manual_file_present_is_verified_or_rejected(tmp_path):
    (tmp_path / "w.pth").write_bytes(PAYLOAD)
    good = Resource("w.pth", sha256_prefix=hashlib.sha256(PAYLOAD).hexdigest()[:8])
    assert fetch(good, tmp_path) == tmp_path / "w.pth"
    (tmp_path / "w.pth").write_bytes(b"tampered")
    with pytest.raises(DownloadError, match="delete it and download it again"):
        verify(good, Path(tmp_path / "w.pth"))


def test_unchecksummed_manual_file_gets_its_sha256_recorded(tmp_path):
    (tmp_path / "w.pth").write_bytes(PAYLOAD)
    fetch(Resource("w.pth", manual="x"), tmp_path)
    assert (tmp_path / "w.pth.sha256").read_text().split()[0] == hashlib.sha256(PAYLOAD).hexdigest()
