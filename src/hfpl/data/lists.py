"""List files and image-level class-label files, as a registry of formats keyed by what they are.

A method's YAML says which files it wants (``lists: {dataset: [{path, format, split|splits,
optional}]}``); :func:`write_lists` writes them from a prepared dataset, never copying upstream
files. Formats (:data:`FORMATS`), for a dataset with image/label paths ``I``/``L`` of an id
(relative to the dataset folder, e.g. VOC ``JPEGImages/<id>.jpg`` and
``SegmentationClassAug/<id>.png``; COCO ``<split>/<id>.jpg`` and
``SegmentationClass/<split>/<id>.png``):

    id-per-line              one split: ``<id>`` per line
    image-label-paths        one split: ``/I /L`` per line (upstream's ``voc12/train_aug.txt``)
    image-paths              one split: ``/I`` per line (VOC test: no labels)
    cls-labels-npy-dict      splits: ``{id: float32[C_fg]}`` (np.save of a dict, str keys)
    cls-labels-npy-int-keys  splits: ``{np.int32(id without '_'): float32[C_fg]}`` (VOC ids)
    fg-ratio-npy-dict        splits: ``{id: [C_fg floats]}``, the fraction of the image's pixels
                             labelled each foreground class in its training mask (a stand-in for
                             a first-phase prior in smoke runs)

Class-label dicts cover the ids of the listed splits in order, each id once (first split wins).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from hfpl.data.datasets import Dataset
from hfpl.data.voc import read_label_png
from hfpl.io import building_dir


class ListSource:
    """A prepared dataset as the formats read it: ids per split, paths, memoised image labels."""

    def __init__(self, dataset: Dataset, root: str | os.PathLike) -> None:
        self.dataset = dataset
        self.base = Path(root) / dataset.base
        self.splits = dataset.splits(root)
        self._labels: dict[str, np.ndarray] = {}

    def pairs(self, splits: Sequence[str]) -> list[tuple[str, str]]:
        """(split, id) over ``splits`` in order, each id once."""
        seen: dict[str, str] = {}
        for split in splits:
            for i in self.splits[split]:
                seen.setdefault(i, split)
        return [(split, i) for i, split in seen.items()]

    def image_labels(self, split: str, img_id: str) -> np.ndarray:
        """float32[C_fg] of one image (computed once per id)."""
        if img_id not in self._labels:
            self._labels[img_id] = self.dataset.image_labels(self.base, split, img_id)
        return self._labels[img_id]


def _lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def _id_per_line(path: Path, src: ListSource, splits: Sequence[str]) -> None:
    _lines(path, src.splits[splits[0]])


def _image_label_paths(path: Path, src: ListSource, splits: Sequence[str]) -> None:
    split, ds = splits[0], src.dataset
    _lines(path, [f"/{ds.image(split, i)} /{ds.label(split, i)}" for i in src.splits[split]])


def _image_paths(path: Path, src: ListSource, splits: Sequence[str]) -> None:
    split = splits[0]
    _lines(path, [f"/{src.dataset.image(split, i)}" for i in src.splits[split]])


def _cls_labels_dict(path: Path, src: ListSource, splits: Sequence[str]) -> None:
    labels = {i: src.image_labels(split, i) for split, i in src.pairs(splits)}
    np.save(path, labels, allow_pickle=True)


def _cls_labels_int_keys(path: Path, src: ListSource, splits: Sequence[str]) -> None:
    pairs = src.pairs(splits)
    bad = [i for _, i in pairs if not i.replace("_", "").isdigit()]
    if bad:
        raise ValueError(
            f"format cls-labels-npy-int-keys needs ids of digits and '_' (like 2007_000032), "
            f"but {src.dataset.name} has {bad[0]!r}: use cls-labels-npy-dict"
        )
    # code that parses ids as ints: 2007_000032 -> 2007000032
    labels = {np.int32(i.replace("_", "")): src.image_labels(split, i) for split, i in pairs}
    np.save(path, labels, allow_pickle=True)


def _fg_ratio_dict(path: Path, src: ListSource, splits: Sequence[str]) -> None:
    ratios = {}
    for split, i in src.pairs(splits):
        label = read_label_png(src.base / src.dataset.label(split, i))
        ratios[i] = [float(np.mean(label == c)) for c in range(1, src.dataset.num_fg + 1)]
    np.save(path, ratios, allow_pickle=True)


@dataclass(frozen=True)
class ListFormat:
    """One file format: ``multi`` formats take ``splits`` (a list), the others one ``split``;
    ``write(path, source, splits)`` writes the file."""

    name: str
    multi: bool
    write: Callable[[Path, ListSource, Sequence[str]], None]


FORMATS: dict[str, ListFormat] = {
    f.name: f
    for f in [
        ListFormat("id-per-line", False, _id_per_line),
        ListFormat("image-label-paths", False, _image_label_paths),
        ListFormat("image-paths", False, _image_paths),
        ListFormat("cls-labels-npy-dict", True, _cls_labels_dict),
        ListFormat("cls-labels-npy-int-keys", True, _cls_labels_int_keys),
        ListFormat("fg-ratio-npy-dict", True, _fg_ratio_dict),
    ]
}
"""format name -> :class:`ListFormat`; a new format is one entry here plus its test."""


@dataclass(frozen=True)
class ListEntry:
    """One validated ``lists:`` entry: ``path`` relative to the output folder, its format, the
    split(s) it covers, and whether it is skipped when a split is absent (``optional``)."""

    path: str
    format: str
    splits: tuple[str, ...]
    optional: bool = False

    @classmethod
    def from_spec(cls, spec: Any, dataset: Dataset, index: int) -> ListEntry:
        """Check one entry of a method's ``lists[dataset]``; ValueError naming the fix."""
        where = f"lists entry {index}"
        if not isinstance(spec, Mapping):
            raise ValueError(f"{where} must be a mapping with path, format and split(s)")
        where += f" ({spec.get('path', 'no path')})"
        if "format" not in spec:
            raise ValueError(f"{where} lacks format: one of {', '.join(FORMATS)}")
        fmt = FORMATS.get(spec["format"])
        if fmt is None:
            raise ValueError(
                f"{where}: unknown format {spec['format']!r}; known: {', '.join(FORMATS)}"
            )
        key = "splits" if fmt.multi else "split"
        allowed = {"path", "format", key, "optional"}
        missing = sorted({"path", key} - set(spec))
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)} (format {fmt.name} needs {key})")
        if set(spec) - allowed:
            raise ValueError(
                f"{where}: unexpected keys {sorted(set(spec) - allowed)}; format {fmt.name} takes "
                f"{', '.join(sorted(allowed))}"
            )
        splits = spec[key] if fmt.multi else [spec[key]]
        if (
            not isinstance(splits, list)
            or not splits
            or not all(isinstance(s, str) for s in splits)
        ):
            raise ValueError(
                f"{where}: {key} must be {'a list of split names' if fmt.multi else 'a split name'}"
            )
        unknown = [s for s in splits if s not in dataset.split_names]
        if unknown:
            raise ValueError(
                f"{where}: unknown split {unknown[0]!r} for {dataset.name}; known: "
                f"{', '.join(dataset.split_names)}"
            )
        path = PurePosixPath(str(spec["path"]))
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ValueError(f"{where}: path must be relative to the lists folder, without '..'")
        return cls(str(path), fmt.name, tuple(splits), bool(spec.get("optional", False)))


def write_lists(
    dataset: Dataset,
    root: str | os.PathLike,
    spec: Sequence[Any],
    out_dir: str | os.PathLike,
) -> Path:
    """Write the files of ``spec`` (a method's ``lists[dataset]`` entries) from the dataset below
    the data root ``root`` into ``out_dir``.

    Every entry is checked before anything is read; a split absent from the dataset skips an
    ``optional`` entry and stops any other with the fix. Built in a temp folder and swapped in
    whole, so ``out_dir`` is either complete or absent/unchanged. Returns ``out_dir``.
    """
    entries = [ListEntry.from_spec(e, dataset, k) for k, e in enumerate(spec)]
    paths = [e.path for e in entries]
    dup = next((p for p in paths if paths.count(p) > 1), None)
    if dup is not None:
        raise ValueError(f"lists: {dup} is listed twice: keep one entry per file")
    source = ListSource(dataset, root)
    with building_dir(out_dir) as tmp:
        for entry in entries:
            absent = [s for s in entry.splits if s not in source.splits]
            if absent and entry.optional:
                continue
            if absent:
                raise ValueError(
                    f"lists: {entry.path} needs split {absent[0]!r}, which {Path(root)} does not "
                    f"have: prepare it (VOC test: `hfpl data voc --test`) or mark the entry "
                    "optional: true"
                )
            path = tmp / entry.path
            path.parent.mkdir(parents=True, exist_ok=True)
            FORMATS[entry.format].write(path, source, entry.splits)
    return Path(out_dir)
