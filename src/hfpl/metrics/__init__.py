"""One evaluator for every method and step: J (mIoU), contour F, J&F, readers, sweeps.

Definitions: docs/evaluation.md. Entry points: :func:`evaluate_dir` and ``hfpl eval``.
"""

from hfpl.metrics.confusion import J_CONVENTIONS, ConfusionMatrix
from hfpl.metrics.contour import ContourAccumulator, GtContours, boundary_radius, seg2bmap
from hfpl.metrics.evaluate import class_names, evaluate_dir
from hfpl.metrics.jf import JFAccumulator, JFResult
from hfpl.metrics.readers import READERS, EvalInputError
from hfpl.metrics.sweep import parse_sweep

__all__ = [
    "J_CONVENTIONS",
    "ConfusionMatrix",
    "ContourAccumulator",
    "EvalInputError",
    "GtContours",
    "JFAccumulator",
    "JFResult",
    "READERS",
    "boundary_radius",
    "class_names",
    "evaluate_dir",
    "parse_sweep",
    "seg2bmap",
]
