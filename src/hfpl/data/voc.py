"""PASCAL VOC 2012 conventions: palette and label PNG I/O, ids and splits, image-level labels,
and atomic trainval extraction."""

from __future__ import annotations

import os
import re
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from PIL import Image

from hfpl.classes import VOC_CLASSES

VOID = 255
"""Label value of VOC's unlabelled band around objects (ignored by every evaluation)."""

ID_RE = re.compile(r"^\d{4}_\d{6}$")
"""VOC ids are exactly 11 characters (``2007_000032``): upstream cuts names with [-15:-4]."""

SPLITS = ("train", "train_aug", "val", "test")
"""The splits of ``ImageSets/Segmentation`` (test optional: a manual download)."""


def voc_palette() -> np.ndarray:
    """VOC's colour map (bit-interleaved label index), as uint8 array of shape (256, 3)."""
    palette = np.zeros((256, 3), np.uint8)
    for label in range(256):
        c, r, g, b = label, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[label] = (r, g, b)
    return palette


def write_label_png(path: str | os.PathLike, label: np.ndarray) -> None:
    """Write a label map (H, W) uint8 as a VOC palette PNG (mode P; index = class value)."""
    label = np.asarray(label)
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ValueError(f"label must be a 2-D uint8 array, got {label.dtype} {label.shape}")
    img = Image.fromarray(label, mode="P")
    img.putpalette(voc_palette().tobytes())
    img.save(path, optimize=False)


def read_label_png(path: str | os.PathLike) -> np.ndarray:
    """Read a label PNG (palette or grayscale) as its index values, (H, W) uint8."""
    with Image.open(path) as img:
        if img.mode not in ("P", "L"):
            raise ValueError(f"{path}: label PNGs must be mode P or L, got {img.mode}")
        return np.asarray(img, dtype=np.uint8)


def extract_tar(archive: str | os.PathLike, dest: str | os.PathLike, marker: str) -> Path:
    """Extract ``archive`` into ``dest`` atomically; return ``dest / marker``.

    The archive is unpacked into a temp dir inside ``dest``; its files are then moved into place
    with ``marker`` moved last, so an interrupted run never leaves ``marker`` behind. Archives may
    share folders (VOC's trainval and test tars both fill ``VOCdevkit/VOC2012``). Skips the work
    when ``dest / marker`` already exists (idempotent).
    """
    dest = Path(dest)
    done = dest / marker
    if done.exists():
        return done
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        files = sorted(p.relative_to(tmp) for p in Path(tmp).rglob("*") if p.is_file())
        if Path(marker) not in files:
            raise ValueError(f"{archive} does not contain {marker}: is it the right archive?")
        files.remove(Path(marker))
        for rel in [*files, Path(marker)]:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(Path(tmp) / rel, dest / rel)
    return done


def read_ids(path: str | os.PathLike) -> list[str]:
    """Ids of a VOC ImageSets file (one per line), checked to be ``YYYY_NNNNNN``."""
    ids = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    bad = [i for i in ids if not ID_RE.match(i)]
    if bad:
        raise ValueError(
            f"{path}: ids must look like 2007_000032 (11 characters), got {bad[:3]}; "
            "upstream code cuts names at fixed offsets, so rename the images"
        )
    return ids


def read_splits(voc_root: str | os.PathLike) -> dict[str, list[str]]:
    """{split: ids} from ``voc_root/ImageSets/Segmentation``; train, train_aug, val required,
    test optional (absent from the result when its file is)."""
    sets = Path(voc_root) / "ImageSets" / "Segmentation"
    splits = {}
    for split in SPLITS:
        path = sets / f"{split}.txt"
        if path.exists():
            splits[split] = read_ids(path)
        elif split != "test":
            hint = (
                "run `hfpl data voc` (it builds train_aug from SBD)" if split == "train_aug" else ""
            )
            raise ValueError(f"{path} not found: is {voc_root} a prepared VOC2012 folder? {hint}")
    return splits


def image_labels(voc_root: str | os.PathLike, img_id: str) -> np.ndarray:
    """Image-level labels float32[20] of one image: the VOC classes named in its XML annotation
    (as upstream make_cls_labels.py does), else the classes present in its SegmentationClassAug
    mask."""
    root = Path(voc_root)
    labels = np.zeros(len(VOC_CLASSES), np.float32)
    xml = root / "Annotations" / f"{img_id}.xml"
    if xml.exists():
        for el in ET.parse(xml).getroot().iter("name"):
            name = (el.text or "").strip()
            if name in VOC_CLASSES:
                labels[VOC_CLASSES.index(name)] = 1.0
        return labels
    mask_path = root / "SegmentationClassAug" / f"{img_id}.png"
    if not mask_path.exists():
        raise ValueError(f"no label source for {img_id}: neither {xml} nor {mask_path} exists")
    values = np.unique(read_label_png(mask_path))
    for v in values[(values > 0) & (values != VOID)]:
        if v > len(VOC_CLASSES):
            raise ValueError(f"{mask_path}: label value {v} outside 0..20 and 255")
        labels[v - 1] = 1.0
    return labels
