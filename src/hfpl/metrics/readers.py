"""Readers turning each method's step outputs into label maps (one per ``--format``).

Formats (see /work/shared/upstream/*.md):

- ``png``: label PNG, palette (P) or grayscale (L) mode, values 0..K.
- ``cam-dict``: ``.npy`` dict {fg class 0..K-1 (present only): float (H, W)} (SEAM, PMM,
  MCTformer, Spatial-BCE); label = argmax over [t, cams...] with key + 1, t a background
  threshold. An empty dict means all background.
- ``irn``: ``.npy`` dict {'keys': 0-based fg classes, 'cam': low-res, 'high_res': (k, H, W)};
  thresholded like ``cam-dict`` using ``high_res``.
- ``sipe``: ``.npy`` dict {'keys': labels incl. background 0, 'IS_CAM': (k, H, W)};
  label = keys[argmax(IS_CAM)], no threshold.
- ``crf-dict``: ``.npy`` dict {label 0..K: probability (H, W)}; label = argmax over keys.

Thresholded formats are read as :class:`ScoreMap` (the argmax over foreground scores and its
value), so that any background threshold is a cheap comparison (see ``hfpl.metrics.sweep``).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = ("png", "cam-dict", "irn", "sipe", "crf-dict")
#: formats whose label needs a background threshold t
THRESHOLD_FORMATS = frozenset({"cam-dict", "irn"})


class EvalInputError(ValueError):
    """Bad evaluator input (missing or malformed files, wrong sizes or labels)."""


@dataclass(frozen=True)
class ScoreMap:
    """Foreground scores of one image reduced for thresholding.

    ``fg_label``: uint8 (H, W), label 1..K of the highest foreground score (first max wins);
    ``fg_max``: float (H, W), that score (-inf where there is no foreground class).
    """

    fg_label: np.ndarray
    fg_max: np.ndarray


def prediction_path(pred_dir: Path, image_id: str, fmt: str) -> Path:
    """Where the prediction of ``image_id`` lives for ``fmt``: ``<id>.png`` or ``<id>.npy``."""
    return Path(pred_dir) / f"{image_id}.{'png' if fmt == 'png' else 'npy'}"


def read_png_labels(path: Path) -> np.ndarray:
    """Label PNG (mode P or L, or 16/32-bit grayscale) -> integer (H, W) label indices
    (uint8 for P and L)."""
    try:
        img = Image.open(path)
    except (OSError, ValueError) as err:
        raise EvalInputError(f"{path}: cannot read as an image ({err})") from None
    with img:
        if img.mode not in ("P", "L", "I", "I;16"):
            raise EvalInputError(
                f"{path}: PNG mode {img.mode!r} is not a label map; save labels as mode L or P"
            )
        return np.asarray(img)


def _load_dict(path: Path) -> dict:
    try:
        obj = np.load(path, allow_pickle=True)
    except (OSError, ValueError, pickle.UnpicklingError, EOFError) as err:
        raise EvalInputError(f"{path}: cannot read as a .npy file ({err})") from None
    if obj.dtype != object or obj.shape != ():
        raise EvalInputError(f"{path}: expected a pickled dict saved with np.save, got an array")
    data = obj.item()
    if not isinstance(data, dict):
        raise EvalInputError(f"{path}: expected a dict, got {type(data).__name__}")
    return data


def _scores_from(path: Path, keys: np.ndarray, cams, shape: tuple[int, int]) -> ScoreMap:
    """ScoreMap from fg labels ``keys`` (k,) and their scores ``cams`` (k, H, W)."""
    if len(keys) == 0:
        return ScoreMap(np.zeros(shape, np.uint8), np.full(shape, -np.inf))
    if keys.min() < 1 or keys.max() > 254:
        raise EvalInputError(f"{path}: class keys {keys - 1} are not foreground indices 0..253")
    if cams.ndim != 3 or cams.shape[0] != len(keys):
        raise EvalInputError(
            f"{path}: scores of shape {cams.shape} do not match {len(keys)} class keys"
        )
    if np.isnan(cams).any():
        raise EvalInputError(f"{path}: scores contain NaN")
    best = np.argmax(cams, axis=0)  # first max: the lowest label wins ties, as upstream
    # uint8 labels: cheaper to threshold and count at every t of a sweep
    return ScoreMap(keys.astype(np.uint8)[best], np.take_along_axis(cams, best[None], 0)[0])


def read_scores(path: Path, fmt: str, shape: tuple[int, int]) -> ScoreMap:
    """Read a thresholded-format file (``cam-dict`` or ``irn``); ``shape`` is used if empty."""
    data = _load_dict(path)
    if fmt == "cam-dict":
        order = sorted(data)
        keys = np.asarray(order, dtype=np.int64) + 1
        try:
            cams = np.stack([np.asarray(data[k]) for k in order]) if order else None
        except ValueError:
            raise EvalInputError(f"{path}: the CAMs in the dict differ in size") from None
    elif fmt == "irn":
        _require_keys(path, data, ("keys", "high_res"))
        keys = np.asarray(data["keys"], dtype=np.int64).ravel() + 1
        cams = np.asarray(data["high_res"])
    else:
        raise ValueError(f"{fmt!r} is not a thresholded format")
    return _scores_from(path, keys, cams, shape)


def read_labels(path: Path, fmt: str, shape: tuple[int, int]) -> np.ndarray:
    """Read an unthresholded-format file (``png``, ``sipe``, ``crf-dict``) -> int64 (H, W).

    ``shape`` is the size of an empty ``crf-dict`` (all background).
    """
    if fmt == "png":
        return read_png_labels(path)
    data = _load_dict(path)
    if fmt == "sipe":
        _require_keys(path, data, ("keys", "IS_CAM"))
        keys = np.asarray(data["keys"], dtype=np.int64).ravel()
        return keys[np.argmax(np.asarray(data["IS_CAM"]), axis=0)]
    if fmt == "crf-dict":
        if not data:
            return np.zeros(shape, np.int64)
        keys = np.asarray(sorted(int(k) for k in data), dtype=np.int64)
        probs = np.stack([np.asarray(data[k]) for k in sorted(data)])
        return keys[np.argmax(probs, axis=0)]
    raise ValueError(f"{fmt!r} is not an unthresholded format")


def _require_keys(path: Path, data: dict, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise EvalInputError(
            f"{path}: dict lacks {missing}; is --format right? It has keys {sorted(map(str, data))}"
        )
