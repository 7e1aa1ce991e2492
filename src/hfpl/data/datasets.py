"""The dataset kinds, as a registry keyed by what they are: ``DATASETS["voc"]``, ``["coco"]``.

Each :class:`Dataset` says where its files live below a data root (``base``, see
:mod:`hfpl.data.layout`), which splits it has and their ids, the image and training-label path
of an id (relative to ``base``: what list files name), an image's image-level labels
(float32[num_fg]), and how to build it: ``prepare`` (real data from the archives) or ``smoke``
(a small synthetic tree). Both write the content manifest last (:mod:`hfpl.data.manifest`).
Which list files a method wants is data in its YAML (``lists:``), written by
:func:`hfpl.data.lists.write_lists`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfpl.classes import COCO_CATEGORIES, VOC_CLASSES
from hfpl.data import coco, voc
from hfpl.data.layout import DATASET_DIRS, MARKER
from hfpl.data.manifest import verify, write_manifest

SMOKE_MIN_IMAGES = 3
"""Smallest smoke dataset: one train image, one val image, and a third so train has two."""
SMOKE_MIN_SIZE = 32
"""Smallest smoke image width (px): the objects and VOC's void band need room."""


@dataclass(frozen=True)
class Dataset:
    """One dataset kind.

    name: registry key; num_fg: foreground classes (C_fg; labels are float32[C_fg]);
    split_names: every split it can have; read_splits(base_dir) -> {split: ids} of the splits
    present (raises naming the fix when a required one is missing); image(split, id) /
    label(split, id): image and training-label path relative to ``base``; image_labels(base_dir,
    split, id) -> float32[C_fg]; build(root, downloads, **options) -> dataset folder; generate(
    root, images, size, seed) -> dataset folder (synthetic).
    """

    name: str
    num_fg: int
    split_names: tuple[str, ...]
    read_splits: Callable[[Path], dict[str, list[str]]]
    image: Callable[[str, str], str]
    label: Callable[[str, str], str]
    image_labels: Callable[[Path, str, str], np.ndarray]
    build: Callable[..., Path] = field(repr=False)
    generate: Callable[[Path, int, int, int], Path] = field(repr=False)

    @property
    def base(self) -> str:
        """The folder below the data root holding this dataset (list paths are relative to it)."""
        return DATASET_DIRS[self.name]

    def splits(self, root: str | os.PathLike) -> dict[str, list[str]]:
        """{split: ids} of the dataset below the data root ``root``."""
        return self.read_splits(Path(root) / self.base)

    def prepare(
        self, root: str | os.PathLike, downloads: str | os.PathLike, **options: Any
    ) -> Path:
        """Build the real dataset below ``root`` (archives in ``downloads``), then its manifest.

        A dataset that already has a manifest is verified first (a changed file is never
        blessed into a new manifest) and then completed (e.g. VOC's ``test=True``). Returns the
        manifest's path.
        """
        root = Path(root)
        if (root / MARKER).exists():
            verify(root)
            (root / MARKER).unlink()
        self.build(root, downloads, **options)
        return write_manifest(root, self.name)

    def smoke(self, root: str | os.PathLike, images: int, size: int, seed: int) -> Path:
        """Write the synthetic dataset below ``root`` (same arguments -> same bytes), then its
        manifest; returns the manifest's path. ValueError naming the smallest valid value when
        ``images`` or ``size`` is too small."""
        if images < SMOKE_MIN_IMAGES:
            raise ValueError(
                f"--images {images} is too few for a smoke dataset: use --images "
                f"{SMOKE_MIN_IMAGES} or more"
            )
        if size < SMOKE_MIN_SIZE:
            raise ValueError(
                f"--size {size} is too small for a smoke dataset: use --size {SMOKE_MIN_SIZE} "
                "or more"
            )
        root = Path(root)
        (root / MARKER).unlink(missing_ok=True)  # the tree is about to change
        self.generate(root, images, size, seed)
        return write_manifest(root, self.name)


def _voc_build(root: Path, downloads: str | os.PathLike, test: bool = False) -> Path:
    from hfpl.data.prepare import prepare_voc  # the download stack only when preparing

    return prepare_voc(root, downloads, test=test)


def _coco_build(root: Path, downloads: str | os.PathLike) -> Path:
    from hfpl.data.prepare import prepare_coco

    return prepare_coco(root, downloads)


def _voc_generate(root: Path, images: int, size: int, seed: int) -> Path:
    from hfpl.data.voc_smoke import generate_voc_smoke

    return generate_voc_smoke(root, images=images, size=size, seed=seed)


def _coco_generate(root: Path, images: int, size: int, seed: int) -> Path:
    from hfpl.data.coco_smoke import generate_coco_smoke

    return generate_coco_smoke(root, images=images, size=size, seed=seed)


def _coco_label(split: str, name: str) -> str:
    return f"SegmentationClass/{split}/{name}.png"


DATASETS: dict[str, Dataset] = {
    "voc": Dataset(
        name="voc",
        num_fg=len(VOC_CLASSES),
        split_names=voc.SPLITS,
        read_splits=voc.read_splits,
        image=lambda split, i: f"JPEGImages/{i}.jpg",
        label=lambda split, i: f"SegmentationClassAug/{i}.png",
        image_labels=lambda base, split, i: voc.image_labels(base, i),
        build=_voc_build,
        generate=_voc_generate,
    ),
    "coco": Dataset(
        name="coco",
        num_fg=len(COCO_CATEGORIES),
        split_names=tuple(coco.COCO_SPLITS),
        read_splits=lambda base: {s: coco.read_coco_names(base, s) for s in coco.COCO_SPLITS},
        image=lambda split, i: f"{split}/{i}.jpg",
        label=_coco_label,
        image_labels=lambda base, split, i: coco.mask_labels(base / _coco_label(split, i)),
        build=_coco_build,
        generate=_coco_generate,
    ),
}
"""dataset kind -> its :class:`Dataset`; a new kind is one entry here plus its test."""


def get(name: str) -> Dataset:
    """The dataset kind ``name`` (ValueError listing the known ones if absent)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None
