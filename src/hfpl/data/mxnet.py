"""MXNet NDArray-list files (``.params``) without mxnet: a pure-numpy reader and writer.

Layout (little endian), as written by ``mx.nd.save``::

    uint64 0x112 (list magic), uint64 0 (reserved)
    uint64 n, then n arrays; uint64 m, then m names (uint64 length + UTF-8 bytes)

Each dense array is one of
    legacy (mxnet < 0.9):  uint32 ndim, uint32 dims[ndim], ctx, data
    V1 0xF993FAC8:         uint32 magic, uint32 ndim, int64 dims[ndim], ctx, data
    V2 0xF993FAC9 / V3 0xF993FACA: uint32 magic, int32 storage type (0 = dense),
                           uint32 ndim, int64 dims[ndim], ctx, data
with ctx = int32 dev_type, int32 dev_id, int32 type flag, followed by the raw data bytes.
A zero-dim shape stores no ctx/type/data. Sparse arrays are rejected with a clear error.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hfpl.io import building_file

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA

# mshadow type flags
_DTYPES = {
    0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8,
    6: np.int64, 7: np.bool_,
}  # fmt: skip
_FLAGS = {np.dtype(v): k for k, v in _DTYPES.items()}


class MXNetFormatError(ValueError):
    """The file is not a readable MXNet NDArray list."""


class _Reader:
    def __init__(self, data: bytes, path: str) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise MXNetFormatError(f"{self.path}: truncated at byte {self.pos}")
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out

    def array(self) -> np.ndarray:
        (head,) = self.take("<I")
        if head in (V2_MAGIC, V3_MAGIC):
            (stype,) = self.take("<i")
            if stype != 0:
                raise MXNetFormatError(f"{self.path}: sparse arrays (storage {stype}) unsupported")
            (ndim,) = self.take("<I")
            shape = self.take(f"<{ndim}q")
        elif head == V1_MAGIC:
            (ndim,) = self.take("<I")
            shape = self.take(f"<{ndim}q")
        else:  # legacy: the first word is ndim itself
            shape = self.take(f"<{head}I")
        if len(shape) == 0:
            return np.zeros((0,), np.float32)
        _dev_type, _dev_id, flag = self.take("<iii")
        if flag not in _DTYPES:
            raise MXNetFormatError(f"{self.path}: unknown type flag {flag}")
        dtype = np.dtype(_DTYPES[flag]).newbyteorder("<")
        count = int(np.prod(shape))
        nbytes = count * dtype.itemsize
        if self.pos + nbytes > len(self.data):
            raise MXNetFormatError(f"{self.path}: truncated array data at byte {self.pos}")
        arr = np.frombuffer(self.data, dtype, count, self.pos).reshape(shape)
        self.pos += nbytes
        return arr.astype(dtype.newbyteorder("="))


def load_params(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an MXNet ``.params`` file like ``mx.nd.load``: {name: array} (names keep their
    ``arg:``/``aux:`` prefixes). Raises MXNetFormatError on anything malformed."""
    path = str(path)
    r = _Reader(Path(path).read_bytes(), path)
    magic, _reserved = r.take("<QQ")
    if magic != LIST_MAGIC:
        raise MXNetFormatError(f"{path}: not an MXNet NDArray list (magic {magic:#x})")
    (n,) = r.take("<Q")
    arrays = [r.array() for _ in range(n)]
    (m,) = r.take("<Q")
    if m != n:
        raise MXNetFormatError(f"{path}: {n} arrays but {m} names (unnamed lists unsupported)")
    names = []
    for _ in range(m):
        (length,) = r.take("<Q")
        names.append(r.take(f"<{length}s")[0].decode())
    if r.pos != len(r.data):
        raise MXNetFormatError(f"{path}: {len(r.data) - r.pos} trailing bytes")
    return dict(zip(names, arrays, strict=True))


def save_params(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], *, legacy: bool = False
) -> None:
    """Write ``arrays`` as an MXNet ``.params`` file (V2 headers, or legacy ones if ``legacy``).

    Written to a temp name and renamed, so a crash leaves no half file.
    """
    chunks = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in _FLAGS:
            raise ValueError(f"{name}: dtype {arr.dtype} has no MXNet type flag")
        if legacy:
            chunks.append(struct.pack(f"<I{arr.ndim}I", arr.ndim, *arr.shape))
        else:
            chunks.append(struct.pack(f"<IiI{arr.ndim}q", V2_MAGIC, 0, arr.ndim, *arr.shape))
        chunks.append(struct.pack("<iii", 1, 0, _FLAGS[arr.dtype]))  # cpu(0)
        chunks.append(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    chunks.append(struct.pack("<Q", len(arrays)))
    for name in arrays:
        raw = name.encode()
        chunks.append(struct.pack("<Q", len(raw)) + raw)
    with building_file(path) as tmp:
        tmp.write_bytes(b"".join(chunks))
