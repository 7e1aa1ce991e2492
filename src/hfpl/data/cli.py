"""``hfpl smoke-data`` and ``hfpl data voc|coco|lists|weights|fetch|info``.

Each handler returns 0, or prints ONE line ``hfpl: <what failed and how to fix it>`` to stderr
and returns 1; outputs are atomic, so a failed run leaves nothing that looks done.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from hfpl.data import registry
from hfpl.data.download import DownloadError, fetch
from hfpl.data.mxnet import MXNetFormatError, load_params


def _guard(func: Callable[[argparse.Namespace], object]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            func(args)
        except (ValueError, DownloadError, MXNetFormatError, FileNotFoundError) as err:
            print(f"hfpl: {err}", file=sys.stderr)
            return 1
        return 0

    return run


def _smoke(args: argparse.Namespace) -> None:
    from hfpl.data.smoke import generate_smoke
    from hfpl.data.weights import write_smoke_weights

    for dataset in dict.fromkeys(args.dataset or ["voc"]):  # VOC first: it swaps lists/ whole
        if dataset == "voc":
            root = generate_smoke(args.out, images=args.images, size=args.size, seed=args.seed)
        else:
            from hfpl.data.coco_smoke import generate_coco_smoke

            root = generate_coco_smoke(args.out, images=args.images, size=args.size, seed=args.seed)
        print(f"smoke dataset: {root}")
    if args.weights_out:
        for path in write_smoke_weights(args.weights_out, seed=args.seed, names=args.weight):
            print(f"random-init weights: {path}")


def _voc(args: argparse.Namespace) -> None:
    from hfpl.data.prepare import prepare_voc

    print(prepare_voc(args.root, args.downloads or Path(args.root) / "downloads", test=args.test))


def _coco(args: argparse.Namespace) -> None:
    from hfpl.data.prepare import prepare_coco

    print(prepare_coco(args.root, args.downloads or Path(args.root) / "downloads"))


def _lists(args: argparse.Namespace) -> None:
    if args.coco_root:
        from hfpl.data.coco_lists import write_coco_lists

        print(write_coco_lists(args.coco_root, args.out))
    else:
        from hfpl.data.lists import write_method_lists

        print(write_method_lists(args.voc_root, args.out))


def _weights(args: argparse.Namespace) -> None:
    from hfpl.data.weights import resnet38_from_mxnet

    for name in args.names:
        res = registry.get(name)
        if res.kind != "weights":
            raise ValueError(f"{name} is a dataset file; use `hfpl data fetch`")
        path = fetch(res, args.dir)
        print(f"{path}: ok ({res.loading})")
        if path.suffix == ".params":  # cached torch conversion for code that wants a .pth
            pth = path.with_suffix(".pth")
            tmp = pth.with_name(f".{pth.name}.tmp")
            torch.save(resnet38_from_mxnet(load_params(path)), tmp)
            tmp.replace(pth)
            print(f"{pth}: converted from MXNet")


def _fetch(args: argparse.Namespace) -> None:
    for name in args.names:
        print(fetch(registry.get(name), args.dir))


def _info(args: argparse.Namespace) -> None:
    for res in registry.RESOURCES.values():
        check = (
            "sha256" if res.sha256 else "md5" if res.md5 else "prefix" if res.sha256_prefix else "-"
        )
        source = "download" if res.urls else "manual"
        print(f"{res.name:44} {res.kind:8} {source:8} {check:6} {', '.join(res.used_by)}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``smoke-data`` and ``data`` (with its sub-subcommands) to the hfpl parser."""
    smoke = subparsers.add_parser("smoke-data", help="write the synthetic VOC/COCO smoke dataset")
    smoke.add_argument("--out", required=True, type=Path, help="output folder")
    smoke.add_argument("--images", type=int, default=12, help="number of images (default 12)")
    smoke.add_argument("--size", type=int, default=80, help="image width in px (default 80)")
    smoke.add_argument("--seed", type=int, default=0)
    smoke.add_argument(
        "--dataset",
        action="append",
        choices=["voc", "coco"],
        help="which synthetic dataset (repeatable; default voc)",
    )
    smoke.add_argument("--weights-out", type=Path, help="also write random-init weight files here")
    smoke.add_argument(
        "--weight", action="append", metavar="NAME", help="only this weight file (repeatable)"
    )
    smoke.set_defaults(func=_guard(_smoke))

    data = subparsers.add_parser("data", help="download and prepare datasets and weights")
    sub = data.add_subparsers(dest="data_command", required=True)
    voc = sub.add_parser("voc", help="VOC2012 trainval + SBD -> SegmentationClassAug")
    voc.add_argument("--root", required=True, type=Path, help="data root (gets VOCdevkit/)")
    voc.add_argument("--downloads", type=Path, help="archive folder (default ROOT/downloads)")
    voc.add_argument("--test", action="store_true", help="also the test split (manual tar)")
    voc.set_defaults(func=_guard(_voc))
    coco = sub.add_parser("coco", help="COCO 2014 images + pixel labels")
    coco.add_argument("--root", required=True, type=Path, help="data root (gets coco/)")
    coco.add_argument("--downloads", type=Path, help="archive folder (default ROOT/downloads)")
    coco.set_defaults(func=_guard(_coco))
    lists = sub.add_parser("lists", help="per-method list and class-label files")
    root = lists.add_mutually_exclusive_group(required=True)
    root.add_argument("--voc-root", type=Path, help=".../VOCdevkit/VOC2012 (every method)")
    root.add_argument("--coco-root", type=Path, help=".../coco (writes OUT/seam/coco/ only)")
    lists.add_argument("--out", required=True, type=Path)
    lists.set_defaults(func=_guard(_lists))
    weights = sub.add_parser("weights", help="download or verify pretrained weight files")
    weights.add_argument("--dir", required=True, type=Path, help="weights folder")
    weights.add_argument("names", nargs="+", metavar="NAME", help="file names (see data info)")
    weights.set_defaults(func=_guard(_weights))
    fetch_p = sub.add_parser("fetch", help="download and verify registered files")
    fetch_p.add_argument("--dir", required=True, type=Path)
    fetch_p.add_argument("names", nargs="+", metavar="NAME")
    fetch_p.set_defaults(func=_guard(_fetch))
    info = sub.add_parser("info", help="list every registered file")
    info.set_defaults(func=_guard(_info))
