"""PASCAL VOC 2012 conventions (class names, palette, label PNG I/O) and trainval extraction."""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

VOID = 255
"""Label value of VOC's unlabelled band around objects (ignored by every evaluation)."""


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
