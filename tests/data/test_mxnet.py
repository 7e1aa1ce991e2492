"""MXNet .params reader on files written here with plain struct packing (legacy, V1, V2)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from hfpl.data.mxnet import MXNetFormatError, load_params, save_params


def _pack_list(arrays: list[bytes], names: list[str]) -> bytes:
    out = struct.pack("<QQ", 0x112, 0) + struct.pack("<Q", len(arrays)) + b"".join(arrays)
    out += struct.pack("<Q", len(names))
    for n in names:
        out += struct.pack("<Q", len(n)) + n.encode()
    return out


def _legacy(a: np.ndarray, flag: int) -> bytes:
    head = struct.pack("<I", a.ndim) + b"".join(struct.pack("<I", d) for d in a.shape)
    return head + struct.pack("<ii", 1, 0) + struct.pack("<i", flag) + a.tobytes()


def _v2(a: np.ndarray, flag: int) -> bytes:
    head = struct.pack("<I", 0xF993FAC9) + struct.pack("<i", 0) + struct.pack("<I", a.ndim)
    head += b"".join(struct.pack("<q", d) for d in a.shape)
    return head + struct.pack("<ii", 1, 0) + struct.pack("<i", flag) + a.tobytes()


def _v1(a: np.ndarray, flag: int) -> bytes:
    head = struct.pack("<I", 0xF993FAC8) + struct.pack("<I", a.ndim)
    head += b"".join(struct.pack("<q", d) for d in a.shape)
    return head + struct.pack("<ii", 1, 0) + struct.pack("<i", flag) + a.tobytes()


ARRAYS = {
    "arg:conv1a_weight": (np.arange(2 * 3 * 3 * 3, dtype="<f4").reshape(2, 3, 3, 3), 0),
    "aux:bn7_moving_var": (np.linspace(0, 1, 7).astype("<f8"), 1),
    "arg:idx": (np.array([[1, -2], [3, 4]], "<i4"), 4),
}


@pytest.mark.parametrize("packer", [_legacy, _v1, _v2])
def test_reads_hand_packed_files(tmp_path, packer):
    blob = _pack_list([packer(a, f) for a, f in ARRAYS.values()], list(ARRAYS))
    (tmp_path / "m.params").write_bytes(blob)
    got = load_params(tmp_path / "m.params")
    assert list(got) == list(ARRAYS)
    for name, (a, _) in ARRAYS.items():
        assert got[name].dtype == a.dtype and np.array_equal(got[name], a)


@pytest.mark.parametrize("legacy", [False, True])
def test_writer_matches_hand_packing(tmp_path, legacy):
    save_params(tmp_path / "w.params", {k: a for k, (a, _) in ARRAYS.items()}, legacy=legacy)
    packer = _legacy if legacy else _v2
    expected = _pack_list([packer(a, f) for a, f in ARRAYS.values()], list(ARRAYS))
    assert (tmp_path / "w.params").read_bytes() == expected


def test_truncated_and_foreign_files_raise(tmp_path):
    blob = _pack_list([_v2(a, f) for a, f in ARRAYS.values()], list(ARRAYS))
    (tmp_path / "t.params").write_bytes(blob[:-20])
    with pytest.raises(MXNetFormatError, match="truncated"):
        load_params(tmp_path / "t.params")
    (tmp_path / "f.params").write_bytes(b"PK\x03\x04" + blob)
    with pytest.raises(MXNetFormatError, match="not an MXNet NDArray list"):
        load_params(tmp_path / "f.params")


def test_sparse_arrays_are_rejected(tmp_path):
    sparse = struct.pack("<Ii", 0xF993FAC9, 1)  # row_sparse storage
    (tmp_path / "s.params").write_bytes(_pack_list([sparse], ["arg:x"]))
    with pytest.raises(MXNetFormatError, match="sparse"):
        load_params(tmp_path / "s.params")
