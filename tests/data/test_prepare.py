"""COCO preparation from tiny local zips (fetch and the expected counts stubbed): extraction,
pixel labels, ImageSets, idempotency; the manifest on top via the dataset registry."""

from __future__ import annotations

import json
import zipfile

import pytest

from hfpl.data import prepare
from hfpl.data.datasets import DATASETS
from hfpl.data.layout import MARKER
from hfpl.data.manifest import verify


@pytest.fixture
def archives(coco_root, tmp_path, monkeypatch):
    """The smoke COCO tree re-packed as the three 2014 zips; fetch returns them."""
    coco = coco_root / "coco"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    layout = {"annotations_trainval2014.zip": "annotations", "train2014.zip": "train2014",
              "val2014.zip": "val2014"}  # fmt: skip
    for name, top in layout.items():
        with zipfile.ZipFile(downloads / name, "w") as zf:
            for path in sorted((coco / top).iterdir()):
                zf.write(path, f"{top}/{path.name}")
    monkeypatch.setattr(prepare, "fetch", lambda res, folder: downloads / res.name)
    monkeypatch.setattr(prepare, "COCO_SPLITS", {"train2014": 6, "val2014": 3})
    return downloads


def test_prepare_coco_builds_the_smoke_tree_again(archives, coco_root, tmp_path):
    root = tmp_path / "data"
    assert prepare.prepare_coco(root, archives) == root / "coco"
    for rel in ["ImageSets/train2014.txt", "ImageSets/val2014.txt",
                "SegmentationClass/val2014/COCO_val2014_000000000009.png",
                "val2014/COCO_val2014_000000000009.jpg"]:  # fmt: skip
        assert (root / "coco" / rel).read_bytes() == (coco_root / "coco" / rel).read_bytes(), rel
    png = root / "coco/SegmentationClass/train2014/COCO_train2014_000000000001.png"
    mtime = png.stat().st_mtime_ns
    prepare.prepare_coco(root, archives)  # idempotent: nothing rebuilt
    assert png.stat().st_mtime_ns == mtime
    assert not [p for p in root.rglob(".*")]


def test_dataset_prepare_adds_the_manifest(archives, tmp_path):
    root = tmp_path / "data"
    manifest = DATASETS["coco"].prepare(root, archives)
    files = json.loads(manifest.read_text())["files"]
    assert manifest == root / MARKER and len(files) == 2 + 9 + 9 + 2  # ann, jpg, png, ImageSets
    verify(root)
