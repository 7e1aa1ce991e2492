"""SBD .mat -> SegmentationClassAug on a tiny tree written here in SBD's struct layout."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from hfpl.data.sbd import build_segmentation_class_aug, load_sbd_mat
from hfpl.data.voc import read_label_png, write_label_png


def _write_mat(path, seg):
    # SBD's layout: a struct GTcls with fields Segmentation, Boundaries, CategoriesPresent
    boundaries = np.empty((1, 1), object)
    boundaries[0, 0] = np.zeros(seg.shape, np.uint8)
    gt = {"Segmentation": seg.astype(np.uint8), "Boundaries": boundaries,
          "CategoriesPresent": np.unique(seg[seg > 0]).astype(np.uint8)}  # fmt: skip
    scipy.io.savemat(path, {"GTcls": gt})


@pytest.fixture
def tree(tmp_path):
    voc, sbd = tmp_path / "VOC2012", tmp_path / "benchmark_RELEASE" / "dataset"
    (voc / "ImageSets" / "Segmentation").mkdir(parents=True)
    (voc / "SegmentationClass").mkdir()
    (sbd / "cls").mkdir(parents=True)
    (voc / "ImageSets/Segmentation/train.txt").write_text("2007_000001\n2007_000002\n")
    (voc / "ImageSets/Segmentation/val.txt").write_text("2007_000003\n")
    (sbd / "train.txt").write_text("2008_000001\n2007_000003\n")  # val id: must be excluded
    (sbd / "val.txt").write_text("2008_000002\n2007_000002\n")
    rng = np.random.default_rng(0)
    segs = {}
    for i in ["2007_000001", "2007_000002", "2007_000003"]:
        lab = rng.integers(0, 21, (6, 7)).astype(np.uint8)
        lab[0] = 255  # VOC void band
        write_label_png(voc / "SegmentationClass" / f"{i}.png", lab)
        segs[i] = lab
    for i in ["2008_000001", "2008_000002", "2007_000002", "2007_000003"]:
        seg = rng.integers(0, 21, (5, 4)).astype(np.uint8)
        _write_mat(sbd / "cls" / f"{i}.mat", seg)
        segs.setdefault(i, seg)  # VOC's mask wins where both exist
    return voc, sbd, segs


def test_loads_gtcls_segmentation(tmp_path):
    seg = np.arange(20, dtype=np.uint8).reshape(4, 5)
    _write_mat(tmp_path / "a.mat", seg)
    out = load_sbd_mat(tmp_path / "a.mat")
    assert out.dtype == np.uint8 and np.array_equal(out, seg)


def test_builds_train_aug_and_labels(tree):
    voc, sbd, segs = tree
    ids = build_segmentation_class_aug(voc, sbd, expected_train_aug=4, progressbar=False)
    assert ids == ["2007_000001", "2007_000002", "2008_000001", "2008_000002"]
    assert (voc / "ImageSets/Segmentation/train_aug.txt").read_text().split() == ids
    written = sorted(p.stem for p in (voc / "SegmentationClassAug").iterdir())
    assert written == sorted([*ids, "2007_000003"])
    for i in written:
        assert np.array_equal(read_label_png(voc / "SegmentationClassAug" / f"{i}.png"), segs[i])


def test_wrong_count_fails_before_writing(tree):
    voc, sbd, _ = tree
    with pytest.raises(ValueError, match="train_aug has 4 ids, expected 10582"):
        build_segmentation_class_aug(voc, sbd, progressbar=False)
    assert not (voc / "SegmentationClassAug").exists()
    assert not (voc / "ImageSets/Segmentation/train_aug.txt").exists()


def test_bad_label_values_leave_nothing(tree):
    voc, sbd, _ = tree
    _write_mat(sbd / "cls" / "2008_000002.mat", np.full((3, 3), 30, np.uint8))
    with pytest.raises(ValueError, match="values 0..20"):
        build_segmentation_class_aug(voc, sbd, expected_train_aug=None, progressbar=False)
    assert not (voc / "SegmentationClassAug").exists()
    assert not (voc / "ImageSets/Segmentation/train_aug.txt").exists()
    assert [p.name for p in voc.iterdir() if p.name.startswith(".")] == []
