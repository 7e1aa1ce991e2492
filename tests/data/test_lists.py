"""List/label formats: one test per registry entry with the expected content written out by
hand, then the spec checks (each bad entry one error naming the fix, nothing written)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hfpl.data.datasets import DATASETS
from hfpl.data.lists import FORMATS, write_lists

VOC_IDS = [f"2007_{i:06d}" for i in range(1, 10)]  # the voc_root fixture: 6 train, 3 val
COCO_TRAIN = [f"COCO_train2014_{i:012d}" for i in range(1, 7)]
COCO_VAL = [f"COCO_val2014_{i:012d}" for i in range(7, 10)]


def _write(kind, root, entries, out):
    return write_lists(DATASETS[kind], root, entries, out)


def _mask(root, rel):
    return np.array(Image.open(root / rel))


def test_registry_holds_exactly_the_tested_formats():
    assert sorted(FORMATS) == sorted(
        [
            "id-per-line",
            "image-label-paths",
            "image-paths",
            "cls-labels-npy-dict",
            "cls-labels-npy-int-keys",
            "fg-ratio-npy-dict",
        ]  # fmt: skip
    )  # a new format needs its own test below


def test_id_per_line(voc_root, tmp_path):
    _write("voc", voc_root, [{"path": "a/ids.txt", "format": "id-per-line", "split": "val"}],
           tmp_path / "out")  # fmt: skip
    assert (tmp_path / "out/a/ids.txt").read_text() == "2007_000007\n2007_000008\n2007_000009\n"


def test_image_label_paths_voc_and_coco(voc_root, coco_root, tmp_path):
    entry = {"path": "l.txt", "format": "image-label-paths", "split": "train_aug"}
    _write("voc", voc_root, [entry], tmp_path / "voc")
    lines = (tmp_path / "voc/l.txt").read_text().splitlines()
    assert lines == [f"/JPEGImages/{i}.jpg /SegmentationClassAug/{i}.png" for i in VOC_IDS[:6]]
    # upstream cuts names with [-15:-4] (SEAM) and [12:-4] (Spatial-BCE)
    assert [ln.split(" ")[0][-15:-4] for ln in lines] == VOC_IDS[:6]
    assert [ln.split(" ")[0][12:-4] for ln in lines] == VOC_IDS[:6]
    _write("coco", coco_root, [{**entry, "split": "val2014"}], tmp_path / "coco")
    lines = (tmp_path / "coco/l.txt").read_text().splitlines()
    assert lines == [f"/val2014/{n}.jpg /SegmentationClass/val2014/{n}.png" for n in COCO_VAL]
    for line in lines:  # both paths resolve below the COCO folder
        img, gt = line.split(" ")
        assert (coco_root / "coco" / img[1:]).is_file() and (coco_root / "coco" / gt[1:]).is_file()


def test_image_paths(voc_root, tmp_path):
    _write("voc", voc_root, [{"path": "t.txt", "format": "image-paths", "split": "val"}],
           tmp_path / "out")  # fmt: skip
    assert (tmp_path / "out/t.txt").read_text().splitlines() == [
        f"/JPEGImages/{i}.jpg" for i in VOC_IDS[6:]
    ]


def test_cls_labels_npy_dict_voc_and_coco(voc_root, coco_root, tmp_path):
    entry = {"path": "cls.npy", "format": "cls-labels-npy-dict"}
    _write("voc", voc_root, [{**entry, "splits": ["train_aug", "val"]}], tmp_path / "voc")
    labels = np.load(tmp_path / "voc/cls.npy", allow_pickle=True).item()
    assert list(labels) == VOC_IDS
    for i, vec in labels.items():
        mask = _mask(voc_root, f"VOCdevkit/VOC2012/SegmentationClassAug/{i}.png")
        present = sorted(set(np.unique(mask).tolist()) - {0, 255})
        assert vec.dtype == np.float32 and vec.shape == (20,)
        assert np.flatnonzero(vec).tolist() == [v - 1 for v in present]
    _write("coco", coco_root, [{**entry, "splits": ["train2014", "val2014"]}], tmp_path / "coco")
    labels = np.load(tmp_path / "coco/cls.npy", allow_pickle=True).item()
    assert list(labels) == COCO_TRAIN + COCO_VAL
    for name, vec in labels.items():
        split = name.split("_")[1]
        mask = _mask(coco_root, f"coco/SegmentationClass/{split}/{name}.png")
        assert vec.dtype == np.float32 and vec.shape == (80,)
        assert np.flatnonzero(vec).tolist() == [v - 1 for v in sorted(set(mask.ravel()) - {0})]


def test_cls_labels_npy_dict_covers_each_id_once(voc_root, tmp_path):
    entry = {"path": "c.npy", "format": "cls-labels-npy-dict", "splits": ["train", "train_aug"]}
    _write("voc", voc_root, [entry], tmp_path / "out")  # smoke train_aug == train
    assert list(np.load(tmp_path / "out/c.npy", allow_pickle=True).item()) == VOC_IDS[:6]


def test_cls_labels_npy_int_keys(voc_root, tmp_path):
    spec = [
        {"path": "s.npy", "format": "cls-labels-npy-dict", "splits": ["train_aug", "val"]},
        {"path": "i.npy", "format": "cls-labels-npy-int-keys", "splits": ["train_aug", "val"]},
    ]
    _write("voc", voc_root, spec, tmp_path / "out")
    str_keys = np.load(tmp_path / "out/s.npy", allow_pickle=True).item()
    int_keys = np.load(tmp_path / "out/i.npy", allow_pickle=True).item()
    assert list(int_keys) == [2007000001 + k for k in range(9)]
    assert all(isinstance(k, np.int32) for k in int_keys)
    assert all(np.array_equal(int_keys[int(i.replace("_", ""))], v) for i, v in str_keys.items())


def test_cls_labels_npy_int_keys_refuses_non_numeric_ids(coco_root, tmp_path):
    entry = {"path": "i.npy", "format": "cls-labels-npy-int-keys", "splits": ["val2014"]}
    with pytest.raises(ValueError, match="use cls-labels-npy-dict"):
        _write("coco", coco_root, [entry], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_fg_ratio_npy_dict(voc_root, tmp_path):
    entry = {"path": "prior.npy", "format": "fg-ratio-npy-dict", "splits": ["train_aug", "val"]}
    _write("voc", voc_root, [entry], tmp_path / "out")
    prior = np.load(tmp_path / "out/prior.npy", allow_pickle=True).item()
    assert list(prior) == VOC_IDS
    for i, ratios in prior.items():
        mask = _mask(voc_root, f"VOCdevkit/VOC2012/SegmentationClassAug/{i}.png")
        assert len(ratios) == 20 and all(isinstance(r, float) for r in ratios)
        for c in range(1, 21):  # pixel counts by hand: fraction of all pixels (void included)
            assert ratios[c - 1] == pytest.approx((mask == c).sum() / mask.size)
        assert 0 < sum(ratios) < 1  # background and the void band are not foreground


def test_optional_entry_is_skipped_when_its_split_is_absent(voc_root, tmp_path):
    spec = [{"path": "test.txt", "format": "image-paths", "split": "test", "optional": True},
            {"path": "val.txt", "format": "id-per-line", "split": "val"}]  # fmt: skip
    _write("voc", voc_root, spec, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["val.txt"]


def test_out_dir_is_swapped_whole(voc_root, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.txt").write_text("old")
    _write("voc", voc_root, [{"path": "v.txt", "format": "id-per-line", "split": "val"}],
           tmp_path / "out")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folders left
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["v.txt"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "a.txt", "format": "ids", "split": "val"},
         "unknown format 'ids'; known: id-per-line, image-label-paths, image-paths"),
        ({"path": "a.txt", "split": "val"}, "lacks format: one of id-per-line"),
        ({"path": "a.txt", "format": "id-per-line"}, "lacks split"),
        ({"format": "id-per-line", "split": "val"}, "lacks path"),
        ({"path": "a.npy", "format": "cls-labels-npy-dict", "split": "val"}, "lacks splits"),
        ({"path": "a.txt", "format": "id-per-line", "split": "vall"},
         "unknown split 'vall' for voc; known: train, train_aug, val, test"),
        ({"path": "a.txt", "format": "id-per-line", "split": "val", "size": 3},
         "unexpected keys ['size']"),
        ({"path": "../a.txt", "format": "id-per-line", "split": "val"}, "without '..'"),
        ({"path": "a.txt", "format": "id-per-line", "split": "test"},
         "needs split 'test', which .* does not have: prepare it .* or mark the entry optional"),
        ("a.txt", "must be a mapping"),
    ],
)  # fmt: skip
def test_bad_entry_is_one_error_naming_the_fix_and_writes_nothing(voc_root, tmp_path, entry,
                                                                   message):  # fmt: skip
    ok = {"path": "ok.txt", "format": "id-per-line", "split": "val"}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        _write("voc", voc_root, [ok, entry], tmp_path / "out")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_same_path_twice_is_refused(voc_root, tmp_path):
    entry = {"path": "a.txt", "format": "id-per-line", "split": "val"}
    with pytest.raises(ValueError, match="a.txt is listed twice"):
        _write("voc", voc_root, [entry, {**entry, "split": "train"}], tmp_path / "out")
