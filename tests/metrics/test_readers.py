"""Each --format reader turns its upstream file layout into the right label map."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from synthetic import write_png

from hfpl.metrics.readers import EvalInputError, read_labels, read_png_labels, read_scores
from hfpl.metrics.sweep import label_at


def _save(path, obj):
    np.save(path, obj, allow_pickle=True)
    return path


@pytest.mark.parametrize("palette", [False, True])
def test_png_l_and_palette(tmp_path, palette):
    labels = np.array([[0, 1, 20], [255, 3, 0]])
    write_png(tmp_path / "a.png", labels, palette=palette)
    assert Image.open(tmp_path / "a.png").mode == ("P" if palette else "L")
    np.testing.assert_array_equal(read_labels(tmp_path / "a.png", "png", (2, 3)), labels)


def test_png_rgb_rejected(tmp_path):
    Image.new("RGB", (4, 3)).save(tmp_path / "rgb.png")
    with pytest.raises(EvalInputError, match="mode 'RGB' is not a label map"):
        read_png_labels(tmp_path / "rgb.png")


def test_unreadable_files_name_the_file(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "bad.npy").write_bytes(b"not an npy")
    with pytest.raises(EvalInputError, match="bad.png"):
        read_png_labels(tmp_path / "bad.png")
    with pytest.raises(EvalInputError, match="bad.npy"):
        read_labels(tmp_path / "bad.npy", "crf-dict", (2, 2))
    with pytest.raises(EvalInputError, match="expected a pickled dict"):
        read_labels(_save(tmp_path / "arr.npy", np.zeros((2, 2))), "crf-dict", (2, 2))


def test_cam_dict_key_plus_one_and_threshold(tmp_path):
    cams = {3: np.array([[0.9, 0.1], [0.5, 0.2]]), 0: np.array([[0.2, 0.3], [0.6, 0.1]])}
    scores = read_scores(_save(tmp_path / "c.npy", cams), "cam-dict", (2, 2))
    np.testing.assert_array_equal(label_at(scores, 0.25), [[4, 1], [1, 0]])
    np.testing.assert_array_equal(label_at(scores, 0.55), [[4, 0], [1, 0]])


def test_empty_dicts_are_background(tmp_path):
    path = _save(tmp_path / "e.npy", {})
    np.testing.assert_array_equal(label_at(read_scores(path, "cam-dict", (2, 3)), 0.0), 0)
    assert read_scores(path, "cam-dict", (2, 3)).fg_label.shape == (2, 3)
    np.testing.assert_array_equal(read_labels(path, "crf-dict", (2, 3)), np.zeros((2, 3)))


def test_irn_uses_high_res_and_zero_based_keys(tmp_path):
    high = np.array([[[0.8, 0.1]], [[0.3, 0.7]]], np.float32)  # (k=2, H=1, W=2)
    pack = {"keys": np.array([4, 14]), "cam": torch.zeros(2, 1, 1), "high_res": high}
    scores = read_scores(_save(tmp_path / "i.npy", pack), "irn", (1, 2))
    np.testing.assert_array_equal(label_at(scores, 0.5), [[5, 15]])
    np.testing.assert_array_equal(label_at(scores, 0.75), [[5, 0]])


def test_sipe_keys_of_argmax(tmp_path):
    is_cam = np.array([[[0.5, 0.1]], [[0.2, 0.9]]], np.float32)
    pack = {"keys": np.array([0, 12]), "IS_CAM": is_cam}
    labels = read_labels(_save(tmp_path / "s.npy", pack), "sipe", (1, 2))
    np.testing.assert_array_equal(labels, [[0, 12]])


def test_crf_dict_keys_are_labels(tmp_path):
    probs = {0: np.array([[0.6, 0.2]]), 15: np.array([[0.4, 0.8]])}
    labels = read_labels(_save(tmp_path / "r.npy", probs), "crf-dict", (1, 2))
    np.testing.assert_array_equal(labels, [[0, 15]])


def test_wrong_format_names_missing_keys(tmp_path):
    path = _save(tmp_path / "c.npy", {0: np.zeros((2, 2))})
    with pytest.raises(EvalInputError, match=r"lacks \['keys', 'IS_CAM'\]"):
        read_labels(path, "sipe", (2, 2))


def test_malformed_score_dicts(tmp_path):
    pack = {"keys": np.array([1, 2, 3]), "cam": None, "high_res": np.zeros((2, 4, 4))}
    with pytest.raises(EvalInputError, match=r"shape \(2, 4, 4\) do not match 3 class keys"):
        read_scores(_save(tmp_path / "i.npy", pack), "irn", (4, 4))
    cams = {0: np.zeros((4, 4)), 1: np.zeros((3, 4))}
    with pytest.raises(EvalInputError, match="differ in size"):
        read_scores(_save(tmp_path / "c.npy", cams), "cam-dict", (4, 4))
    with pytest.raises(EvalInputError, match="NaN"):
        read_scores(_save(tmp_path / "z.npy", {0: np.full((4, 4), np.nan)}), "cam-dict", (4, 4))
    with pytest.raises(EvalInputError, match="not foreground indices"):
        read_scores(_save(tmp_path / "n.npy", {-1: np.zeros((4, 4))}), "cam-dict", (4, 4))
