"""A deterministic synthetic VOC2012-format dataset for smoke runs of the whole pipeline.

Each image has a smooth noisy background and 2-3 textured objects (ellipses, rectangles,
triangles) from at least 4 VOC classes; every class has its own colour and stripe texture, so
labels are learnable and object boundaries are real colour edges. Masks carry VOC's 255 void
band around object outlines. Same arguments -> byte-identical files.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from hfpl.classes import VOC_CLASSES
from hfpl.data.voc import VOID, write_label_png
from hfpl.io import building_dir

SMOKE_CLASSES = (1, 3, 8, 12, 15)
"""Label values used (aeroplane, bird, cat, dog, person); image i's first object is
SMOKE_CLASSES[i % 5], so a set of >= 5 images covers all of them."""

# one saturated RGB colour and stripe period (px) per smoke class
_STYLE = {1: ((220, 40, 40), 5), 3: ((40, 200, 60), 7), 8: ((40, 70, 230), 4),
          12: ((230, 200, 30), 9), 15: ((200, 50, 210), 6)}  # fmt: skip


def smoke_ids(n: int) -> list[str]:
    """``2007_000001`` .. in order (11-character VOC ids)."""
    return [f"2007_{i:06d}" for i in range(1, n + 1)]


def make_image(rng: np.random.Generator, index: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic image and its label map.

    Returns (image (H, W, 3) uint8 RGB, label (H, W) uint8 with 0 bg, class values, 255 void),
    with W = ``size`` and H in [3/4 size, size].
    """
    h, w = size - int(rng.integers(0, size // 4 + 1)), size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # greyish background with a slight tint, so every saturated class colour stands out
    base = (rng.uniform(70, 150) + rng.uniform(-20, 20, 3)).astype(np.float32)
    slope = rng.uniform(-0.6, 0.6, (2, 3)).astype(np.float32) * 96 / size
    img = base + yy[..., None] * slope[0] + xx[..., None] * slope[1]
    img += rng.normal(0, 8, (h, w, 3)).astype(np.float32)
    label = np.zeros((h, w), np.uint8)

    n_obj = int(rng.integers(2, 4))
    others = [c for c in SMOKE_CLASSES if c != SMOKE_CLASSES[index % len(SMOKE_CLASSES)]]
    classes = [SMOKE_CLASSES[index % len(SMOKE_CLASSES)], *rng.permutation(others)[: n_obj - 1]]
    for cls in classes:
        mask = np.zeros((h, w), np.uint8)
        cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
        ry, rx = rng.uniform(0.12, 0.3) * h, rng.uniform(0.12, 0.3) * w
        shape = int(rng.integers(0, 3))
        if shape == 0:
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(mask, (round(cx), round(cy)), (round(rx), round(ry)), angle, 0, 360, 1, -1)
        elif shape == 1:
            cv2.rectangle(
                mask, (round(cx - rx), round(cy - ry)), (round(cx + rx), round(cy + ry)), 1, -1
            )
        else:
            pts = np.array([[cx, cy - ry], [cx - rx, cy + ry], [cx + rx, cy + ry]], np.int32)
            cv2.fillPoly(mask, [pts], 1)
        colour, period = _STYLE[int(cls)]
        stripes = 0.75 + 0.25 * np.sin(2 * np.pi * (xx + yy * (cls % 3 - 1)) / period)
        tex = np.asarray(colour, np.float32) * stripes[..., None]
        tex += rng.normal(0, 6, (h, w, 3)).astype(np.float32)
        inside = mask.astype(bool)
        img[inside] = tex[inside]  # later objects occlude earlier ones
        label[inside] = cls

    # VOC's void band: pixels within `band` of an outline (object/background or object/object)
    band = max(1, size // 48)
    kernel = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    edges = cv2.dilate(label, kernel) != cv2.erode(label, kernel)
    label[edges] = VOID
    return np.clip(img, 0, 255).astype(np.uint8), label


def _annotation_xml(img_id: str, label: np.ndarray) -> bytes:
    """Minimal VOC XML: filename, size and one <object> per class present (with its box)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "VOC2012"
    ET.SubElement(root, "filename").text = f"{img_id}.jpg"
    size = ET.SubElement(root, "size")
    for tag, val in (("width", label.shape[1]), ("height", label.shape[0]), ("depth", 3)):
        ET.SubElement(size, tag).text = str(val)
    ET.SubElement(root, "segmented").text = "1"
    for cls in sorted(set(np.unique(label).tolist()) - {0, VOID}):
        ys, xs = np.nonzero(label == cls)
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = VOC_CLASSES[cls - 1]
        ET.SubElement(obj, "difficult").text = "0"
        box = ET.SubElement(obj, "bndbox")
        for tag, val in (
            ("xmin", xs.min()),
            ("ymin", ys.min()),
            ("xmax", xs.max()),
            ("ymax", ys.max()),
        ):
            ET.SubElement(box, tag).text = str(int(val) + 1)
    return ET.tostring(root)


def generate_voc_smoke(
    root: str | os.PathLike, images: int = 12, size: int = 80, seed: int = 0
) -> Path:
    """Write a synthetic VOC tree below the data root ``root``; return its VOC2012 folder.

    Layout: ``root/VOCdevkit/VOC2012/{JPEGImages, Annotations, SegmentationClass,
    SegmentationClassAug, ImageSets/Segmentation/{train,train_aug,val,trainval}.txt}``. Train is
    the first 2/3 of the ids (at least one), val the rest; train_aug = train. ``VOCdevkit`` is
    replaced atomically.
    """
    root = Path(root)
    ids = smoke_ids(images)
    n_train = max(1, round(images * 2 / 3))
    splits = {"train": ids[:n_train], "train_aug": ids[:n_train], "val": ids[n_train:]}
    with building_dir(root / "VOCdevkit") as devkit:
        voc = devkit / "VOC2012"
        for sub in ("JPEGImages", "Annotations", "SegmentationClass", "SegmentationClassAug"):
            (voc / sub).mkdir(parents=True)
        for index, img_id in enumerate(ids):
            rng = np.random.default_rng([seed, index])
            img, label = make_image(rng, index, size)
            Image.fromarray(img).save(voc / "JPEGImages" / f"{img_id}.jpg", quality=95)
            write_label_png(voc / "SegmentationClass" / f"{img_id}.png", label)
            write_label_png(voc / "SegmentationClassAug" / f"{img_id}.png", label)
            (voc / "Annotations" / f"{img_id}.xml").write_bytes(_annotation_xml(img_id, label))
        sets = voc / "ImageSets" / "Segmentation"
        sets.mkdir(parents=True)
        for split, split_ids in {**splits, "trainval": ids}.items():
            (sets / f"{split}.txt").write_text("".join(i + "\n" for i in split_ids))
    return root / "VOCdevkit" / "VOC2012"
