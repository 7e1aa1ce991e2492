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

from hfpl.data.atomic import building_dir, building_file
from hfpl.data.voc import write_label_png

COCO_SPLITS = {"train2014": 82_783, "val2014": 40_504}

COCO_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1, "person"), (2, "bicycle"), (3, "car"), (4, "motorcycle"), (5, "airplane"), (6, "bus"),
    (7, "train"), (8, "truck"), (9, "boat"), (10, "traffic light"), (11, "fire hydrant"),
    (13, "stop sign"), (14, "parking meter"), (15, "bench"), (16, "bird"), (17, "cat"),
    (18, "dog"), (19, "horse"), (20, "sheep"), (21, "cow"), (22, "elephant"), (23, "bear"),
    (24, "zebra"), (25, "giraffe"), (27, "backpack"), (28, "umbrella"), (31, "handbag"),
    (32, "tie"), (33, "suitcase"), (34, "frisbee"), (35, "skis"), (36, "snowboard"),
    (37, "sports ball"), (38, "kite"), (39, "baseball bat"), (40, "baseball glove"),
    (41, "skateboard"), (42, "surfboard"), (43, "tennis racket"), (44, "bottle"),
    (46, "wine glass"), (47, "cup"), (48, "fork"), (49, "knife"), (50, "spoon"), (51, "bowl"),
    (52, "banana"), (53, "apple"), (54, "sandwich"), (55, "orange"), (56, "broccoli"),
    (57, "carrot"), (58, "hot dog"), (59, "pizza"), (60, "donut"), (61, "cake"), (62, "chair"),
    (63, "couch"), (64, "potted plant"), (65, "bed"), (67, "dining table"), (70, "toilet"),
    (72, "tv"), (73, "laptop"), (74, "mouse"), (75, "remote"), (76, "keyboard"),
    (77, "cell phone"), (78, "microwave"), (79, "oven"), (80, "toaster"), (81, "sink"),
    (82, "refrigerator"), (84, "book"), (85, "clock"), (86, "vase"), (87, "scissors"),
    (88, "teddy bear"), (89, "hair drier"), (90, "toothbrush"),
)  # fmt: skip
"""COCO's 80 (category id, name) pairs, ascending id; label value ``k + 1`` is entry ``k``."""


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
