"""Synthetic smoke dataset: determinism and VOC format checks; per-method list files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from tree_digest import tree_digests

from hfpl.classes import VOC_CLASSES
from hfpl.cli import main
from hfpl.data.smoke import SMOKE_CLASSES, generate_smoke
from hfpl.data.voc import voc_palette


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    assert main(["smoke-data", "--out", str(out), "--images", "9", "--size", "64"]) == 0
    return out


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = (generate_smoke(tmp_path / n, images=5, size=48, seed=s) for n, s in
               [("a", 1), ("b", 1), ("c", 2)])  # fmt: skip
    assert tree_digests(tmp_path / "a") == tree_digests(tmp_path / "b")
    da, dc = tree_digests(tmp_path / "a"), tree_digests(tmp_path / "c")
    assert da.keys() == dc.keys() and da != dc


def test_layout_ids_and_splits(smoke):
    voc = smoke / "VOCdevkit" / "VOC2012"
    sets = voc / "ImageSets" / "Segmentation"
    train, val = (
        sets.joinpath("train.txt").read_text().split(),
        sets.joinpath("val.txt").read_text().split(),
    )
    assert train == [f"2007_{i:06d}" for i in range(1, 7)] and len(val) == 3
    assert sets.joinpath("train_aug.txt").read_text().split() == train
    assert all(len(i) == 11 for i in train + val)
    for sub, ext in [("JPEGImages", "jpg"), ("SegmentationClass", "png"),
                     ("SegmentationClassAug", "png"), ("Annotations", "xml")]:  # fmt: skip
        assert sorted(p.name for p in (voc / sub).iterdir()) == [f"{i}.{ext}" for i in train + val]
    params = json.loads((smoke / "smoke.json").read_text())
    assert params["images"] == 9 and params["size"] == 64
    assert not [p for p in smoke.rglob(".*")]  # no temp leftovers


def test_masks_are_voc_palette_pngs_with_void_band(smoke):
    voc = smoke / "VOCdevkit" / "VOC2012"
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


def test_class_labels_match_masks_and_xml(smoke):
    voc = smoke / "VOCdevkit" / "VOC2012"
    lists = smoke / "lists"
    labels = np.load(lists / "seam/voc12/cls_labels.npy", allow_pickle=True).item()
    irn = np.load(lists / "irn/voc12/cls_labels.npy", allow_pickle=True).item()
    assert len(labels) == 9 and len(irn) == 9
    for img_id, vec in labels.items():
        assert vec.dtype == np.float32 and vec.shape == (20,)
        mask = np.array(Image.open(voc / "SegmentationClassAug" / f"{img_id}.png"))
        present = sorted(set(np.unique(mask).tolist()) - {0, 255})
        assert np.flatnonzero(vec).tolist() == [v - 1 for v in present]
        names = [e.text for e in ET.parse(voc / "Annotations" / f"{img_id}.xml").iter("name")]
        assert sorted(names) == sorted(VOC_CLASSES[v - 1] for v in present)
        assert np.array_equal(irn[int(img_id.replace("_", ""))], vec)
    assert all(isinstance(k, np.int32) for k in irn)
    prior = np.load(lists / "spatial-bce/datasets/voc12_init.npy", allow_pickle=True).item()
    assert set(prior) == set(labels)
    assert all(len(v) == 20 and all(0 <= x < 1 for x in v) for v in prior.values())


def test_method_list_formats(smoke):
    lists = smoke / "lists"
    ids = (smoke / "VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt").read_text().split()
    path_lines = [f"/JPEGImages/{i}.jpg /SegmentationClassAug/{i}.png" for i in ids]
    for rel in ["seam/voc12/train_aug.txt", "pmm/voc12/train_aug.txt", "sipe/data/trainaug_voc.txt",
                "mctformer/psa/voc12/train_aug.txt", "spatial-bce/datasets/train_aug.txt",
                "deeplab-pytorch/ImageSets/SegmentationAug/train_aug.txt"]:  # fmt: skip
        assert (lists / rel).read_text().splitlines() == path_lines, rel
    for rel in ["mctformer/voc12/train_aug_id.txt", "irn/voc12/train_aug.txt",
                "codebase/ImageSets/Segmentation/trainaug.txt"]:  # fmt: skip
        assert (lists / rel).read_text().splitlines() == ids, rel
    # upstream cuts names with [-15:-4] (SEAM) and [12:-4] (Spatial-BCE)
    assert [ln.split(" ")[0][-15:-4] for ln in path_lines] == ids
    assert [ln.split(" ")[0][12:-4] for ln in path_lines] == ids


def test_bad_arguments_one_error_no_output(tmp_path, capsys):
    assert main(["smoke-data", "--out", str(tmp_path / "s"), "--images", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hfpl: need --images >= 3")
    assert not (tmp_path / "s").exists()
