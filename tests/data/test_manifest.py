"""Content manifest: written last, verify names the first changed/missing/extra file and the
fix, fingerprint follows size and mtime."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest

from hfpl.data.layout import MARKER
from hfpl.data.manifest import DatasetChanged, fingerprint, verify, write_manifest

JPEG = "VOCdevkit/VOC2012/JPEGImages/2007_000008.jpg"  # a val image


@pytest.fixture
def root(voc_root, tmp_path):
    """A private copy of the VOC smoke data root (with its manifest)."""
    copy = tmp_path / "root"
    shutil.copytree(voc_root, copy)
    return copy


def test_manifest_lists_every_file_with_size_and_sha256(root):
    manifest = json.loads((root / MARKER).read_text())
    assert manifest["dataset"] == "voc"
    files = sorted(str(p.relative_to(root)) for p in (root / "VOCdevkit").rglob("*") if p.is_file())
    assert sorted(manifest["files"]) == files and len(files) == 9 * 4 + 4
    data = (root / JPEG).read_bytes()
    assert manifest["files"][JPEG] == [len(data), hashlib.sha256(data).hexdigest()]
    listing = json.dumps(manifest["files"], sort_keys=True, separators=(",", ":")).encode()
    assert manifest["digest"] == hashlib.sha256(listing).hexdigest()
    assert verify(root) == manifest["digest"]


def test_truncated_jpeg_fails_naming_it_and_restoring_passes(root):
    data = (root / JPEG).read_bytes()
    (root / JPEG).write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetChanged) as err:
        verify(root)
    msg = str(err.value)
    assert "\n" not in msg and str(root / JPEG) in msg
    assert f"restore it, or delete {root / 'VOCdevkit/VOC2012'} and {root / MARKER}" in msg
    (root / JPEG).write_bytes(data)
    verify(root)


def test_same_size_change_is_caught_by_the_hash(root):
    data = bytearray((root / JPEG).read_bytes())
    data[100] ^= 0xFF
    (root / JPEG).write_bytes(bytes(data))
    with pytest.raises(DatasetChanged, match=f"{JPEG} changed since the dataset was prepared"):
        verify(root)


def test_missing_and_extra_files(root):
    (root / JPEG).rename(root / "moved.jpg")
    with pytest.raises(DatasetChanged, match=f"{JPEG} is missing"):
        verify(root)
    (root / "moved.jpg").rename(root / JPEG)
    extra = root / "VOCdevkit/VOC2012/JPEGImages/2007_000099.jpg"
    extra.write_bytes(b"x")
    with pytest.raises(DatasetChanged, match="2007_000099.jpg is not in the prepared dataset's"):
        verify(root)
    (root / "lists").mkdir()  # outside the dataset's folder: not part of it
    (root / "lists" / "x.txt").write_text("x")
    extra.unlink()
    verify(root)


def test_no_or_edited_manifest(root):
    manifest = json.loads((root / MARKER).read_text())
    manifest["files"][JPEG][0] += 1
    (root / MARKER).write_text(json.dumps(manifest))
    with pytest.raises(DatasetChanged, match="was edited"):
        verify(root)
    (root / MARKER).unlink()
    with pytest.raises(DatasetChanged, match="not found: prepare the dataset first"):
        verify(root)


def test_fingerprint_follows_size_and_mtime(root):
    first = fingerprint(root)
    assert len(first) == 64 and fingerprint(root) == first
    st = (root / JPEG).stat()
    os.utime(root / JPEG, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    touched = fingerprint(root)
    assert touched != first
    with open(root / JPEG, "ab") as fh:
        fh.write(b"\0")
    os.utime(root / JPEG, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert fingerprint(root) not in (first, touched)
    (root / JPEG).unlink()
    assert fingerprint(root) not in (first, touched)  # a missing file is a change, not an error
    (root / MARKER).unlink()
    assert fingerprint(root) == ""


def test_write_manifest_needs_a_known_dataset_tree(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'kitti'"):
        write_manifest(tmp_path, "kitti")
    with pytest.raises(ValueError, match="coco not found"):
        write_manifest(tmp_path, "coco")
    assert not (tmp_path / MARKER).exists()
