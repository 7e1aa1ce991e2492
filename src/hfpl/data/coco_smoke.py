"""A deterministic synthetic COCO-2014-format dataset for CPU smoke runs of the COCO steps.

Each image gets 2-3 polygon objects (ellipse-like 16-gon, rectangle, triangle) of five COCO
categories, written as a real ``annotations/instances_<split>.json``; the pixel labels then go
through the production path (:func:`hfpl.data.coco.build_coco_labels`, pycocotools), and the
JPEG is painted from those labels (per-class colour and stripe texture on a noisy greyish
gradient), so images, masks, annotations and class labels agree. Same arguments ->
byte-identical files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from hfpl.classes import COCO_CATEGORIES
from hfpl.data.coco import build_coco_labels
from hfpl.data.voc import read_label_png
from hfpl.io import building_dir

SMOKE_COCO_CATEGORIES = (1, 16, 18, 59, 90)
"""Category ids used (person, bird, dog, pizza, toothbrush: label values 1, 15, 17, 54, 80, so
the highest label value occurs); image i's first object is SMOKE_COCO_CATEGORIES[i % 5]."""

_LABEL = {cid: k + 1 for k, (cid, _) in enumerate(COCO_CATEGORIES)}
# one saturated RGB colour and stripe period (px) per smoke label value
_STYLE = {1: ((220, 40, 40), 5), 15: ((40, 200, 60), 7), 17: ((40, 70, 230), 4),
          54: ((230, 200, 30), 9), 80: ((200, 50, 210), 6)}  # fmt: skip


def smoke_coco_names(n: int) -> dict[str, list[str]]:
    """{split: file stems}: image ids 1..n, the first 2/3 in train2014, the rest in val2014."""
    n_train = max(1, round(n * 2 / 3))
    return {
        "train2014": [f"COCO_train2014_{i:012d}" for i in range(1, n_train + 1)],
        "val2014": [f"COCO_val2014_{i:012d}" for i in range(n_train + 1, n + 1)],
    }


def _polygon(rng: np.random.Generator, h: int, w: int) -> list[float]:
    """One object outline as a flat COCO polygon [x1, y1, x2, y2, ...] (pixel coordinates)."""
    cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
    ry, rx = rng.uniform(0.12, 0.3) * h, rng.uniform(0.12, 0.3) * w
    shape = int(rng.integers(0, 3))
    if shape == 0:
        t = np.linspace(0, 2 * np.pi, 16, endpoint=False) + rng.uniform(0, np.pi)
        pts = np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)
    elif shape == 1:
        pts = np.array([[cx - rx, cy - ry], [cx + rx, cy - ry], [cx + rx, cy + ry],
                        [cx - rx, cy + ry]])  # fmt: skip
    else:
        pts = np.array([[cx, cy - ry], [cx - rx, cy + ry], [cx + rx, cy + ry]])
    return [round(float(v), 2) for v in pts.reshape(-1)]


def _annotations(names: list[str], first_index: int, size: int, seed: int) -> dict:
    """The instances JSON of one split (all 80 categories, images, polygon annotations)."""
    images, anns = [], []
    for k, name in enumerate(names):
        index = first_index + k
        rng = np.random.default_rng([seed, index])
        h, w = size - int(rng.integers(0, size // 4 + 1)), size
        img_id = int(name[-12:])
        images.append({"id": img_id, "file_name": f"{name}.jpg", "height": h, "width": w})
        first = SMOKE_COCO_CATEGORIES[index % len(SMOKE_COCO_CATEGORIES)]
        others = rng.permutation([c for c in SMOKE_COCO_CATEGORIES if c != first])
        for cid in [first, *others[: int(rng.integers(1, 3))]]:
            poly = _polygon(rng, h, w)
            xs, ys = poly[0::2], poly[1::2]
            box = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            anns.append({"id": len(anns) + 1 + 1000 * index, "image_id": img_id,
                         "category_id": int(cid), "iscrowd": 0, "segmentation": [poly],
                         "area": round(box[2] * box[3], 2), "bbox": box})  # fmt: skip
    cats = [{"id": cid, "name": name, "supercategory": "smoke"} for cid, name in COCO_CATEGORIES]
    return {"images": images, "annotations": anns, "categories": cats}


def paint_image(rng: np.random.Generator, label: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) for a label map (H, W): noisy greyish gradient background, each
    smoke class its own colour and stripe texture."""
    h, w = label.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = (rng.uniform(70, 150) + rng.uniform(-20, 20, 3)).astype(np.float32)
    slope = rng.uniform(-0.6, 0.6, (2, 3)).astype(np.float32) * 96 / w
    img = base + yy[..., None] * slope[0] + xx[..., None] * slope[1]
    img += rng.normal(0, 8, (h, w, 3)).astype(np.float32)
    for value, (colour, period) in _STYLE.items():
        inside = label == value
        stripes = 0.75 + 0.25 * np.sin(2 * np.pi * (xx + yy * (value % 3 - 1)) / period)
        tex = np.asarray(colour, np.float32) * stripes[..., None]
        img[inside] = tex[inside] + rng.normal(0, 6, (int(inside.sum()), 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def generate_coco_smoke(
    root: str | os.PathLike, images: int = 12, size: int = 80, seed: int = 0
) -> Path:
    """Write a synthetic COCO 2014 tree below the data root ``root``; return ``root/coco``.

    Layout: ``root/coco/{train2014,val2014}/COCO_<split>_<12 digits>.jpg``,
    ``root/coco/annotations/instances_<split>.json``,
    ``root/coco/SegmentationClass/<split>/<stem>.png`` (0 background, 1..80) and
    ``root/coco/ImageSets/<split>.txt``. The COCO folder is replaced atomically.
    """
    root = Path(root)
    splits = smoke_coco_names(images)
    with building_dir(root / "coco") as coco:
        first = 0
        for split, names in splits.items():
            ann = coco / "annotations" / f"instances_{split}.json"
            ann.parent.mkdir(parents=True, exist_ok=True)
            ann.write_text(json.dumps(_annotations(names, first, size, seed)))
            listing = coco / "ImageSets" / f"{split}.txt"
            build_coco_labels(ann, coco / "SegmentationClass" / split, listing, progressbar=False)
            (coco / split).mkdir()
            for k, name in enumerate(names):
                label = read_label_png(coco / "SegmentationClass" / split / f"{name}.png")
                # a generator of its own, so painting never shifts the annotation draws
                rng = np.random.default_rng([seed, first + k, 1])
                jpg = coco / split / f"{name}.jpg"
                Image.fromarray(paint_image(rng, label)).save(jpg, quality=95)
            first += len(names)
    return root / "coco"
