"""Background thresholds: parsing a sweep grid and labelling a ScoreMap at a threshold t.

label(t) = argmax over [t, cams...] (key + 1) equals ``fg_label`` where ``fg_max > t`` and 0
elsewhere: ``np.argmax`` returns the first maximum, so the background plane (first) wins ties.
Reducing the CAMs once to (fg_label, fg_max) lets every threshold of a grid reuse one read:
the confusion matrices of all thresholds come from one histogram, and the contour terms from
per-class score maps compared with each t.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from hfpl.metrics.readers import EvalInputError, ScoreMap


def parse_sweep(spec: str) -> list[float]:
    """``"START:STOP:STEP"`` -> thresholds START, START+STEP, ... up to STOP **inclusive**.

    E.g. ``"0:0.59:0.01"`` gives SEAM's 60 thresholds 0.00..0.59. Values are rounded to 10
    decimals so that 0.1 + 0.2 prints as 0.3.
    """
    try:
        start, stop, step = (float(x) for x in spec.split(":"))
    except ValueError:
        raise EvalInputError(
            f"--sweep {spec!r}: expected START:STOP:STEP, e.g. 0:0.59:0.01"
        ) from None
    if not (step > 0 and stop >= start and all(map(math.isfinite, (start, stop, step)))):
        raise EvalInputError(f"--sweep {spec!r}: need STEP > 0 and STOP >= START")
    count = math.floor((stop - start) / step + 1e-9) + 1
    return [round(start + i * step, 10) for i in range(count)]


def label_at(scores: ScoreMap, t: float) -> np.ndarray:
    """Label map uint8 (H, W) of ``scores`` with background threshold ``t``."""
    return np.where(scores.fg_max > t, scores.fg_label, np.uint8(0))


def sweep_confusions(
    scores: ScoreMap, gt: np.ndarray, thresholds: np.ndarray, num_classes: int
) -> np.ndarray:
    """Confusion matrices int64 (T, n, n) of ``label_at(scores, t)`` vs ``gt`` for every t.

    ``thresholds``: ascending float (T,); ``gt``: (H, W) labels 0..n-1 or 255 (void, ignored).
    One bincount over (gt, fg label, k) where k = how many thresholds lie below the pixel's
    score: the pixel is foreground exactly for the first k thresholds.
    """
    n, bins = num_classes, len(thresholds) + 1
    k = np.searchsorted(thresholds, scores.fg_max, side="left")
    index = (gt.astype(np.intp) * n + scores.fg_label) * bins + k
    # void GT rows land beyond n * n * bins and are dropped
    hist = np.bincount(index.ravel(), minlength=n * n * bins)[: n * n * bins]
    hist = hist.reshape(n, n, bins)
    at_least = np.cumsum(hist[..., ::-1], axis=-1)[..., ::-1]  # [..., j] = pixels with k >= j
    fg = np.moveaxis(at_least[..., 1:], -1, 0).copy()  # (T, n, n): foreground at t_i iff k > i
    fg[:, :, 0] += hist.sum(axis=(1, 2)) - fg.sum(axis=2)  # the rest is predicted background
    return fg


def sweep_class_masks(scores: ScoreMap, thresholds: np.ndarray) -> Iterator[dict[int, np.ndarray]]:
    """For each t: the non-empty masks {class c: bool (H, W)} of ``label_at(scores, t) == c``."""
    classes = np.flatnonzero(np.bincount(scores.fg_label.ravel())[1:]) + 1
    per_class = {int(c): np.where(scores.fg_label == c, scores.fg_max, -np.inf) for c in classes}
    best = {c: score.max() for c, score in per_class.items()}
    for t in thresholds:
        yield {c: score > t for c, score in per_class.items() if best[c] > t}
