"""COCO 2014 list and class-label files for the methods that run on COCO (SEAM, Table 3).

Format of the authors' SEAM-on-COCO code (arvijj/hfpl ``coco/val2014.txt``, ``cls_labels.npy``):
one line per image ``<image path> <label path>``, both relative to the COCO root and starting
with ``/``; class labels ``{name: float32[80]}`` over train + val, entry ``k`` set when label
value ``k + 1`` occurs in the image's pixel labels (as their ``make_cls_labels.py --dataset coco``
does). Names are the 2014 file stems (``COCO_train2014_000000000009``), which are also the names of
our pixel-label PNGs; the authors' ids (``000000000009``) name files of their own re-packed 2017
image folder, which we do not build. Layout below ``out``::

    seam/coco/{train2014,val2014}.txt, cls_labels.npy
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from hfpl.classes import COCO_CATEGORIES
from hfpl.io import building_dir
from hfpl.data.coco import COCO_SPLITS
from hfpl.data.voc import read_label_png

NAME_RE = re.compile(r"^COCO_(train|val)2014_\d{12}$")
"""COCO 2014 file stems: ``COCO_<split>2014_`` + the 12-digit zero-padded image id."""

SEAM_DIR = Path("seam") / "coco"


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
    """float32[80]: entry ``k`` is 1 where value ``k + 1`` occurs in the pixel labels."""
    values = np.unique(read_label_png(label_png))
    if values.max(initial=0) > len(COCO_CATEGORIES):
        raise ValueError(f"{label_png}: label value {values.max()} outside 0..80")
    labels = np.zeros(len(COCO_CATEGORIES), np.float32)
    labels[values[values > 0] - 1] = 1.0
    return labels


def write_coco_lists(coco_root: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``out_dir/seam/coco/`` (layout above) from ``coco_root``'s ImageSets and
    ``SegmentationClass/<split>/<name>.png``; that folder is swapped in whole (other methods'
    files in ``out_dir`` are left alone). Returns ``out_dir``."""
    root = Path(coco_root)
    splits = {split: read_coco_names(root, split) for split in COCO_SPLITS}
    labels = {}
    for split, names in splits.items():
        for name in names:
            png = root / "SegmentationClass" / split / f"{name}.png"
            if not png.exists():
                raise ValueError(f"{png} not found: rerun `hfpl data coco` (pixel labels)")
            labels[name] = mask_labels(png)
    out = Path(out_dir)
    with building_dir(out / SEAM_DIR) as tmp:
        for split, names in splits.items():
            lines = (f"/{split}/{n}.jpg /SegmentationClass/{split}/{n}.png\n" for n in names)
            (tmp / f"{split}.txt").write_text("".join(lines))
        np.save(tmp / "cls_labels.npy", labels, allow_pickle=True)
    return out
