"""Readers of prediction files, keyed by data layout: :data:`READERS` (the ``--format`` names).

Layouts (which upstream step writes which: docs/methods/*.md):

- ``label-png``: label PNG, palette (P) or grayscale (L) mode, values 0..K (pseudo-labels and
  final predictions of every method).
- ``cam-dict``: ``.npy`` dict {fg class 0..K-1 (present only): float (H, W)} (SEAM, PMM,
  MCTformer, Spatial-BCE CAMs); label = argmax over [t, cams...] with key + 1, t a background
  threshold. An empty dict means all background.
- ``high-res-npy``: ``.npy`` dict {'keys': 0-based fg classes, 'cam': low-res, 'high_res':
  (k, H, W)} (IRN-style CAMs); thresholded like ``cam-dict`` using ``high_res``.
- ``keys-is-cam-npy``: ``.npy`` dict {'keys': labels incl. background 0, 'IS_CAM': (k, H, W)}
  (SIPE); label = keys[argmax(IS_CAM)], no threshold.
- ``label-prob-dict``: ``.npy`` dict {label 0..K: probability (H, W)} (CRF outputs); label =
  argmax over keys. An empty dict means all background.

A reader works in three phases: ``load`` the file (one loader per suffix, :data:`LOADERS`),
``mismatch`` (why the loaded content is not this layout, or None; :func:`check_layout` runs it
on a sample of files to refuse a wrong ``--format``), ``decode`` into labels or a
:class:`ScoreMap`. Thresholded layouts decode to a ScoreMap (the argmax over foreground scores
and its value), so that any background threshold is a cheap comparison (``hfpl.metrics.sweep``).
Adding a layout = one entry in :data:`READERS` (+ its test).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: a label-prob-dict's maps sum to 1 over its keys at every pixel within this (float32 CRF
#: marginals are off by ~1e-6; CAMs are off by far more almost everywhere)
PROB_TOL = 1e-3


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


def load_dict(path: Path) -> dict:
    """A dict saved with ``np.save(path, d, allow_pickle=True)``."""
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


#: file suffix -> loader (path -> content that the readers of that suffix take)
LOADERS: dict[str, Callable[[Path], Any]] = {".png": read_png_labels, ".npy": load_dict}


@dataclass(frozen=True)
class Reader:
    """How one prediction layout is read.

    ``suffix``: the file name ending, a key of :data:`LOADERS`; ``thresholded``: ``decode``
    gives a :class:`ScoreMap` that needs a background threshold, else int labels (H, W);
    ``mismatch(content)``: why loaded content is not this layout (one phrase), None if it is;
    ``decode(path, content, shape)``: labels or ScoreMap, ``shape`` = (H, W) of the GT (the size
    of an empty dict); raises :class:`EvalInputError` naming ``path`` on malformed content.
    """

    suffix: str
    thresholded: bool
    mismatch: Callable[[Any], str | None]
    decode: Callable[[Path, Any, tuple[int, int]], np.ndarray | ScoreMap]

    def path(self, pred_dir: Path, image_id: str) -> Path:
        """Where the prediction of ``image_id`` lives: ``pred_dir/<id><suffix>``."""
        return Path(pred_dir) / f"{image_id}{self.suffix}"

    def read(self, path: Path, shape: tuple[int, int]) -> np.ndarray | ScoreMap:
        """Load and decode one file."""
        return self.decode(path, LOADERS[self.suffix](path), shape)


def _is_index(key: Any) -> bool:
    return isinstance(key, int | np.integer) and not isinstance(key, bool)


def _not_index_keys(data: dict) -> str | None:
    if all(map(_is_index, data)):
        return None
    return f"its keys {sorted(map(str, data))} are not class indices"


def _lacks(names: tuple[str, ...]) -> Callable[[dict], str | None]:
    def mismatch(data: dict) -> str | None:
        missing = [k for k in names if k not in data]
        return f"it lacks the keys {missing} (it has {sorted(map(str, data))})" if missing else None

    return mismatch


def _not_probabilities(data: dict) -> str | None:
    """Why the maps of an int-keyed dict are not per-pixel label probabilities, or None."""
    if not data:
        return None
    if 0 not in data:
        return f"it has no background key 0 (keys {sorted(map(int, data))})"
    try:
        maps = np.stack([np.asarray(v, np.float64) for v in data.values()])
    except ValueError:
        return "its maps differ in size"
    low, high = float(maps.min()), float(maps.max())
    if low < -PROB_TOL or high > 1 + PROB_TOL:
        return f"its values span [{low:.3g}, {high:.3g}], not probabilities"
    off = float(np.abs(maps.sum(axis=0) - 1).max())
    if off > PROB_TOL:
        return f"its maps do not sum to 1 over the keys (off by up to {off:.3g})"
    return None


def _cam_dict_mismatch(data: dict) -> str | None:
    if reason := _not_index_keys(data):
        return reason
    if data and _not_probabilities(data) is None:
        return "its maps sum to 1 over the keys at every pixel, as label probabilities do"
    return None


def _label_prob_dict_mismatch(data: dict) -> str | None:
    return _not_index_keys(data) or _not_probabilities(data)


def _index_keys(path: Path, data: dict) -> list:
    """The dict's keys, sorted; raises unless they are class indices."""
    if reason := _not_index_keys(data):
        raise EvalInputError(f"{path}: {reason}; is --format right?")
    return sorted(data)


def _require_keys(path: Path, data: dict, names: tuple[str, ...]) -> None:
    if reason := _lacks(names)(data):
        raise EvalInputError(f"{path}: {reason}; is --format right?")


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


def _stack(path: Path, data: dict, order: list) -> np.ndarray:
    try:
        return np.stack([np.asarray(data[k]) for k in order])
    except ValueError:
        raise EvalInputError(f"{path}: the maps in the dict differ in size") from None


def _decode_cam_dict(path: Path, data: dict, shape: tuple[int, int]) -> ScoreMap:
    order = _index_keys(path, data)
    keys = np.asarray(order, dtype=np.int64) + 1
    return _scores_from(path, keys, _stack(path, data, order) if order else None, shape)


def _decode_high_res(path: Path, data: dict, shape: tuple[int, int]) -> ScoreMap:
    _require_keys(path, data, ("keys", "high_res"))
    keys = np.asarray(data["keys"], dtype=np.int64).ravel() + 1
    return _scores_from(path, keys, np.asarray(data["high_res"]), shape)


def _decode_keys_is_cam(path: Path, data: dict, shape: tuple[int, int]) -> np.ndarray:
    _require_keys(path, data, ("keys", "IS_CAM"))
    keys = np.asarray(data["keys"], dtype=np.int64).ravel()
    scores = np.asarray(data["IS_CAM"])
    if scores.ndim != 3 or scores.shape[0] != len(keys):
        raise EvalInputError(
            f"{path}: IS_CAM of shape {scores.shape} does not match {len(keys)} keys"
        )
    return keys[np.argmax(scores, axis=0)]


def _decode_label_prob_dict(path: Path, data: dict, shape: tuple[int, int]) -> np.ndarray:
    order = _index_keys(path, data)
    if not order:
        return np.zeros(shape, np.int64)
    keys = np.asarray(order, dtype=np.int64)
    return keys[np.argmax(_stack(path, data, order), axis=0)]


#: ``--format`` name (a data layout) -> its reader
READERS: dict[str, Reader] = {
    "label-png": Reader(".png", False, lambda _labels: None, lambda _p, labels, _s: labels),
    "cam-dict": Reader(".npy", True, _cam_dict_mismatch, _decode_cam_dict),
    "high-res-npy": Reader(".npy", True, _lacks(("keys", "high_res")), _decode_high_res),
    "keys-is-cam-npy": Reader(".npy", False, _lacks(("keys", "IS_CAM")), _decode_keys_is_cam),
    "label-prob-dict": Reader(".npy", False, _label_prob_dict_mismatch, _decode_label_prob_dict),
}
#: formats whose label needs a background threshold t
THRESHOLD_FORMATS = frozenset(name for name, reader in READERS.items() if reader.thresholded)


def check_layout(fmt: str, path: Path) -> None:
    """Raise :class:`EvalInputError` (one line naming the likely right format) unless the file
    at ``path`` holds the layout ``fmt``."""
    reader = READERS[fmt]
    content = LOADERS[reader.suffix](path)
    reason = reader.mismatch(content)
    if reason is None:
        return
    likely = [
        name
        for name, other in READERS.items()
        if other.suffix == reader.suffix and other.mismatch(content) is None
    ]
    hint = (
        f"it looks like --format {' or '.join(likely)}"
        if likely
        else f"no known format matches ({', '.join(READERS)})"
    )
    raise EvalInputError(f"{path} is not {fmt}: {reason}; {hint}")
