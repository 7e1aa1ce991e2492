"""Synthetic COCO 2014 smoke tree: determinism, layout, masks/images/annotations agree."""

from __future__ import annotations

import json
import re

import numpy as np
from PIL import Image
from tree_digest import tree_digests

from hfpl.classes import COCO_CATEGORIES
from hfpl.data.coco_smoke import generate_coco_smoke


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    for name, seed in [("a", 1), ("b", 1), ("c", 2)]:
        generate_coco_smoke(tmp_path / name, images=4, size=48, seed=seed)
    da, db, dc = (tree_digests(tmp_path / n) for n in "abc")
    assert da == db
    assert da.keys() == dc.keys() and da != dc


def test_categories_are_coco_80_in_id_order():
    ids = [cid for cid, _ in COCO_CATEGORIES]
    assert len(ids) == 80 == len({n for _, n in COCO_CATEGORIES}) and ids == sorted(ids)
    assert ids[0] == 1 and ids[-1] == 90
    assert set(range(1, 91)) - set(ids) == {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}


def test_layout_names_and_splits(tmp_path):
    coco = generate_coco_smoke(tmp_path, images=9, size=64, seed=0)
    assert coco == tmp_path / "coco"
    train = (coco / "ImageSets/train2014.txt").read_text().split()
    val = (coco / "ImageSets/val2014.txt").read_text().split()
    assert train == [f"COCO_train2014_{i:012d}" for i in range(1, 7)]
    assert val == [f"COCO_val2014_{i:012d}" for i in range(7, 10)]
    for split, names in [("train2014", train), ("val2014", val)]:
        assert sorted(p.name for p in (coco / split).iterdir()) == [f"{n}.jpg" for n in names]
        pngs = sorted(p.name for p in (coco / "SegmentationClass" / split).iterdir())
        assert pngs == [f"{n}.png" for n in names]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco"]  # no lists, no temp names
    assert not [p for p in coco.rglob(".*")]


def test_masks_images_and_annotations_agree(coco_root):
    coco = coco_root / "coco"
    index = {cid: k + 1 for k, cid in enumerate(sorted(c for c, _ in COCO_CATEGORIES))}
    seen = set()
    for split in ("train2014", "val2014"):
        ann = json.loads((coco / "annotations" / f"instances_{split}.json").read_text())
        assert len(ann["categories"]) == 80
        for info in ann["images"]:
            stem = info["file_name"][:-4]
            assert re.fullmatch(rf"COCO_{split}_\d{{12}}", stem) and int(stem[-12:]) == info["id"]
            label = np.array(Image.open(coco / "SegmentationClass" / split / f"{stem}.png"))
            jpg = np.array(Image.open(coco / split / f"{stem}.jpg"))
            assert jpg.shape == (info["height"], info["width"], 3) == (*label.shape, 3)
            values = set(np.unique(label).tolist()) - {0}
            annotated = {index[a["category_id"]] for a in ann["annotations"]
                         if a["image_id"] == info["id"]}  # fmt: skip
            assert values <= annotated and len(values) >= 2  # occlusion may hide one
            assert 0 in np.unique(label)  # no 255 on COCO
            bg = jpg[label == 0].mean(0)
            for v in values:
                assert np.linalg.norm(jpg[label == v].mean(0) - bg) > 40
            seen |= values
    assert 80 in seen and len(seen) >= 4
