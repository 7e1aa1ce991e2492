"""The dataset registry: one test per entry (paths, splits, image labels), then the shared
smoke/prepare behaviour (argument checks, manifest written last, verify before re-preparing)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from hfpl.data import datasets
from hfpl.data.datasets import DATASETS
from hfpl.data.layout import MARKER
from hfpl.data.manifest import DatasetChanged, verify


def test_registry_holds_exactly_the_tested_kinds():
    assert list(DATASETS) == ["voc", "coco"]  # a new kind needs its own test below


def test_voc(voc_root):
    voc = DATASETS["voc"]
    assert (voc.base, voc.num_fg) == ("VOCdevkit/VOC2012", 20)
    assert voc.split_names == ("train", "train_aug", "val", "test")
    splits = voc.splits(voc_root)
    ids = [f"2007_{i:06d}" for i in range(1, 10)]
    assert splits == {"train": ids[:6], "train_aug": ids[:6], "val": ids[6:]}  # no test
    assert voc.image("val", "2007_000007") == "JPEGImages/2007_000007.jpg"
    assert voc.label("val", "2007_000007") == "SegmentationClassAug/2007_000007.png"
    base = voc_root / voc.base
    for split, i in [("train", ids[0]), ("val", ids[-1])]:
        labels = voc.image_labels(base, split, i)
        mask = np.array(Image.open(base / voc.label(split, i)))
        present = sorted(set(np.unique(mask).tolist()) - {0, 255})
        assert labels.dtype == np.float32 and labels.shape == (20,)
        assert np.flatnonzero(labels).tolist() == [v - 1 for v in present]


def test_voc_labels_fall_back_to_the_mask_without_xml(voc_root, tmp_path):
    base = tmp_path / "VOC2012"
    (base / "SegmentationClassAug").mkdir(parents=True)
    src = voc_root / "VOCdevkit/VOC2012/SegmentationClassAug/2007_000001.png"
    (base / "SegmentationClassAug" / src.name).write_bytes(src.read_bytes())
    from_mask = DATASETS["voc"].image_labels(base, "train", "2007_000001")
    from_xml = DATASETS["voc"].image_labels(voc_root / "VOCdevkit/VOC2012", "train", "2007_000001")
    assert np.array_equal(from_mask, from_xml)


def test_coco(coco_root):
    coco = DATASETS["coco"]
    assert (coco.base, coco.num_fg, coco.split_names) == ("coco", 80, ("train2014", "val2014"))
    splits = coco.splits(coco_root)
    assert splits["train2014"] == [f"COCO_train2014_{i:012d}" for i in range(1, 7)]
    assert splits["val2014"] == [f"COCO_val2014_{i:012d}" for i in range(7, 10)]
    name = "COCO_val2014_000000000007"
    assert coco.image("val2014", name) == f"val2014/{name}.jpg"
    assert coco.label("val2014", name) == f"SegmentationClass/val2014/{name}.png"
    base = coco_root / "coco"
    labels = coco.image_labels(base, "val2014", name)
    mask = np.array(Image.open(base / coco.label("val2014", name)))
    assert labels.dtype == np.float32 and labels.shape == (80,)
    assert np.flatnonzero(labels).tolist() == [v - 1 for v in sorted(set(mask.ravel()) - {0})]


def test_coco_missing_label_png_names_the_fix(coco_root):
    with pytest.raises(ValueError, match="not found: rerun `hfpl data coco`"):
        DATASETS["coco"].image_labels(coco_root / "coco", "val2014", "COCO_val2014_000000000099")


@pytest.mark.parametrize("kind", list(DATASETS))
def test_smoke_rejects_too_small_arguments_naming_the_smallest_valid_value(kind, tmp_path):
    with pytest.raises(ValueError, match="use --images 3 or more"):
        DATASETS[kind].smoke(tmp_path / "r", images=2, size=64, seed=0)
    with pytest.raises(ValueError, match="use --size 32 or more"):
        DATASETS[kind].smoke(tmp_path / "r", images=3, size=31, seed=0)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("kind", list(DATASETS))
def test_smoke_writes_one_tree_and_the_manifest_last(kind, tmp_path):
    manifest = DATASETS[kind].smoke(tmp_path, images=3, size=32, seed=0)
    assert manifest == tmp_path / MARKER
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [MARKER, DATASETS[kind].base.split("/")[0]]
    )
    assert json.loads(manifest.read_text())["dataset"] == kind
    verify(tmp_path)


def test_prepare_verifies_an_existing_dataset_before_writing_a_new_manifest(tmp_path):
    calls = []

    def build(root, downloads, test=False):  # stands in for the archive download + extraction
        calls.append(test)
        images = root / "VOCdevkit/VOC2012/JPEGImages"
        images.mkdir(parents=True, exist_ok=True)
        (images / "a.jpg").write_bytes(b"jpeg")
        if test:
            (images / "t.jpg").write_bytes(b"test")

    voc = dataclasses.replace(DATASETS["voc"], build=build)
    assert voc.prepare(tmp_path, tmp_path / "downloads") == tmp_path / MARKER
    voc.prepare(tmp_path, tmp_path / "downloads", test=True)  # completes it, new manifest
    assert (
        "VOCdevkit/VOC2012/JPEGImages/t.jpg" in json.loads((tmp_path / MARKER).read_text())["files"]
    )
    (tmp_path / "VOCdevkit/VOC2012/JPEGImages/a.jpg").write_bytes(b"jpe")  # truncated
    with pytest.raises(DatasetChanged, match="a.jpg"):
        voc.prepare(tmp_path, tmp_path / "downloads")
    assert calls == [False, True] and (tmp_path / MARKER).exists()  # the old manifest stays


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'cityscapes'; known: voc, coco"):
        datasets.get("cityscapes")
