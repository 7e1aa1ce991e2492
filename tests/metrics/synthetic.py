"""Synthetic label maps for the evaluator tests and ``benchmarks/bench_eval.py``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def random_blobs(rng: np.random.Generator, shape, num_classes: int, n_blobs: int) -> np.ndarray:
    """int64 (H, W) map of ``n_blobs`` random rectangles and ellipses of classes 1..K."""
    m = np.zeros(shape, np.int64)
    h, w = shape
    for _ in range(n_blobs):
        c = int(rng.integers(1, num_classes))
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        dy, dx = int(rng.integers(1, h // 2 + 2)), int(rng.integers(1, w // 2 + 2))
        if rng.random() < 0.5:
            m[y : y + dy, x : x + dx] = c
        else:
            canvas = np.zeros(shape, np.uint8)
            cv2.ellipse(
                canvas, (x, y), (dx // 2, dy // 2), float(rng.uniform(0, 180)), 0, 360, 1, -1
            )
            m[canvas > 0] = c
    return m


def perturb(rng: np.random.Generator, gt: np.ndarray, num_classes: int) -> np.ndarray:
    """A prediction near ``gt``: shifted, with a spurious blob and salt noise drawn from the
    classes now in the image (predictions, like VOC images, hold few classes)."""
    pred = np.roll(np.where(gt == 255, 0, gt), tuple(rng.integers(-6, 7, 2)), axis=(0, 1))
    extra = random_blobs(rng, gt.shape, num_classes, 1)
    pred = np.where(extra > 0, extra, pred)
    noise = rng.random(gt.shape) < 0.002
    pred[noise] = rng.choice(np.unique(pred), int(noise.sum()))
    return pred


def void_edges(gt: np.ndarray) -> np.ndarray:
    """GT with a 255 band on object boundaries, as in VOC annotations."""
    edges = cv2.morphologyEx(gt.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return np.where(edges > 0, 255, gt)


def write_png(path: Path, labels: np.ndarray, palette: bool = False) -> None:
    """Save a label map as an L-mode PNG, or a P-mode one (indices kept) with ``palette``."""
    img = Image.fromarray(labels.astype(np.uint8))
    if palette:
        img.putpalette([v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)])
    img.save(path)
