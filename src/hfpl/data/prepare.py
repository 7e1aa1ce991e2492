"""Whole-dataset preparation: fetch archives, extract, build pixel labels, check counts.

Every step is idempotent (skips when its output exists) and atomic, so a rerun after an
interruption picks up where it stopped. The content manifest is written after these by
:meth:`hfpl.data.datasets.Dataset.prepare`; list files are not part of a dataset.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from hfpl.data import registry
from hfpl.data.coco import COCO_SPLITS, build_coco_labels
from hfpl.data.download import fetch
from hfpl.data.sbd import build_segmentation_class_aug
from hfpl.data.voc import extract_tar, read_ids
from hfpl.io import building_dir

VOC_COUNTS = {"train": 1_464, "val": 1_449, "train_aug": 10_582, "test": 1_456}


def prepare_voc(root: str | os.PathLike, downloads: str | os.PathLike, test: bool = False) -> Path:
    """``root/VOCdevkit/VOC2012`` with SegmentationClassAug + train_aug.txt (and the test split
    if ``test``, from a VOC2012test.tar placed in ``downloads`` by hand); returns that folder."""
    root, downloads = Path(root), Path(downloads)
    voc = root / "VOCdevkit" / "VOC2012"
    trainval = fetch(registry.get("VOCtrainval_11-May-2012.tar"), downloads)
    extract_tar(trainval, root, "VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt")
    sbd = fetch(registry.get("benchmark.tgz"), downloads)
    sbd_dataset = extract_tar(sbd, downloads / "sbd", "benchmark_RELEASE/dataset/val.txt").parent
    build_segmentation_class_aug(voc, sbd_dataset)
    if test:
        tar = fetch(registry.get("VOC2012test.tar"), downloads)
        extract_tar(tar, root, "VOCdevkit/VOC2012/ImageSets/Segmentation/test.txt")
    for split, n in VOC_COUNTS.items():
        path = voc / "ImageSets" / "Segmentation" / f"{split}.txt"
        if (split != "test" or test) and len(read_ids(path)) != n:
            raise ValueError(f"{path} has {len(read_ids(path))} ids, expected {n}: re-extract")
    return voc


def _extract_zip(archive: Path, dest: Path) -> Path:
    """Unzip ``archive`` (one top folder, e.g. ``train2014/``) into ``dest`` atomically."""
    with zipfile.ZipFile(archive) as zf:
        top = zf.namelist()[0].split("/")[0]
        if (dest / top).exists():
            return dest / top
        with building_dir(dest / top) as tmp:
            zf.extractall(tmp)
            for entry in (tmp / top).iterdir():
                entry.rename(tmp / entry.name)
            (tmp / top).rmdir()
    return dest / top


def prepare_coco(root: str | os.PathLike, downloads: str | os.PathLike) -> Path:
    """``root/coco`` with ``train2014/``, ``val2014/``, ``annotations/``, pixel labels in
    ``SegmentationClass/{train2014,val2014}/<file stem>.png`` and ``ImageSets/<split>.txt``
    (written after its split's labels); returns that folder."""
    coco = Path(root) / "coco"
    downloads = Path(downloads)
    for name in ("annotations_trainval2014.zip", "train2014.zip", "val2014.zip"):
        _extract_zip(fetch(registry.get(name), downloads), coco)
    for split, n in COCO_SPLITS.items():
        listing = coco / "ImageSets" / f"{split}.txt"
        if not listing.exists():
            ann = coco / "annotations" / f"instances_{split}.json"
            build_coco_labels(ann, coco / "SegmentationClass" / split, listing, expected=n)
    return coco
