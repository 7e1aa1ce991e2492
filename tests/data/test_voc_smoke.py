"""Synthetic VOC smoke tree: determinism and VOC format checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image
from tree_digest import tree_digests

from hfpl.classes import VOC_CLASSES
from hfpl.data.voc import voc_palette
from hfpl.data.voc_smoke import SMOKE_CLASSES, generate_voc_smoke


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    for name, seed in [("a", 1), ("b", 1), ("c", 2)]:
        generate_voc_smoke(tmp_path / name, images=5, size=48, seed=seed)
    da, db, dc = (tree_digests(tmp_path / n) for n in "abc")
    assert da == db
    assert da.keys() == dc.keys() and da != dc


def test_layout_ids_and_splits(tmp_path):
    voc = generate_voc_smoke(tmp_path, images=9, size=64, seed=0)
    assert voc == tmp_path / "VOCdevkit" / "VOC2012"
    sets = voc / "ImageSets" / "Segmentation"
    train, val = (sets / "train.txt").read_text().split(), (sets / "val.txt").read_text().split()
    assert train == [f"2007_{i:06d}" for i in range(1, 7)] and len(val) == 3
    assert (sets / "train_aug.txt").read_text().split() == train
    assert (sets / "trainval.txt").read_text().split() == train + val
    assert all(len(i) == 11 for i in train + val)
    for sub, ext in [("JPEGImages", "jpg"), ("SegmentationClass", "png"),
                     ("SegmentationClassAug", "png"), ("Annotations", "xml")]:  # fmt: skip
        assert sorted(p.name for p in (voc / sub).iterdir()) == [f"{i}.{ext}" for i in train + val]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["VOCdevkit"]  # no lists, no temp names


def test_masks_are_voc_palette_pngs_with_void_band(voc_root):
    voc = voc_root / "VOCdevkit" / "VOC2012"
    seen = set()
    for png in sorted((voc / "SegmentationClass").iterdir()):
        img = Image.open(png)
        assert img.mode == "P"
        assert np.array_equal(np.array(img.getpalette()).reshape(-1, 3)[:256], voc_palette())
        label = np.array(img)
        values = set(np.unique(label).tolist())
        assert values <= {0, 255, *SMOKE_CLASSES} and 255 in values
        assert len(values - {0, 255}) >= 2
        seen |= values - {0, 255}
        # void band: every class change between 4-neighbours passes through 255
        for a, b in [(label[:, :-1], label[:, 1:]), (label[:-1], label[1:])]:
            change = a != b
            assert np.all((a[change] == 255) | (b[change] == 255))
        jpg = np.array(Image.open(voc / "JPEGImages" / f"{png.stem}.jpg"))
        assert jpg.shape[:2] == label.shape and jpg.shape[1] == 64
        # objects differ in colour from the background (real colour edges)
        bg = jpg[label == 0].mean(0)
        for v in values - {0, 255}:
            assert np.linalg.norm(jpg[label == v].mean(0) - bg) > 40
        aug = np.array(Image.open(voc / "SegmentationClassAug" / png.name))
        assert np.array_equal(aug, label)
    assert len(seen) >= 4


def test_xml_annotations_name_the_classes_in_the_mask(voc_root):
    voc = voc_root / "VOCdevkit" / "VOC2012"
    for xml in sorted((voc / "Annotations").iterdir()):
        mask = np.array(Image.open(voc / "SegmentationClassAug" / f"{xml.stem}.png"))
        present = sorted(set(np.unique(mask).tolist()) - {0, 255})
        names = [e.text for e in ET.parse(xml).iter("name")]
        assert sorted(names) == sorted(VOC_CLASSES[v - 1] for v in present)
