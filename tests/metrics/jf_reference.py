"""A straightforward per-image, per-class J/F reference, independent of ``hfpl.metrics``.

Written from ../shared/EVALUATION.md with plain loops over classes, the DAVIS ``_seg2bmap``
formulation (shifted copies, then the last row/column overwritten), a disk built by loops and
``scipy.ndimage.binary_dilation``. Shared by the tests and ``benchmarks/bench_eval.py``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def ref_seg2bmap(seg: np.ndarray) -> np.ndarray:
    """DAVIS _seg2bmap (width = height = mask size)."""
    seg = seg.astype(bool)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = seg ^ e | seg ^ s | seg ^ se
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def ref_disk(r: int) -> np.ndarray:
    out = np.zeros((2 * r + 1, 2 * r + 1), dtype=bool)
    for i in range(2 * r + 1):
        for j in range(2 * r + 1):
            if (i - r) ** 2 + (j - r) ** 2 <= r * r:
                out[i, j] = True
    return out


def ref_image_counts(pred: np.ndarray, gt: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-image counts, int64 (num_classes, 7): T, P, TP (J, class 0..K) and m1, m2, nG, nP
    (F, row 0 unused)."""
    counts = np.zeros((num_classes, 7), dtype=np.int64)
    valid = gt != 255
    for k in range(num_classes):
        counts[k, 0] = np.sum((gt == k) & valid)
        counts[k, 1] = np.sum((pred == k) & valid)
        counts[k, 2] = np.sum((gt == k) & (pred == k) & valid)
    gt_f = gt.copy()
    gt_f[gt_f == 255] = 0
    h, w = gt.shape
    r = math.ceil(0.008 * math.sqrt(h**2 + w**2))
    selem = ref_disk(r)
    for c in range(1, num_classes):
        bg = ref_seg2bmap(gt_f == c)
        bp = ref_seg2bmap(pred == c)
        # dilating an empty map gives an empty map: skip the (slow) call then
        dil_g = ndimage.binary_dilation(bg, structure=selem) if bg.any() else bg
        dil_p = ndimage.binary_dilation(bp, structure=selem) if bp.any() else bp
        counts[c, 3] = np.sum(bg & dil_p)
        counts[c, 4] = np.sum(bp & dil_g)
        counts[c, 5] = np.sum(bg)
        counts[c, 6] = np.sum(bp)
    return counts


def ref_scores(counts: np.ndarray, convention: str = "present") -> dict:
    """Dataset scores (fractions) from summed counts: J, F, per-class IoU list, per-class F."""
    num_classes = counts.shape[0]
    ious = []
    for k in range(num_classes):
        t, p, tp = (float(x) for x in counts[k, :3])
        union = t + p - tp
        if convention == "all":
            ious.append(tp / union if union > 0 else 0.0)
        elif convention == "gt":
            ious.append(tp / union if t > 0 else float("nan"))
        else:
            ious.append(tp / union if union > 0 else float("nan"))
    kept = [x for x in ious if not math.isnan(x)]
    fs = []
    for c in range(1, num_classes):
        m1, m2, n_g, n_p = (float(x) for x in counts[c, 3:])
        if n_g == 0 and n_p == 0:
            fs.append(1.0)
        elif n_g == 0 or n_p == 0:
            fs.append(0.0)
        else:
            prec, rec = m2 / n_p, m1 / n_g
            fs.append(2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0)
    return {"J": sum(kept) / len(kept), "F": sum(fs) / len(fs), "iou": ious, "f": fs}


def ref_evaluate(pairs, num_classes: int, convention: str = "present") -> dict:
    """Scores of an iterable of (pred, gt) label maps."""
    total = np.zeros((num_classes, 7), dtype=np.int64)
    for pred, gt in pairs:
        total += ref_image_counts(pred, gt, num_classes)
    return ref_scores(total, convention)
