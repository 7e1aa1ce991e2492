"""J&F accumulator: a confusion matrix (J) and contour terms (F) updated together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hfpl.metrics.confusion import ConfusionMatrix
from hfpl.metrics.contour import ContourAccumulator, GtContours


@dataclass(frozen=True)
class JFResult:
    """Scores as fractions 0..1: ``j_per_class`` (K+1,) with NaN where skipped by the J
    convention, ``f_per_class`` (K,) for foreground classes 1..K."""

    j: float
    f: float
    j_per_class: np.ndarray
    f_per_class: np.ndarray

    @property
    def jf(self) -> float:
        return (self.j + self.f) / 2


class JFAccumulator:
    """Streaming J and F over ``num_classes`` labels (background 0 included)."""

    def __init__(self, num_classes: int) -> None:
        self.confusion = ConfusionMatrix(num_classes)
        self.contour = ContourAccumulator(num_classes)

    def update(self, pred: np.ndarray, gt: np.ndarray, gt_contours: GtContours | None = None):
        """Add one image: ``pred``, ``gt`` int (H, W); pass ``gt_contours`` to reuse GT work."""
        self.confusion.update(pred, gt)
        self.contour.update(pred, gt if gt_contours is None else gt_contours)

    def add(self, confusion: np.ndarray, terms: np.ndarray) -> None:
        """Add one image's precomputed counts: confusion int (n, n), contour terms int (4, K)."""
        self.confusion.matrix += confusion
        self.contour.terms += terms

    def merge(self, other: JFAccumulator) -> None:
        self.confusion.merge(other.confusion)
        self.contour.merge(other.contour)

    def compute(self, j_convention: str = "present") -> JFResult:
        return JFResult(
            j=self.confusion.miou(j_convention),
            f=self.contour.f(),
            j_per_class=self.confusion.iou(j_convention),
            f_per_class=self.contour.f_per_class(),
        )
