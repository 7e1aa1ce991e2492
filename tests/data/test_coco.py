"""COCO pixel labels from a tiny instance-annotation JSON written here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from hfpl.data.coco import build_coco_labels, mask_labels, read_coco_names
from hfpl.data.voc import read_label_png, write_label_png


@pytest.fixture
def ann_file(tmp_path):
    h, w = 10, 12
    crowd = np.zeros((h, w), np.uint8, order="F")
    crowd[6:9, 1:5] = 1
    rle = mask_utils.encode(np.asfortranarray(crowd))
    rle["counts"] = rle["counts"].decode()
    cats = [{"id": cid, "name": f"c{cid}", "supercategory": "x"} for cid in (90, 1, 18, 44)]
    anns = [  # polygons in file order; the second overlaps the first
        {"id": 1, "image_id": 7, "category_id": 18, "iscrowd": 0, "area": 1, "bbox": [0, 0, 1, 1],
         "segmentation": [[1, 1, 7, 1, 7, 5, 1, 5]]},
        {"id": 2, "image_id": 7, "category_id": 90, "iscrowd": 0, "area": 1, "bbox": [0, 0, 1, 1],
         "segmentation": [[4, 2, 10, 2, 10, 6, 4, 6]]},
        {"id": 3, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": 1, "bbox": [0, 0, 1, 1],
         "segmentation": rle},
    ]  # fmt: skip
    images = [
        {"id": 7, "height": h, "width": w, "file_name": "COCO_val2014_000000000007.jpg"},
        {"id": 3, "height": 4, "width": 5, "file_name": "COCO_val2014_000000000003.jpg"},
    ]
    path = tmp_path / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


BOXES = [((1, 1, 7, 5), 2), ((4, 2, 10, 6), 4)]  # polygon boxes, label (cat 18 -> 2, 90 -> 4)


def _expected() -> tuple[np.ndarray, np.ndarray]:
    """Independent painting (category ids sorted 1, 18, 44, 90 -> 1..4) and a mask of pixels
    within one pixel of a polygon outline, where rasterisers may legitimately differ."""
    exp = np.zeros((10, 12), np.uint8)
    near = np.zeros((10, 12), bool)
    ys, xs = np.mgrid[0:10, 0:12] + 0.5  # pixel centres
    for (x0, y0, x1, y1), value in BOXES:  # in file order: later over earlier
        exp[(xs > x0) & (xs < x1) & (ys > y0) & (ys < y1)] = value
        outer = (xs > x0 - 1) & (xs < x1 + 1) & (ys > y0 - 1) & (ys < y1 + 1)
        inner = (xs > x0 + 1) & (xs < x1 - 1) & (ys > y0 + 1) & (ys < y1 - 1)
        near |= outer & ~inner
    exp[6:9, 1:5] = 1  # crowd RLE, category 1, last
    near[6:9, 1:5] = False
    return exp, near


def test_pixel_labels_follow_the_conventions(ann_file, tmp_path):
    n = build_coco_labels(ann_file, tmp_path / "SegmentationClass", tmp_path / "val.txt",
                          progressbar=False)  # fmt: skip
    assert n == 2
    assert (tmp_path / "val.txt").read_text().split() == [
        "COCO_val2014_000000000003", "COCO_val2014_000000000007"]  # fmt: skip
    label = read_label_png(tmp_path / "SegmentationClass" / "COCO_val2014_000000000007.png")
    exp, near_outline = _expected()
    assert np.array_equal(label[~near_outline], exp[~near_outline])
    assert label[3, 5] == 4 and label[2, 2] == 2 and label[7, 2] == 1 and label[0, 11] == 0
    assert set(np.unique(label)) <= {0, 1, 2, 4}
    empty = read_label_png(tmp_path / "SegmentationClass" / "COCO_val2014_000000000003.png")
    assert empty.shape == (4, 5) and not empty.any()


def test_wrong_image_count_is_one_error_and_no_output(ann_file, tmp_path):
    with pytest.raises(ValueError, match="expected"):
        build_coco_labels(ann_file, tmp_path / "out", tmp_path / "l.txt", expected=82_783,
                          progressbar=False)  # fmt: skip
    assert not (tmp_path / "out").exists() and not (tmp_path / "l.txt").exists()


def test_names_are_checked(tmp_path):
    sets = tmp_path / "ImageSets"
    sets.mkdir()
    (sets / "val2014.txt").write_text("COCO_val2014_000000000007\n")
    assert read_coco_names(tmp_path, "val2014") == ["COCO_val2014_000000000007"]
    (sets / "train2014.txt").write_text("000000000009\n")
    with pytest.raises(ValueError, match="must look like COCO_train2014_000000000009"):
        read_coco_names(tmp_path, "train2014")


def test_mask_labels_are_the_values_present(tmp_path):
    write_label_png(tmp_path / "a.png", np.array([[0, 1, 80], [80, 0, 0]], np.uint8))
    labels = mask_labels(tmp_path / "a.png")
    assert labels.dtype == np.float32 and np.flatnonzero(labels).tolist() == [0, 79]
    write_label_png(tmp_path / "b.png", np.array([[81]], np.uint8))
    with pytest.raises(ValueError, match="outside 0..80"):
        mask_labels(tmp_path / "b.png")
