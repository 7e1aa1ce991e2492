"""``evaluate_dir``: J, F and J&F of a directory of predictions against GT label PNGs.

Images are processed in chunks, in a process pool when ``jobs > 1``; each chunk returns its
accumulator states (one per threshold) and the parent merges them, so the result does not depend
on ``jobs``. A threshold sweep reads every file once and updates one accumulator per threshold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from hfpl import __version__
from hfpl.classes import label_names
from hfpl.metrics.confusion import J_CONVENTIONS, VOID
from hfpl.metrics.contour import BOUND_TH, GtContours
from hfpl.metrics.jf import JFAccumulator, JFResult
from hfpl.metrics.readers import (
    READERS,
    THRESHOLD_FORMATS,
    EvalInputError,
    check_layout,
    read_png_labels,
)
from hfpl.metrics.sweep import parse_sweep, sweep_class_masks, sweep_confusions

_SHOW_IDS = 5  # how many offending ids an error message lists
_SAMPLE = 3  # how many prediction files the format check reads (the first ones present)


def class_names(num_classes: int) -> list[str]:
    """Names of the label values: VOC's 21 or COCO's 81 (background first), else ``class_k``."""
    return label_names(num_classes)


def _check_labels(labels: np.ndarray, shape: tuple[int, ...], num_classes: int, what: str):
    """Raise EvalInputError naming ``what`` on a size mismatch or a label outside 0..K."""
    if labels.shape != shape:
        raise EvalInputError(f"{what}: size {labels.shape} differs from the GT size {shape}")
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise EvalInputError(
            f"{what}: label {int(labels[bad][0])} outside 0..{num_classes - 1}; "
            f"is --num-classes right?"
        )


def _evaluate_chunk(
    items: Sequence[tuple[str, bool]],
    pred_dir: Path,
    gt_dir: Path,
    fmt: str,
    thresholds: Sequence[float | None],
    num_classes: int,
) -> list[JFAccumulator]:
    """Accumulators (one per threshold) over ``items`` = [(image id, prediction missing)]."""
    accs = [JFAccumulator(num_classes) for _ in thresholds]
    reader = READERS[fmt]
    for image_id, missing in items:
        gt_path = Path(gt_dir) / f"{image_id}.png"
        gt = read_png_labels(gt_path)
        gt_valid = np.where(gt == VOID, 0, gt)
        _check_labels(gt_valid, gt.shape, num_classes, f"GT {gt_path}")
        gt_contours = GtContours(gt, num_classes)
        path = reader.path(pred_dir, image_id)
        if reader.thresholded and not missing:
            scores = reader.read(path, gt.shape)
            _check_labels(scores.fg_label, gt.shape, num_classes, f"prediction {path}")
            confusions = sweep_confusions(scores, gt, np.asarray(thresholds), num_classes)
            masks = sweep_class_masks(scores, np.asarray(thresholds))
            for acc, confusion, class_masks in zip(accs, confusions, masks, strict=True):
                acc.add(confusion, gt_contours.terms_of_masks(class_masks))
            continue
        if missing:
            pred = np.zeros(gt.shape, np.uint8)
        else:
            pred = reader.read(path, gt.shape)
            _check_labels(pred, gt.shape, num_classes, f"prediction {path}")
        for acc in accs:  # several only for a sweep of missing files
            acc.update(pred, gt, gt_contours)
    return accs


def _init_worker() -> None:
    cv2.setNumThreads(1)  # the pool provides the parallelism; avoid oversubscription


def _thresholds(fmt: str, bg_threshold: float | None, sweep) -> list[float | None]:
    if fmt not in READERS:
        raise EvalInputError(f"unknown format {fmt!r}; choose one of {', '.join(READERS)}")
    if bg_threshold is not None and sweep is not None:
        raise EvalInputError("give either a background threshold or a sweep, not both")
    if fmt not in THRESHOLD_FORMATS:
        if bg_threshold is not None or sweep is not None:
            raise EvalInputError(f"format {fmt!r} has no background threshold; drop it")
        return [None]
    if sweep is not None:
        grid = parse_sweep(sweep) if isinstance(sweep, str) else sweep
        thresholds = sorted({float(t) for t in grid})  # the sweep needs ascending thresholds
        if not thresholds:
            raise EvalInputError("the sweep grid is empty")
        return thresholds
    if bg_threshold is None:
        raise EvalInputError(f"format {fmt!r} needs --bg-threshold T or --sweep START:STOP:STEP")
    return [float(bg_threshold)]


def _check_ids(ids: list[str]) -> None:
    """Raise if an id is listed more than once (it would be scored twice)."""
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise EvalInputError(
            f"{len(repeated)} id(s) listed more than once in the image list: "
            f"{repeated[:_SHOW_IDS]}; list each image once"
        )


def _check_files(pred_dir, gt_dir, ids, fmt, missing_as_background) -> list[bool]:
    """Per id: is its prediction missing? Raises if GT is missing or predictions are (unless
    ``missing_as_background``)."""
    reader = READERS[fmt]
    gt_missing = [i for i in ids if not (Path(gt_dir) / f"{i}.png").is_file()]
    if gt_missing:
        raise EvalInputError(
            f"{len(gt_missing)} of {len(ids)} GT files missing in {gt_dir}, e.g. "
            f"{gt_missing[:_SHOW_IDS]}; check --gt and --list"
        )
    missing = [not reader.path(pred_dir, i).is_file() for i in ids]
    if any(missing) and not missing_as_background:
        first = [i for i, m in zip(ids, missing, strict=True) if m][:_SHOW_IDS]
        raise EvalInputError(
            f"{sum(missing)} of {len(ids)} predictions missing in {pred_dir}, e.g. {first}"
            f"{_other_suffix_hint(pred_dir, first[0], reader.suffix)}; check --pred/--format, "
            f"or pass --missing-as-background to score them as background"
        )
    return missing


def _other_suffix_hint(pred_dir, image_id: str, suffix: str) -> str:
    """`` (<id>.png exists: --format label-png?)`` when a file of another format is there."""
    for other in dict.fromkeys(r.suffix for r in READERS.values()):
        if other != suffix and (Path(pred_dir) / f"{image_id}{other}").is_file():
            names = " or ".join(n for n, r in READERS.items() if r.suffix == other)
            return f" ({image_id}{other} exists: --format {names}?)"
    return ""


def _check_layout(pred_dir, ids: list[str], missing: list[bool], fmt: str) -> None:
    """Refuse a wrong ``fmt`` from the content of the first few predictions present."""
    present = [i for i, m in zip(ids, missing, strict=True) if not m][:_SAMPLE]
    for image_id in present:
        check_layout(fmt, READERS[fmt].path(pred_dir, image_id))


def _percent(x: float) -> float | None:
    return None if math.isnan(x) else 100.0 * x


def evaluate_dir(
    pred_dir: str | Path,
    gt_dir: str | Path,
    ids: Sequence[str],
    fmt: str,
    *,
    num_classes: int,
    bg_threshold: float | None = None,
    sweep: str | Sequence[float] | None = None,
    jobs: int = 1,
    missing_as_background: bool = False,
    j_convention: str = "present",
    progress: bool = True,
) -> dict:
    """Evaluate predictions ``pred_dir/<id><suffix of fmt>`` against ``gt_dir/<id>.png``.

    ``fmt``: a key of ``readers.READERS``; the first few files present must hold that layout.
    Thresholded formats need ``bg_threshold`` or ``sweep`` (``"START:STOP:STEP"``, STOP
    inclusive, or a list of thresholds; the best t by J is chosen). ``num_classes``: labels
    incl. background (VOC 21, COCO 81); no default, so that no dataset is assumed.
    Returns the evaluator JSON dict: "J", "F", "JF" (percent), "J_by_convention" (J at the
    chosen threshold under every convention of ``J_CONVENTIONS``), "per_class"
    ({name: {"J", "F"}}, None where undefined), "bg_threshold", "sweep" ([{"t", "J", "F", "JF"}]
    or None), "n_images", "n_missing_as_background", "num_classes", "format", "conventions",
    "hfpl_version". Raises ``EvalInputError`` (a ValueError) on bad input.
    """
    if j_convention not in J_CONVENTIONS:
        raise EvalInputError(
            f"unknown J convention {j_convention!r}; choose one of {sorted(J_CONVENTIONS)}"
        )
    if not 2 <= num_classes <= VOID:
        raise EvalInputError(f"--num-classes {num_classes}: need 2..255 (background included)")
    ids = list(ids)
    if not ids:
        raise EvalInputError("the image list is empty")
    _check_ids(ids)
    thresholds = _thresholds(fmt, bg_threshold, sweep)
    missing = _check_files(pred_dir, gt_dir, ids, fmt, missing_as_background)
    _check_layout(pred_dir, ids, missing, fmt)

    items = list(zip(ids, missing, strict=True))
    jobs = max(1, min(jobs, len(items)))
    size = max(1, min(32, math.ceil(len(items) / (4 * jobs))))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    args = (Path(pred_dir), Path(gt_dir), fmt, thresholds, num_classes)
    accs = [JFAccumulator(num_classes) for _ in thresholds]
    with tqdm(total=len(items), unit="img", desc="hfpl eval", disable=not progress) as bar:
        if jobs == 1:
            results = ((len(c), _evaluate_chunk(c, *args)) for c in chunks)
            for n, part in results:
                _merge(accs, part)
                bar.update(n)
        else:
            with ProcessPoolExecutor(jobs, initializer=_init_worker) as pool:
                futures = {pool.submit(_evaluate_chunk, c, *args): len(c) for c in chunks}
                try:
                    for future in as_completed(futures):
                        _merge(accs, future.result())
                        bar.update(futures[future])
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # fail now, not after the whole list
                    raise

    results = [acc.compute(j_convention) for acc in accs]
    best = int(np.argmax([-np.inf if math.isnan(r.j) else r.j for r in results]))
    # upstream evaluators average differently (J_CONVENTIONS): every one beside the chosen J,
    # so a number compares with the method's own log (e.g. PMM skips classes without GT)
    j_by_convention = {c: _percent(accs[best].confusion.miou(c)) for c in J_CONVENTIONS}
    return _report(
        results,
        j_by_convention,
        best,
        thresholds,
        sweep is not None,
        len(ids),
        sum(missing),
        fmt,
        num_classes,
        j_convention,
    )


def _merge(accs: list[JFAccumulator], part: list[JFAccumulator]) -> None:
    for acc, other in zip(accs, part, strict=True):
        acc.merge(other)


def _report(
    results: list[JFResult],
    j_by_convention: dict[str, float | None],
    best: int,
    thresholds: list[float | None],
    is_sweep: bool,
    n_images: int,
    n_missing: int,
    fmt: str,
    num_classes: int,
    j_convention: str,
) -> dict:
    chosen = results[best]
    f_per_class = [None, *(_percent(f) for f in chosen.f_per_class)]  # no F for background
    names = class_names(num_classes)
    per_class = {
        name: {"J": _percent(j), "F": f}
        for name, j, f in zip(names, chosen.j_per_class, f_per_class, strict=True)
    }
    sweep_rows = [
        {"t": t, "J": _percent(r.j), "F": _percent(r.f), "JF": _percent(r.jf)}
        for t, r in zip(thresholds, results, strict=True)
    ]
    return {
        "J": _percent(chosen.j),
        "F": _percent(chosen.f),
        "JF": _percent(chosen.jf),
        "J_by_convention": j_by_convention,
        "per_class": per_class,
        "bg_threshold": thresholds[best],
        "sweep": sweep_rows if is_sweep else None,
        "n_images": n_images,
        "n_missing_as_background": n_missing,
        "num_classes": num_classes,
        "format": fmt,
        "conventions": {
            "J": f"{j_convention}: {J_CONVENTIONS[j_convention]}; confusion matrix summed over "
            "the dataset, GT void (255) ignored",
            "F": f"mean over foreground classes of the per-class contour F from m1, m2, nG, nP "
            f"summed over the dataset; boundaries by DAVIS seg2bmap, disk radius "
            f"ceil({BOUND_TH} * diagonal); GT void set to background; class absent from GT and "
            "prediction everywhere -> 1",
            "JF": "(J + F) / 2",
            "sweep": "best threshold = highest J (first on ties); STOP inclusive"
            if is_sweep
            else None,
            "threshold": "label = argmax over [t, fg scores] with key + 1; background wins ties"
            if fmt in THRESHOLD_FORMATS
            else None,
        },
        "hfpl_version": __version__,
    }
