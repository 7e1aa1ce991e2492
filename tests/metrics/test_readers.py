"""Each reader of the layout registry turns its file layout into the right label map, and the
content check tells the layouts apart (refusing a wrong --format with the likely right one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from synthetic import write_png

from hfpl.metrics.readers import (
    LOADERS,
    READERS,
    THRESHOLD_FORMATS,
    EvalInputError,
    ScoreMap,
    check_layout,
    read_png_labels,
)
from hfpl.metrics.sweep import label_at


def _save(path, obj):
    np.save(path, obj, allow_pickle=True)
    return path


def _read(fmt, path, shape):
    return READERS[fmt].read(path, shape)


def test_registry_names_layouts_and_derives_the_threshold_set():
    assert list(READERS) == [
        "label-png", "cam-dict", "high-res-npy", "keys-is-cam-npy", "label-prob-dict",
    ]  # fmt: skip
    assert sorted(THRESHOLD_FORMATS) == ["cam-dict", "high-res-npy"]
    assert all(reader.suffix in LOADERS for reader in READERS.values())
    assert READERS["label-png"].path("d", "2007_000032").as_posix() == "d/2007_000032.png"
    assert READERS["cam-dict"].path("d", "2007_000032").as_posix() == "d/2007_000032.npy"


@pytest.mark.parametrize("palette", [False, True])
def test_png_l_and_palette(tmp_path, palette):
    labels = np.array([[0, 1, 20], [255, 3, 0]])
    write_png(tmp_path / "a.png", labels, palette=palette)
    assert Image.open(tmp_path / "a.png").mode == ("P" if palette else "L")
    np.testing.assert_array_equal(_read("label-png", tmp_path / "a.png", (2, 3)), labels)


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
        _read("label-prob-dict", tmp_path / "bad.npy", (2, 2))
    with pytest.raises(EvalInputError, match="expected a pickled dict"):
        _read("label-prob-dict", _save(tmp_path / "arr.npy", np.zeros((2, 2))), (2, 2))


def test_cam_dict_key_plus_one_and_threshold(tmp_path):
    cams = {3: np.array([[0.9, 0.1], [0.5, 0.2]]), 0: np.array([[0.2, 0.3], [0.6, 0.1]])}
    scores = _read("cam-dict", _save(tmp_path / "c.npy", cams), (2, 2))
    assert isinstance(scores, ScoreMap)
    np.testing.assert_array_equal(label_at(scores, 0.25), [[4, 1], [1, 0]])
    np.testing.assert_array_equal(label_at(scores, 0.55), [[4, 0], [1, 0]])


def test_empty_dicts_are_background(tmp_path):
    path = _save(tmp_path / "e.npy", {})
    np.testing.assert_array_equal(label_at(_read("cam-dict", path, (2, 3)), 0.0), 0)
    assert _read("cam-dict", path, (2, 3)).fg_label.shape == (2, 3)
    np.testing.assert_array_equal(_read("label-prob-dict", path, (2, 3)), np.zeros((2, 3)))


def test_high_res_uses_high_res_and_zero_based_keys(tmp_path):
    high = np.array([[[0.8, 0.1]], [[0.3, 0.7]]], np.float32)  # (k=2, H=1, W=2)
    pack = {"keys": np.array([4, 14]), "cam": torch.zeros(2, 1, 1), "high_res": high}
    scores = _read("high-res-npy", _save(tmp_path / "i.npy", pack), (1, 2))
    np.testing.assert_array_equal(label_at(scores, 0.5), [[5, 15]])
    np.testing.assert_array_equal(label_at(scores, 0.75), [[5, 0]])


def test_keys_is_cam_keys_of_argmax(tmp_path):
    is_cam = np.array([[[0.5, 0.1]], [[0.2, 0.9]]], np.float32)
    pack = {"keys": np.array([0, 12]), "IS_CAM": is_cam}
    labels = _read("keys-is-cam-npy", _save(tmp_path / "s.npy", pack), (1, 2))
    np.testing.assert_array_equal(labels, [[0, 12]])


def test_label_prob_dict_keys_are_labels(tmp_path):
    probs = {0: np.array([[0.6, 0.2]]), 15: np.array([[0.4, 0.8]])}
    labels = _read("label-prob-dict", _save(tmp_path / "r.npy", probs), (1, 2))
    np.testing.assert_array_equal(labels, [[0, 15]])


def test_wrong_format_names_missing_keys(tmp_path):
    path = _save(tmp_path / "c.npy", {0: np.zeros((2, 2))})
    with pytest.raises(EvalInputError, match=r"lacks the keys \['keys', 'IS_CAM'\]"):
        _read("keys-is-cam-npy", path, (2, 2))
    pack = {"keys": np.array([0, 12]), "IS_CAM": np.zeros((2, 2, 2))}
    with pytest.raises(EvalInputError, match=r"keys \['IS_CAM', 'keys'\] are not class indices"):
        _read("cam-dict", _save(tmp_path / "s.npy", pack), (2, 2))


def test_malformed_score_dicts(tmp_path):
    pack = {"keys": np.array([1, 2, 3]), "cam": None, "high_res": np.zeros((2, 4, 4))}
    with pytest.raises(EvalInputError, match=r"shape \(2, 4, 4\) do not match 3 class keys"):
        _read("high-res-npy", _save(tmp_path / "i.npy", pack), (4, 4))
    pack = {"keys": np.array([0, 1, 2]), "IS_CAM": np.zeros((2, 4, 4))}
    with pytest.raises(EvalInputError, match=r"IS_CAM of shape \(2, 4, 4\) does not match 3"):
        _read("keys-is-cam-npy", _save(tmp_path / "s.npy", pack), (4, 4))
    cams = {0: np.zeros((4, 4)), 1: np.zeros((3, 4))}
    with pytest.raises(EvalInputError, match="differ in size"):
        _read("cam-dict", _save(tmp_path / "c.npy", cams), (4, 4))
    with pytest.raises(EvalInputError, match="NaN"):
        _read("cam-dict", _save(tmp_path / "z.npy", {0: np.full((4, 4), np.nan)}), (4, 4))
    with pytest.raises(EvalInputError, match="not foreground indices"):
        _read("cam-dict", _save(tmp_path / "n.npy", {-1: np.zeros((4, 4))}), (4, 4))


# --- content check: one sample of every layout as its upstream step writes it ---------------


def _cam_dict(rng):
    """Max-normalised CAMs of the present classes; key 0 is aeroplane, not background."""
    cams = {k: rng.random((6, 8)).astype(np.float32) for k in (0, 14)}
    return {k: v / v.max() for k, v in cams.items()}


def _label_prob_dict(rng):
    """DenseCRF marginals (float32, sum 1 over labels per pixel) for bg 0 and classes 1, 15."""
    logits = rng.normal(size=(3, 6, 8))
    probs = (np.exp(logits) / np.exp(logits).sum(0)).astype(np.float32)
    return dict(zip((0, 1, 15), probs, strict=True))


def _high_res(rng):
    return {
        "keys": np.array([0, 14]),
        "cam": torch.zeros(2, 2, 2),
        "high_res": rng.random((2, 6, 8)),
    }


def _keys_is_cam(rng):
    return {"keys": np.array([0, 1, 15]), "IS_CAM": rng.random((3, 6, 8)).astype(np.float32)}


SAMPLES = {
    "cam-dict": _cam_dict,
    "high-res-npy": _high_res,
    "keys-is-cam-npy": _keys_is_cam,
    "label-prob-dict": _label_prob_dict,
}


@pytest.mark.parametrize("layout", sorted(SAMPLES))
def test_content_check_tells_layouts_apart(tmp_path, layout):
    path = _save(tmp_path / "x.npy", SAMPLES[layout](np.random.default_rng(0)))
    check_layout(layout, path)
    for other in READERS.keys() - {layout, "label-png"}:
        with pytest.raises(EvalInputError) as err:
            check_layout(other, path)
        message = str(err.value)
        assert message.startswith(f"{path} is not {other}: ") and "\n" not in message
        assert message.endswith(f"it looks like --format {layout}")


def test_cam_dict_without_key_0_and_single_class_cams_stay_cam_dicts(tmp_path):
    rng = np.random.default_rng(1)
    for cams in ({5: rng.random((4, 4))}, {0: rng.random((4, 4))}, {0: np.full((4, 4), -1.0)}):
        path = _save(tmp_path / "c.npy", cams)
        check_layout("cam-dict", path)
        with pytest.raises(EvalInputError, match="looks like --format cam-dict$"):
            check_layout("label-prob-dict", path)


def test_content_check_messages(tmp_path):
    cams = _save(tmp_path / "c.npy", {3: np.full((2, 2), 0.4), 7: np.full((2, 2), 0.5)})
    with pytest.raises(EvalInputError, match="no background key 0"):
        check_layout("label-prob-dict", cams)
    probs = _save(tmp_path / "p.npy", _label_prob_dict(np.random.default_rng(2)))
    with pytest.raises(EvalInputError, match="sum to 1 over the keys at every pixel"):
        check_layout("cam-dict", probs)
    off = _save(tmp_path / "o.npy", {0: np.full((2, 2), 0.5), 1: np.full((2, 2), 0.4)})
    with pytest.raises(EvalInputError, match=r"do not sum to 1 over the keys \(off by up to 0.1\)"):
        check_layout("label-prob-dict", off)
    big = _save(tmp_path / "b.npy", {0: np.full((2, 2), 3.0), 1: np.full((2, 2), -2.0)})
    with pytest.raises(EvalInputError, match=r"values span \[-2, 3\], not probabilities"):
        check_layout("label-prob-dict", big)
    other = _save(tmp_path / "u.npy", {"scores": np.zeros((2, 2))})
    with pytest.raises(EvalInputError, match="; no known format matches"):
        check_layout("cam-dict", other)
    empty = _save(tmp_path / "e.npy", {})
    check_layout("cam-dict", empty)
    check_layout("label-prob-dict", empty)
    with pytest.raises(EvalInputError, match="looks like --format cam-dict or label-prob-dict$"):
        check_layout("high-res-npy", empty)
