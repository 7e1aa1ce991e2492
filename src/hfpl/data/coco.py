"""COCO 2014 pixel labels from the instance annotations (pycocotools), names and image labels.

Background 0, the 80 categories 1..80 in ascending category-id order, annotations painted in
file order (later ones over earlier ones), crowd RLEs decoded, no 255 (the authors' convention).
Images are named by their 2014 file stem (``COCO_train2014_000000000009``), the label PNGs too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from tqdm.auto import tqdm

from hfpl.classes import COCO_CATEGORIES
from hfpl.data.voc import read_label_png, write_label_png
from hfpl.io import building_dir, building_file

COCO_SPLITS = {"train2014": 82_783, "val2014": 40_504}

NAME_RE = re.compile(r"^COCO_(train|val)2014_\d{12}$")
"""COCO 2014 file stems: ``COCO_<split>2014_`` + the 12-digit zero-padded image id."""


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


def read_coco_names(coco_root: str | os.PathLike, split: str) -> list[str]:
    """Names of ``coco_root/ImageSets/<split>.txt`` (written by ``hfpl data coco``), checked to be
    ``COCO_<split>_<12 digits>``."""
    path = Path(coco_root) / "ImageSets" / f"{split}.txt"
    if not path.exists():
        raise ValueError(f"{path} not found: is {coco_root} a folder prepared by `hfpl data coco`?")
    names = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    bad = [n for n in names if not NAME_RE.match(n) or not n.startswith(f"COCO_{split}_")]
    if bad:
        raise ValueError(f"{path}: names must look like COCO_{split}_000000000009, got {bad[:3]}")
    return names


def mask_labels(label_png: str | os.PathLike) -> np.ndarray:
    """float32[80]: entry ``k`` is 1 where value ``k + 1`` occurs in the pixel labels (as the
    authors' ``make_cls_labels.py --dataset coco`` does: a category whose instances are fully
    painted over is not in the label). A missing PNG is one error naming the fix."""
    if not Path(label_png).exists():
        raise ValueError(f"{label_png} not found: rerun `hfpl data coco` (pixel labels)")
    values = np.unique(read_label_png(label_png))
    if values.max(initial=0) > len(COCO_CATEGORIES):
        raise ValueError(f"{label_png}: label value {values.max()} outside 0..80")
    labels = np.zeros(len(COCO_CATEGORIES), np.float32)
    labels[values[values > 0] - 1] = 1.0
    return labels
