"""VOC helpers: palette, label PNG round trip, atomic idempotent tar extraction."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from hfpl.data.voc import (
    extract_tar,
    read_ids,
    read_label_png,
    read_splits,
    voc_palette,
    write_label_png,
)


def test_palette_known_colours():
    pal = voc_palette()
    assert pal[1].tolist() == [128, 0, 0] and pal[15].tolist() == [192, 128, 128]
    assert pal[255].tolist() == [224, 224, 192]


def test_label_png_round_trip_and_errors(tmp_path):
    label = np.array([[0, 1, 255], [20, 7, 0]], np.uint8)
    write_label_png(tmp_path / "a.png", label)
    assert np.array_equal(read_label_png(tmp_path / "a.png"), label)
    with pytest.raises(ValueError, match="2-D uint8"):
        write_label_png(tmp_path / "b.png", label.astype(np.int32))


def _tar(path, files):
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extract_is_atomic_idempotent_and_merges(tmp_path):
    _tar(tmp_path / "a.tar", {"VOCdevkit/VOC2012/x.txt": b"x", "VOCdevkit/VOC2012/done": b""})
    _tar(tmp_path / "b.tar", {"VOCdevkit/VOC2012/y.txt": b"y", "VOCdevkit/VOC2012/done2": b""})
    dest = tmp_path / "root"
    assert extract_tar(tmp_path / "a.tar", dest, "VOCdevkit/VOC2012/done").exists()
    (dest / "VOCdevkit/VOC2012/x.txt").write_bytes(b"kept")
    extract_tar(tmp_path / "a.tar", dest, "VOCdevkit/VOC2012/done")  # no-op: marker exists
    assert (dest / "VOCdevkit/VOC2012/x.txt").read_bytes() == b"kept"
    extract_tar(tmp_path / "b.tar", dest, "VOCdevkit/VOC2012/done2")
    assert sorted(p.name for p in (dest / "VOCdevkit/VOC2012").iterdir()) == [
        "done", "done2", "x.txt", "y.txt"]  # fmt: skip
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]


def test_wrong_archive_leaves_nothing(tmp_path):
    _tar(tmp_path / "c.tar", {"other/file.txt": b"z"})
    with pytest.raises(ValueError, match="does not contain VOCdevkit/VOC2012/done"):
        extract_tar(tmp_path / "c.tar", tmp_path / "root", "VOCdevkit/VOC2012/done")
    assert list((tmp_path / "root").iterdir()) == []


def test_ids_and_splits_are_checked(tmp_path):
    sets = tmp_path / "ImageSets" / "Segmentation"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("2007_000032\n2007_000039\n")
    (sets / "val.txt").write_text("2007_000033\n")
    with pytest.raises(ValueError, match="train_aug.txt not found: .*run `hfpl data voc`"):
        read_splits(tmp_path)
    (sets / "train_aug.txt").write_text("2007_000032\n")
    assert read_splits(tmp_path) == {
        "train": ["2007_000032", "2007_000039"], "train_aug": ["2007_000032"],
        "val": ["2007_000033"],
    }  # fmt: skip
    (sets / "val.txt").write_text("000033\n")
    with pytest.raises(ValueError, match="ids must look like 2007_000032"):
        read_ids(sets / "val.txt")
