"""SBD -> ``SegmentationClassAug``: the 10,582-image ``train_aug`` labels, built from SBD's
``cls/*.mat`` (``GTcls.Segmentation``) plus VOC's own ``SegmentationClass`` (VOC wins where both
exist, keeping its 255 void band), as mmseg's voc_aug converter does. Written inside the VOC
tree before it is frozen; ``ImageSets/Segmentation/train_aug.txt`` is written last."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.io
from tqdm.auto import tqdm

from hfpl.data.voc import VOID, read_ids, read_label_png, write_label_png
from hfpl.io import building_dir, building_file

VOC_TRAIN_AUG = 10_582


def load_sbd_mat(path: str | os.PathLike) -> np.ndarray:
    """Class map of one SBD ``cls/<id>.mat``: ``GTcls.Segmentation`` as (H, W) uint8, 0..20."""
    mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    try:
        seg = np.asarray(mat["GTcls"].Segmentation)
    except (KeyError, AttributeError) as err:
        raise ValueError(f"{path}: not an SBD class file (no GTcls.Segmentation)") from err
    if seg.ndim != 2 or seg.min() < 0 or seg.max() > 20:
        raise ValueError(f"{path}: GTcls.Segmentation must be 2-D with values 0..20")
    return seg.astype(np.uint8)


def train_aug_ids(voc_root: Path, sbd_dataset: Path) -> list[str]:
    """(VOC train | SBD train | SBD val) - VOC val, sorted."""
    sets = voc_root / "ImageSets" / "Segmentation"
    voc_val = set(read_ids(sets / "val.txt"))
    pool = set(read_ids(sets / "train.txt"))
    for name in ("train.txt", "val.txt"):
        pool |= set(read_ids(sbd_dataset / name))
    return sorted(pool - voc_val)


def build_segmentation_class_aug(
    voc_root: str | os.PathLike,
    sbd_dataset: str | os.PathLike,
    expected_train_aug: int | None = VOC_TRAIN_AUG,
    progressbar: bool = True,
) -> list[str]:
    """Write ``voc_root/SegmentationClassAug/<id>.png`` for train_aug + val and
    ``ImageSets/Segmentation/train_aug.txt``; return the train_aug ids.

    sbd_dataset: SBD's ``benchmark_RELEASE/dataset`` (``cls/``, ``train.txt``, ``val.txt``).
    Checks the train_aug count (``expected_train_aug``; None skips) and that every label is in
    {0..20, 255}. Idempotent: returns at once if train_aug.txt exists.
    """
    voc_root, sbd_dataset = Path(voc_root), Path(sbd_dataset)
    marker = voc_root / "ImageSets" / "Segmentation" / "train_aug.txt"
    if marker.exists():
        return read_ids(marker)
    ids = train_aug_ids(voc_root, sbd_dataset)
    if expected_train_aug is not None and len(ids) != expected_train_aug:
        raise ValueError(
            f"train_aug has {len(ids)} ids, expected {expected_train_aug}: check that {voc_root} "
            f"is VOC2012 trainval and {sbd_dataset} is SBD's benchmark_RELEASE/dataset"
        )
    val = read_ids(voc_root / "ImageSets" / "Segmentation" / "val.txt")
    with building_dir(voc_root / "SegmentationClassAug") as out:
        for img_id in tqdm(ids + val, desc="SegmentationClassAug", disable=not progressbar):
            voc_png = voc_root / "SegmentationClass" / f"{img_id}.png"
            if voc_png.exists():
                label = read_label_png(voc_png)
            elif (sbd_dataset / "cls" / f"{img_id}.mat").exists():
                label = load_sbd_mat(sbd_dataset / "cls" / f"{img_id}.mat")
            else:
                raise ValueError(
                    f"no label for {img_id}: neither {voc_png} nor SBD cls/{img_id}.mat"
                )
            bad = set(np.unique(label).tolist()) - set(range(21)) - {VOID}
            if bad:
                raise ValueError(f"{img_id}: label values {sorted(bad)} outside 0..20 and 255")
            write_label_png(out / f"{img_id}.png", label)
    with building_file(marker) as tmp:
        tmp.write_text("".join(i + "\n" for i in ids))
    return ids
