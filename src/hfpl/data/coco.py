"""COCO 2014 pixel labels from the instance annotations (pycocotools).

Background 0, the 80 categories 1..80 in ascending category-id order, annotations painted in
file order (later ones over earlier ones), crowd RLEs decoded, no 255 (the authors' convention).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from tqdm.auto import tqdm

from hfpl.io import building_dir, building_file
from hfpl.data.voc import write_label_png

COCO_SPLITS = {"train2014": 82_783, "val2014": 40_504}


def coco_label_map(coco: COCO, img_id: int) -> np.ndarray:
    """Label map (H, W) uint8 of one image (see module doc)."""
    info = coco.imgs[img_id]
    index = {cat: i + 1 for i, cat in enumerate(sorted(coco.getCatIds()))}
    label = np.zeros((info["height"], info["width"]), np.uint8)
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img_id], iscrowd=None)):
        label[coco.annToMask(ann).astype(bool)] = index[ann["category_id"]]
    return label


def image_name(coco: COCO, img_id: int, style: str = "stem") -> str:
    """``stem``: the image's file stem (``COCO_train2014_000000000009``, SIPE's names);
    ``id12``: the zero-padded id (``000000000009``, the authors' names)."""
    if style == "stem":
        return Path(coco.imgs[img_id]["file_name"]).stem
    if style == "id12":
        return f"{img_id:012d}"
    raise ValueError(f"name style must be 'stem' or 'id12', got {style!r}")


def build_coco_labels(
    ann_file: str | os.PathLike,
    out_dir: str | os.PathLike,
    list_file: str | os.PathLike,
    expected: int | None = None,
    style: str = "stem",
    progressbar: bool = True,
) -> int:
    """Write one label PNG per image of ``ann_file`` into ``out_dir`` (replaced atomically) and
    the image names to ``list_file`` (written last); return the image count.

    ``expected`` (e.g. COCO_SPLITS["train2014"]) is checked before any work when given.
    """
    coco = COCO(str(ann_file))
    if expected is not None and len(coco.getCatIds()) != 80:
        raise ValueError(f"{ann_file}: expected COCO's 80 categories, got {len(coco.getCatIds())}")
    ids = sorted(coco.getImgIds())
    if expected is not None and len(ids) != expected:
        raise ValueError(f"{ann_file} has {len(ids)} images, expected {expected}: wrong file?")
    names = []
    with building_dir(out_dir) as tmp:
        for img_id in tqdm(ids, desc=Path(out_dir).name, disable=not progressbar):
            names.append(image_name(coco, img_id, style))
            write_label_png(tmp / f"{names[-1]}.png", coco_label_map(coco, img_id))
    with building_file(list_file) as tmp:
        tmp.write_text("".join(n + "\n" for n in names))
    return len(ids)
