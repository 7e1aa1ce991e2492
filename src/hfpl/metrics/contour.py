"""Contour accuracy F: the authors' dataset-accumulated, per-foreground-class definition.

Adapted from the DAVIS benchmark (docs/evaluation.md): per image and foreground
class c, G = (gt == c), P = (pred == c) with void GT pixels set to background first;
m1 = sum B(G) * dil(B(P)), m2 = sum B(P) * dil(B(G)), nG = sum B(G), nP = sum B(P), where B is
``seg2bmap`` and dil a dilation by a disk of radius ``boundary_radius(H, W)``. The four counts are
summed per class over the dataset; F per class comes from those sums, and F is their mean.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from hfpl.metrics.confusion import VOID

BOUND_TH = 0.008  # DAVIS bound_th: the tolerance as a fraction of the image diagonal

# rows of the (4, K) contour state
M1, M2, N_G, N_P = range(4)


def seg2bmap(mask: np.ndarray) -> np.ndarray:
    """DAVIS ``_seg2bmap`` at the mask's own size: bool (H, W) -> bool (H, W) boundary map.

    b = (m xor right) | (m xor below) | (m xor below-right), neighbours beyond the image are 0;
    on the last row only ``m xor right``, on the last column only ``m xor below``, and the
    bottom-right pixel is 0.
    """
    m = mask.astype(bool, copy=False)
    padded = np.zeros((m.shape[0] + 1, m.shape[1] + 1), dtype=bool)
    padded[:-1, :-1] = m
    right, below, below_right = padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]
    b = (m ^ right) | (m ^ below) | (m ^ below_right)
    b[-1, :] = m[-1, :] ^ right[-1, :]
    b[:, -1] = m[:, -1] ^ below[:, -1]
    b[-1, -1] = False
    return b


def boundary_radius(height: int, width: int) -> int:
    """Dilation radius in pixels: ceil(0.008 * diagonal); 500x375 -> 5, 640x480 -> 7."""
    return math.ceil(BOUND_TH * math.sqrt(height * height + width * width))


def disk(radius: int) -> np.ndarray:
    """Structuring element {(x, y): x^2 + y^2 <= r^2}: uint8 (2r+1, 2r+1)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)


def _dilate(boundary: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Binary dilation of a bool map with zero border (cv2 on a uint8 view, no copy)."""
    out = cv2.dilate(boundary.view(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return out.view(bool)


class GtContours:
    """The GT side of one image's contour terms, cached so a threshold sweep reuses it.

    ``gt``: integer (H, W) label map, values 0..num_classes-1 or 255 (void -> background).
    """

    def __init__(self, gt: np.ndarray, num_classes: int) -> None:
        self.num_classes = num_classes
        self.gt = np.where(gt == VOID, 0, gt)
        self.kernel = disk(boundary_radius(*gt.shape))
        self.present = np.bincount(self.gt.ravel(), minlength=num_classes) > 0
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _gt_side(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """(B(G), dil(B(G))) for class c, computed once."""
        if c not in self._cache:
            b = seg2bmap(self.gt == c)
            self._cache[c] = (b, _dilate(b, self.kernel))
        return self._cache[c]

    def terms(self, pred: np.ndarray) -> np.ndarray:
        """Contour terms of ``pred`` (H, W) against this GT: int64 (4, K), rows m1, m2, nG, nP."""
        pred_present = np.bincount(pred.ravel(), minlength=self.num_classes) > 0
        return self.terms_of_masks({c: pred == c for c in np.flatnonzero(pred_present[1:]) + 1})

    def terms_of_masks(self, masks: dict[int, np.ndarray]) -> np.ndarray:
        """Contour terms from the prediction's non-empty class masks {class c >= 1: bool (H, W)}.

        Only classes present in G or P are visited; a class in just one of them needs no
        dilation (its m1 and m2 are 0).
        """
        out = np.zeros((4, self.num_classes - 1), dtype=np.int64)
        for c in sorted({*masks, *(np.flatnonzero(self.present[1:]) + 1)}):
            col = c - 1
            if c in masks:
                b_pred = seg2bmap(masks[c])
                out[N_P, col] = np.count_nonzero(b_pred)
            if self.present[c]:
                b_gt, dil_gt = self._gt_side(c)
                out[N_G, col] = np.count_nonzero(b_gt)
            if c in masks and self.present[c]:
                out[M1, col] = np.count_nonzero(b_gt & _dilate(b_pred, self.kernel))
                out[M2, col] = np.count_nonzero(b_pred & dil_gt)
        return out


def f_per_class(terms: np.ndarray) -> np.ndarray:
    """F per foreground class from dataset-summed terms (4, K) -> float64 (K,).

    nG = 0 and nP = 0 -> 1; exactly one of them 0 -> 0; otherwise 2PR / (P + R) with
    P = m2 / nP, R = m1 / nG (0 when P + R = 0).
    """
    m1, m2, n_g, n_p = terms.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = m2 / n_p
        recall = m1 / n_g
        f = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    f = np.where((n_g == 0) | (n_p == 0), 0.0, f)
    return np.where((n_g == 0) & (n_p == 0), 1.0, f)


class ContourAccumulator:
    """Streaming contour state over ``num_classes`` labels (background excluded from F).

    State: ``terms`` int64 (4, num_classes - 1), rows m1, m2, nG, nP, columns classes 1..K.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.terms = np.zeros((4, num_classes - 1), dtype=np.int64)

    def update(self, pred: np.ndarray, gt: np.ndarray | GtContours) -> None:
        """Add one image; ``gt`` may be a prepared ``GtContours`` (reused across thresholds)."""
        if not isinstance(gt, GtContours):
            gt = GtContours(gt, self.num_classes)
        self.terms += gt.terms(pred)

    def merge(self, other: ContourAccumulator) -> None:
        """Add the state of another accumulator (from a parallel worker)."""
        self.terms += other.terms

    def f_per_class(self) -> np.ndarray:
        """F per foreground class 1..K, float64 (K,)."""
        return f_per_class(self.terms)

    def f(self) -> float:
        """F = mean over the K foreground classes (fraction 0..1)."""
        return float(self.f_per_class().mean())
