"""Synthetic COCO 2014 smoke tree and the COCO list/class-label files (SEAM's format)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image
from tree_digest import tree_digests

from hfpl.classes import COCO_CATEGORIES
from hfpl.cli import main
from hfpl.data.coco_smoke import generate_coco_smoke


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("coco-smoke")
    argv = ["smoke-data", "--out", str(out), "--images", "9", "--size", "64", "--dataset", "coco"]
    assert main(argv) == 0
    return out


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


def test_layout_names_and_splits(smoke):
    coco = smoke / "coco"
    train = (coco / "ImageSets/train2014.txt").read_text().split()
    val = (coco / "ImageSets/val2014.txt").read_text().split()
    assert train == [f"COCO_train2014_{i:012d}" for i in range(1, 7)]
    assert val == [f"COCO_val2014_{i:012d}" for i in range(7, 10)]
    for split, names in [("train2014", train), ("val2014", val)]:
        assert sorted(p.name for p in (coco / split).iterdir()) == [f"{n}.jpg" for n in names]
        pngs = sorted(p.name for p in (coco / "SegmentationClass" / split).iterdir())
        assert pngs == [f"{n}.png" for n in names]
    assert json.loads((smoke / "smoke-coco.json").read_text())["images"] == 9
    assert not [p for p in smoke.rglob(".*")]  # no temp leftovers
    assert not (smoke / "VOCdevkit").exists()  # only the requested dataset


def test_masks_images_and_annotations_agree(smoke):
    coco = smoke / "coco"
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


def test_seam_lists_and_class_labels(smoke):
    lists = smoke / "lists" / "seam" / "coco"
    labels = np.load(lists / "cls_labels.npy", allow_pickle=True).item()
    coco = smoke / "coco"
    names = []
    for split in ("train2014", "val2014"):
        split_names = (coco / "ImageSets" / f"{split}.txt").read_text().split()
        lines = (lists / f"{split}.txt").read_text().splitlines()
        assert lines == [
            f"/{split}/{n}.jpg /SegmentationClass/{split}/{n}.png" for n in split_names
        ]
        for line in lines:  # both paths resolve below the COCO root
            img, gt = line.split(" ")
            assert (coco / img[1:]).is_file() and (coco / gt[1:]).is_file()
        names += split_names
    assert list(labels) == names
    for name, vec in labels.items():
        assert vec.dtype == np.float32 and vec.shape == (80,)
        split = name.split("_")[1]
        mask = np.array(Image.open(coco / "SegmentationClass" / split / f"{name}.png"))
        present = sorted(set(np.unique(mask).tolist()) - {0})
        assert np.flatnonzero(vec).tolist() == [v - 1 for v in present]


def test_lists_cli_from_a_coco_root_keeps_other_lists(smoke, tmp_path):
    out = tmp_path / "lists"
    (out / "irn").mkdir(parents=True)
    assert main(["data", "lists", "--coco-root", str(smoke / "coco"), "--out", str(out)]) == 0
    for f in ("train2014.txt", "val2014.txt", "cls_labels.npy"):
        ref = smoke / "lists" / "seam" / "coco" / f
        assert (out / "seam" / "coco" / f).read_bytes() == ref.read_bytes()
    assert (out / "irn").is_dir()


def test_bad_coco_root_one_error_no_output(tmp_path, capsys):
    sets = tmp_path / "coco" / "ImageSets"
    sets.mkdir(parents=True)
    (sets / "train2014.txt").write_text("000000000009\n")
    (sets / "val2014.txt").write_text("")
    out = tmp_path / "lists"
    assert main(["data", "lists", "--coco-root", str(tmp_path / "coco"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "COCO_train2014_000000000009" in err[0]
    assert not out.exists()
    with pytest.raises(SystemExit):  # neither --voc-root nor --coco-root: argparse usage error
        main(["data", "lists", "--out", str(out)])


def test_bad_arguments_one_error_no_output(tmp_path, capsys):
    argv = ["smoke-data", "--out", str(tmp_path / "s"), "--images", "2", "--dataset", "coco"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hfpl: need --images >= 3")
    assert not (tmp_path / "s").exists()
