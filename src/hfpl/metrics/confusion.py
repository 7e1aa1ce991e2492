"""Region similarity J (mIoU) from a streaming confusion matrix.

The matrix is accumulated over the whole image list (not averaged per image); void GT pixels
(255) are ignored. How classes that never occur enter the mean is a *convention* that differs
between upstream evaluation scripts, so it is an explicit argument here.
"""

from __future__ import annotations

import numpy as np

VOID = 255

#: J conventions: name -> description (written into the evaluator's JSON output).
J_CONVENTIONS: dict[str, str] = {
    # deeplab-pytorch, IRN and SIPE evaluation
    "present": "mean IoU over classes present in GT or prediction (nanmean)",
    # SEAM, MCTformer and Spatial-BCE evaluation scripts
    "all": "mean IoU over all classes, a class absent from GT and prediction counts as 0",
    # PMM
    "gt": "mean IoU over classes present in GT only",
}


class ConfusionMatrix:
    """Streaming confusion matrix over ``num_classes`` labels (background included).

    State: ``matrix`` int64 array (num_classes, num_classes), rows = GT, columns = prediction.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """Add one image. ``pred``, ``gt``: integer (H, W) maps; pred in 0..K, gt in 0..K or 255.

        Values are assumed validated by the caller (see ``hfpl.metrics.readers``).
        """
        n = self.num_classes
        # void GT rows land in bins >= n * n and are dropped: cheaper than boolean masking
        index = gt.astype(np.intp).ravel() * n + pred.ravel()
        self.matrix += np.bincount(index, minlength=n * n)[: n * n].reshape(n, n)

    def merge(self, other: ConfusionMatrix) -> None:
        """Add the state of another matrix (from a parallel worker)."""
        self.matrix += other.matrix

    def iou(self, convention: str = "present") -> np.ndarray:
        """Per-class IoU, float64 (num_classes,); NaN for classes the convention skips."""
        if convention not in J_CONVENTIONS:
            raise ValueError(
                f"unknown J convention {convention!r}; choose one of {sorted(J_CONVENTIONS)}"
            )
        tp = np.diag(self.matrix).astype(np.float64)
        gt_count = self.matrix.sum(axis=1).astype(np.float64)
        pred_count = self.matrix.sum(axis=0).astype(np.float64)
        union = gt_count + pred_count - tp
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = tp / union
        if convention == "all":
            return np.where(union > 0, iou, 0.0)
        if convention == "gt":
            return np.where(gt_count > 0, iou, np.nan)
        return iou  # "present": 0/0 -> NaN for classes absent from both

    def miou(self, convention: str = "present") -> float:
        """Mean IoU under ``convention`` (fraction 0..1); NaN if no class qualifies."""
        iou = self.iou(convention)
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")
