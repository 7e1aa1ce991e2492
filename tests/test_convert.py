"""hfpl.convert: cam-dict -> high-res-npy (keys, high_res, cam at 1/stride)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hfpl import cli
from hfpl.convert import ConvertError, cam_dict_to_high_res, convert_dir, read_ids
from hfpl.metrics.readers import READERS


def _cams(rng: np.random.Generator, h: int = 10, w: int = 13) -> dict:
    return {
        7: rng.random((h, w), dtype=np.float32) * 0.5,
        3: rng.random((h, w), dtype=np.float32),
        "threshold": np.zeros(20, np.float32),  # an adaptive-threshold extra: dropped
    }


def test_keys_sorted_int64_and_extras_dropped():
    out = cam_dict_to_high_res(_cams(np.random.default_rng(0)))
    assert out["keys"].dtype == np.int64
    assert out["keys"].tolist() == [3, 7]
    assert set(out) == {"keys", "high_res", "cam"}


def test_high_res_is_max_normalised_per_class():
    cams = _cams(np.random.default_rng(1))
    out = cam_dict_to_high_res(cams)
    assert out["high_res"].dtype == np.float32 and out["high_res"].shape == (2, 10, 13)
    np.testing.assert_allclose(out["high_res"].max(axis=(1, 2)), 1.0, atol=1e-4)
    # class 7 at index 1, rescaled from max ~0.5 to 1 (ordering follows keys)
    np.testing.assert_allclose(out["high_res"][1], cams[7] / (cams[7].max() + 1e-5), rtol=1e-6)


@pytest.mark.parametrize(
    ("h", "w", "stride", "size"), [(10, 13, 4, (3, 4)), (16, 16, 4, (4, 4)), (9, 5, 2, (5, 3))]
)
def test_cam_is_a_torch_tensor_at_ceil_stride(h, w, stride, size):
    out = cam_dict_to_high_res({0: np.random.default_rng(2).random((h, w))}, stride)
    assert isinstance(out["cam"], torch.Tensor) and out["cam"].dtype == torch.float32
    assert tuple(out["cam"].shape) == (1, *size)
    assert out["cam"].amax().item() == pytest.approx(1.0, abs=1e-4)  # re-max-normalised


def test_cam_is_the_bilinear_downsample():
    ramp = np.tile(np.arange(8, dtype=np.float32), (8, 1))  # values 0..7 along W
    out = cam_dict_to_high_res({5: ramp}, 4)
    # align_corners=False: output column j samples input column 4j + 1.5 -> 1.5, 5.5, then / max
    expected = np.array([1.5, 5.5]) / 5.5
    np.testing.assert_allclose(out["cam"][0, 0].numpy(), expected, rtol=1e-4)


def test_refuses_empty_and_ragged_dicts():
    with pytest.raises(ConvertError, match="empty cam-dict"):
        cam_dict_to_high_res({"threshold": np.zeros(20)})
    with pytest.raises(ConvertError, match="share one"):
        cam_dict_to_high_res({0: np.zeros((4, 4)), 1: np.zeros((4, 5))})


def test_output_is_readable_as_high_res_npy(tmp_path):
    cams_dir, out_dir = tmp_path / "cams", tmp_path / "out"
    cams_dir.mkdir()
    np.save(cams_dir / "2007_000032.npy", _cams(np.random.default_rng(3)), allow_pickle=True)
    assert convert_dir(cams_dir, ["2007_000032"], out_dir) == 1
    pred = READERS["high-res-npy"].read(out_dir / "2007_000032.npy", (10, 13))
    assert pred is not None
    loaded = np.load(out_dir / "2007_000032.npy", allow_pickle=True).item()
    # the IRN consumer: keys + 1 padded with background 0, cam moved to a device
    assert np.pad(loaded["keys"] + 1, (1, 0)).tolist() == [0, 4, 8]
    assert loaded["cam"].to("cpu").shape == (2, 3, 4)


def test_missing_file_writes_nothing(tmp_path):
    cams_dir = tmp_path / "cams"
    cams_dir.mkdir()
    np.save(cams_dir / "a.npy", {0: np.ones((4, 4))}, allow_pickle=True)
    with pytest.raises(ConvertError, match=r"1 of 2 cam-dict files missing .*first: b\.npy"):
        convert_dir(cams_dir, ["a", "b"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_read_ids_takes_stems_of_first_tokens(tmp_path):
    lst = tmp_path / "l.txt"
    lst.write_text(
        "/JPEGImages/2007_000032.jpg /SegmentationClassAug/2007_000032.png\n2007_000039\n\n"
    )
    assert read_ids(lst) == ["2007_000032", "2007_000039"]


def test_cli_one_line_error(tmp_path, capsys):
    lst = tmp_path / "l.txt"
    lst.write_text("x\n")
    rc = cli.main(
        [
            "convert",
            "cam-dict-to-high-res",
            "--cams",
            str(tmp_path),
            "--list",
            str(lst),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "x.npy" in err[0]
