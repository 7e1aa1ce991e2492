"""List files and image-level class-label files, in each upstream method's exact format.

Built from a VOC tree (``ImageSets/Segmentation/*.txt`` + ``Annotations/*.xml``, falling back to
``SegmentationClassAug`` masks for ids without XML), never copied from the upstream repos.
The output mirrors each repo's relative paths so the workflow can link them into a checkout::

    seam/voc12/{train,train_aug,val[,test]}.txt, cls_labels.npy       (also pmm/voc12/...)
    sipe/data/{train_voc,trainaug_voc,val_voc}.txt, cls_labels_voc.npy
    mctformer/voc12/{train_id,train_aug_id,val_id}.txt, cls_labels.npy
    mctformer/psa/voc12/{train,train_aug}.txt
    spatial-bce/datasets/{train,train_aug}.txt, cls_labels.npy
    irn/voc12/{train,train_aug,val}.txt, cls_labels.npy               (int keys YYYYNNNNNN)
    codebase/ImageSets/Segmentation/{train,trainaug,val}.txt           (bare ids)
    deeplab-pytorch/ImageSets/SegmentationAug/{train_aug,val}.txt

"paths" lines are ``/JPEGImages/<id>.jpg /SegmentationClassAug/<id>.png`` (test: image only);
class labels are {id: float32[20]} over train_aug + val, like the upstream files.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from hfpl.classes import VOC_CLASSES
from hfpl.io import building_dir
from hfpl.data.voc import VOID, read_label_png

ID_RE = re.compile(r"^\d{4}_\d{6}$")
"""VOC ids are exactly 11 characters (``2007_000032``): upstream cuts names with [-15:-4]."""

# method dir -> [(relative file, kind, split)]; kind: paths | ids | cls_str | cls_int
METHOD_FILES: dict[str, list[tuple[str, str, str]]] = {
    "seam": [
        ("voc12/train.txt", "paths", "train"),
        ("voc12/train_aug.txt", "paths", "train_aug"),
        ("voc12/val.txt", "paths", "val"),
        ("voc12/test.txt", "paths", "test"),
        ("voc12/cls_labels.npy", "cls_str", ""),
    ],
    "sipe": [
        ("data/train_voc.txt", "paths", "train"),
        ("data/trainaug_voc.txt", "paths", "train_aug"),
        ("data/val_voc.txt", "paths", "val"),
        ("data/test.txt", "paths", "test"),
        ("data/cls_labels_voc.npy", "cls_str", ""),
    ],
    "mctformer": [
        ("voc12/train_id.txt", "ids", "train"),
        ("voc12/train_aug_id.txt", "ids", "train_aug"),
        ("voc12/val_id.txt", "ids", "val"),
        ("voc12/cls_labels.npy", "cls_str", ""),
        ("psa/voc12/train.txt", "paths", "train"),
        ("psa/voc12/train_aug.txt", "paths", "train_aug"),
    ],
    "spatial-bce": [
        ("datasets/train.txt", "paths", "train"),
        ("datasets/train_aug.txt", "paths", "train_aug"),
        ("datasets/cls_labels.npy", "cls_str", ""),
    ],
    "irn": [
        ("voc12/train.txt", "ids", "train"),
        ("voc12/train_aug.txt", "ids", "train_aug"),
        ("voc12/val.txt", "ids", "val"),
        ("voc12/cls_labels.npy", "cls_int", ""),
    ],
    "codebase": [
        ("ImageSets/Segmentation/train.txt", "ids", "train"),
        ("ImageSets/Segmentation/trainaug.txt", "ids", "train_aug"),
        ("ImageSets/Segmentation/val.txt", "ids", "val"),
    ],
    "deeplab-pytorch": [
        ("ImageSets/SegmentationAug/train_aug.txt", "paths", "train_aug"),
        ("ImageSets/SegmentationAug/val.txt", "paths", "val"),
    ],
}
METHOD_FILES["pmm"] = METHOD_FILES["seam"]  # PMM hard-codes SEAM's voc12/ files


def read_ids(path: str | os.PathLike) -> list[str]:
    """Ids of a VOC ImageSets file (one per line), checked to be ``YYYY_NNNNNN``."""
    ids = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    bad = [i for i in ids if not ID_RE.match(i)]
    if bad:
        raise ValueError(
            f"{path}: ids must look like 2007_000032 (11 characters), got {bad[:3]}; "
            "upstream code cuts names at fixed offsets, so rename the images"
        )
    return ids


def read_splits(voc_root: str | os.PathLike) -> dict[str, list[str]]:
    """{split: ids} from ``voc_root/ImageSets/Segmentation``; train, train_aug, val required,
    test optional."""
    sets = Path(voc_root) / "ImageSets" / "Segmentation"
    splits = {}
    for split in ("train", "train_aug", "val", "test"):
        path = sets / f"{split}.txt"
        if path.exists():
            splits[split] = read_ids(path)
        elif split != "test":
            hint = (
                "run `hfpl data voc` (it builds train_aug from SBD)" if split == "train_aug" else ""
            )
            raise ValueError(f"{path} not found: is {voc_root} a prepared VOC2012 folder? {hint}")
    return splits


def image_labels(voc_root: str | os.PathLike, img_id: str) -> np.ndarray:
    """Image-level labels float32[20] of one image: the VOC classes named in its XML annotation
    (as upstream make_cls_labels.py does), else the classes present in its SegmentationClassAug
    mask."""
    root = Path(voc_root)
    labels = np.zeros(len(VOC_CLASSES), np.float32)
    xml = root / "Annotations" / f"{img_id}.xml"
    if xml.exists():
        for el in ET.parse(xml).getroot().iter("name"):
            name = (el.text or "").strip()
            if name in VOC_CLASSES:
                labels[VOC_CLASSES.index(name)] = 1.0
        return labels
    mask_path = root / "SegmentationClassAug" / f"{img_id}.png"
    if not mask_path.exists():
        raise ValueError(f"no label source for {img_id}: neither {xml} nor {mask_path} exists")
    values = np.unique(read_label_png(mask_path))
    for v in values[(values > 0) & (values != VOID)]:
        if v > len(VOC_CLASSES):
            raise ValueError(f"{mask_path}: label value {v} outside 0..20 and 255")
        labels[v - 1] = 1.0
    return labels


def class_labels(voc_root: str | os.PathLike, ids: list[str]) -> dict[str, np.ndarray]:
    """{id: float32[20]} for ``ids`` (see image_labels)."""
    return {i: image_labels(voc_root, i) for i in ids}


def _path_line(img_id: str, split: str) -> str:
    if split == "test":
        return f"/JPEGImages/{img_id}.jpg"
    return f"/JPEGImages/{img_id}.jpg /SegmentationClassAug/{img_id}.png"


def write_method_lists(
    voc_root: str | os.PathLike,
    out_dir: str | os.PathLike,
    splits: dict[str, list[str]] | None = None,
) -> Path:
    """Write every method's list and class-label files under ``out_dir`` (layout above).

    ``splits`` defaults to read_splits(voc_root). Built in a temp dir and swapped in at the end,
    so ``out_dir`` is either complete or absent. Returns ``out_dir``.
    """
    splits = read_splits(voc_root) if splits is None else splits
    labelled = list(dict.fromkeys(splits["train_aug"] + splits["val"]))
    labels = class_labels(voc_root, labelled)
    out = Path(out_dir)
    with building_dir(out) as tmp:
        for method, files in METHOD_FILES.items():
            for rel, kind, split in files:
                if kind in ("paths", "ids") and split not in splits:
                    continue  # the optional test split
                path = tmp / method / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                if kind == "paths":
                    path.write_text("".join(_path_line(i, split) + "\n" for i in splits[split]))
                elif kind == "ids":
                    path.write_text("".join(i + "\n" for i in splits[split]))
                elif kind == "cls_str":
                    np.save(path, labels, allow_pickle=True)
                else:  # IRN parses ids as ints: 2007_000032 -> 2007000032
                    int_keys = {np.int32(i.replace("_", "")): v for i, v in labels.items()}
                    np.save(path, int_keys, allow_pickle=True)
    return out
