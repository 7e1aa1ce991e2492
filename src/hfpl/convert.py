"""Convert class-score maps between on-disk layouts; ``hfpl convert cam-dict-to-high-res``.

A ``cam-dict`` file (``<id>.npy`` = {fg class index: float (H, W) map in [0, 1]}, extra string
keys such as an adaptive ``"threshold"`` ignored) becomes a ``high-res-npy`` file, the layout the
IRN-style random-walk steps read:

- ``keys``: int64 (K,), the fg class indices present, ascending (0-based, background excluded);
- ``high_res``: float32 (K, H, W), each map divided by its own max (+1e-5);
- ``cam``: a torch float32 tensor (K, ceil(H/s), ceil(W/s)) for stride s (default 4): the
  high-res maps bilinearly resized (align_corners False) and max-normalised again, as a
  stride-s network output would be.

Empty dicts (no class present) are refused: the consumer needs at least one map.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hfpl.io import building_dir

EPS = 1e-5


class ConvertError(ValueError):
    """A bad input file, named with the fix (one line)."""


def cam_dict_to_high_res(cams: dict, stride: int = 4) -> dict:
    """{fg class: (H, W) map} -> {"keys": (K,) int64, "high_res": (K, H, W) float32,
    "cam": torch (K, ceil(H/stride), ceil(W/stride)) float32}; non-int keys are dropped."""
    keys = sorted(k for k in cams if isinstance(k, (int, np.integer)))
    if not keys:
        raise ConvertError(
            "no integer class keys (an empty cam-dict): write one map per present class"
        )
    shapes = {np.shape(cams[k]) for k in keys}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ConvertError(f"class maps must share one (H, W) shape, got {sorted(shapes)}")
    stack = np.stack([np.asarray(cams[k], dtype=np.float32) for k in keys])
    high_res = stack / (stack.reshape(len(keys), -1).max(axis=1)[:, None, None] + EPS)
    h, w = high_res.shape[1:]
    size = (math.ceil(h / stride), math.ceil(w / stride))
    low = F.interpolate(
        torch.from_numpy(high_res)[None], size, mode="bilinear", align_corners=False
    )[0]
    low = low / (F.adaptive_max_pool2d(low, (1, 1)) + EPS)
    return {
        "keys": np.asarray(keys, dtype=np.int64),
        "high_res": high_res.astype(np.float32),
        "cam": low,
    }


def read_ids(list_path: Path) -> list[str]:
    """Ids of a list file: the file stem of each line's first token (ids or image paths)."""
    return [
        Path(line.split()[0]).stem for line in list_path.read_text().splitlines() if line.strip()
    ]


def convert_dir(cams_dir: Path, ids: list[str], out_dir: Path, stride: int = 4) -> int:
    """Convert ``cams_dir/<id>.npy`` for every id into ``out_dir`` (written whole or not at all);
    returns the number of files written."""
    missing = [i for i in ids if not (cams_dir / f"{i}.npy").is_file()]
    if missing:
        raise ConvertError(
            f"{len(missing)} of {len(ids)} cam-dict files missing in {cams_dir} "
            f"(first: {missing[0]}.npy): run the CAM step on the same list"
        )
    with building_dir(out_dir) as tmp:
        for i in ids:
            cams = np.load(cams_dir / f"{i}.npy", allow_pickle=True).item()
            try:
                converted = cam_dict_to_high_res(cams, stride)
            except ConvertError as err:
                raise ConvertError(f"{cams_dir / (i + '.npy')}: {err}") from None
            np.save(tmp / f"{i}.npy", converted, allow_pickle=True)
    return len(ids)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convert`` subcommand to the ``hfpl`` dispatcher."""
    p = subparsers.add_parser("convert", help="convert class-score maps between layouts")
    layouts = p.add_subparsers(dest="conversion", required=True, metavar="CONVERSION")
    c = layouts.add_parser(
        "cam-dict-to-high-res",
        help="cam-dict npy ({class: HxW}) -> high-res-npy ({keys, high_res, cam at 1/stride})",
    )
    c.add_argument("--cams", required=True, type=Path, help="folder of <id>.npy cam-dict files")
    c.add_argument(
        "--list", required=True, type=Path, help="ids (first token's file stem per line)"
    )
    c.add_argument("--out", required=True, type=Path, help="output folder (replaced atomically)")
    c.add_argument("--stride", type=int, default=4, help="output stride of 'cam' (default 4)")
    c.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.stride < 1:
        print(f"hfpl convert: --stride must be >= 1, got {args.stride}", file=sys.stderr)
        return 2
    try:
        ids = read_ids(args.list)
        n = convert_dir(args.cams, ids, args.out, args.stride)
    except (ConvertError, OSError) as err:
        print(f"hfpl convert: {err}", file=sys.stderr)
        return 1
    print(f"hfpl convert: {n} files -> {args.out}")
    return 0
