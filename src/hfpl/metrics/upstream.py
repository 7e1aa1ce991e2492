"""The upstream evaluator's own number beside ours: parsed from a step's log, compared in the
same J convention.

Several upstream scripts print their own mIoU for the predictions we score (PMM's CAM curve and
PPMG evaluation, mmseg's ``--eval mIoU``). Recording that number next to ours, with the
difference, shows in every metrics JSON whether our evaluator reads the same files the same way
(the CI smoke asserts agreement where a method declares it). A log line is matched by a regular
expression with a named group ``J`` and, for a printed threshold curve, ``t`` (the match at
our chosen threshold is used); without ``t`` the last match counts. The text is the step's log
or a score file the script wrote (deeplab-pytorch's ``scores.json``). ``scale`` turns the printed
number into percent (1 for a percentage, 100 for a fraction such as MCTformer's ``mIoU=0.155``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hfpl.metrics.readers import EvalInputError


def _unit(number: str) -> float:
    """One unit of a printed number's last digit (``"12.708"`` -> 0.001, ``"5e-05"`` -> 1e-05)."""
    try:
        exponent = Decimal(number).as_tuple().exponent
    except InvalidOperation:
        raise EvalInputError(f"upstream J {number!r} is not a number; fix the regex") from None
    return 10.0 ** int(exponent)


def read_upstream_j(log: Path, regex: str, threshold: float | None, scale: float = 1.0) -> dict:
    """The upstream J in ``log``, in percent: ``{"J", "t", "resolution"}`` (``resolution``: one
    unit of the print's last decimal, in percent).

    With a ``t`` group the match whose t equals ``threshold`` (to 1e-9) is used, else the last.
    Raises ``EvalInputError`` if the log is unreadable or holds no (matching) line.
    """
    try:
        text = Path(log).read_text(errors="replace")
    except OSError as err:
        raise EvalInputError(f"cannot read the upstream log {log}: {err.strerror}") from None
    try:
        pattern = re.compile(regex, re.MULTILINE)
    except re.error as err:
        raise EvalInputError(
            f"--upstream-regex {regex!r} is not a regular expression ({err})"
        ) from None
    if "J" not in pattern.groupindex:
        raise EvalInputError(f"--upstream-regex {regex!r} has no named group (?P<J>...)")
    per_threshold = "t" in pattern.groupindex
    matches = list(pattern.finditer(text))
    if per_threshold and threshold is not None:
        matches = [m for m in matches if math.isclose(float(m["t"]), threshold, abs_tol=1e-9)]
    if not matches:
        at = f" at t = {threshold}" if per_threshold else ""
        raise EvalInputError(f"no line of {log} matches --upstream-regex {regex!r}{at}")
    last = matches[-1]
    t = float(last["t"]) if per_threshold else None
    resolution = scale * _unit(last["J"])
    return {"J": float(last["J"]) * scale, "t": t, "resolution": resolution}


def compare(ours: float | None, upstream: dict, convention: str) -> dict:
    """``upstream`` (from :func:`read_upstream_j`) beside ``ours`` (J in percent, that
    convention): adds ``convention``, ``difference`` (ours - upstream) and ``agrees`` (within
    half a unit of the upstream print's last decimal, i.e. equal up to its rounding; at least
    1e-6 points, for full-precision prints whose last bits depend on summation order)."""
    tolerance = max(0.5 * upstream["resolution"], 1e-6)
    difference = None if ours is None else ours - upstream["J"]
    agrees = difference is not None and abs(difference) <= tolerance
    return {**upstream, "convention": convention, "difference": difference, "agrees": agrees}
