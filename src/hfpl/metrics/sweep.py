"""Background thresholds: parsing a sweep grid and labelling a ScoreMap at a threshold t.

label(t) = argmax over [t, cams...] (key + 1) equals ``fg_label`` where ``fg_max > t`` and 0
elsewhere: ``np.argmax`` returns the first maximum, so the background plane (first) wins ties.
Reducing the CAMs once to (fg_label, fg_max) lets every threshold of a grid reuse one read.
"""

from __future__ import annotations

import math

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
