"""``hfpl smoke-data`` and ``hfpl data voc|coco|lists|weights|smoke-weights|verify|fetch|info``.

Each handler returns 0, or prints ONE line ``hfpl: <what failed and how to fix it>`` to stderr
and returns 1; outputs are atomic, so a failed run leaves nothing that looks done. Method facts
arrive as JSON (``--spec``: a method YAML's ``lists[dataset]`` or ``weights[NAME]`` entry).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hfpl.data.datasets import DATASETS, get
from hfpl.data.manifest import DatasetChanged


def _guard(func: Callable[[argparse.Namespace], object]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from hfpl.data.download import DownloadError
        from hfpl.data.mxnet import MXNetFormatError

        try:
            func(args)
        except (
            ValueError, DownloadError, MXNetFormatError, DatasetChanged, FileNotFoundError,
        ) as err:  # fmt: skip
            print(f"hfpl: {err}", file=sys.stderr)
            return 1
        return 0

    return run


def read_spec(text: str, kind: type) -> Any:
    """``--spec``: JSON text, or the path of a JSON file; ValueError unless it parses to
    ``kind`` (list for lists, dict for weights)."""
    if not text.lstrip().startswith(("[", "{")):
        if not Path(text).is_file():
            raise ValueError(f"--spec {text!r} is neither JSON text nor a JSON file")
        text = Path(text).read_text()
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--spec is not valid JSON ({err})") from None
    if not isinstance(spec, kind):
        raise ValueError(f"--spec must be a JSON {'list' if kind is list else 'object'}")
    return spec


def _smoke(args: argparse.Namespace) -> None:
    dataset = get(args.dataset)
    print(dataset.smoke(args.out, images=args.images, size=args.size, seed=args.seed))


def _prepare(args: argparse.Namespace) -> None:
    options = {"test": args.test} if args.data_command == "voc" else {}
    print(get(args.data_command).prepare(args.root, args.downloads or args.root / "downloads",
                                         **options))  # fmt: skip


def _lists(args: argparse.Namespace) -> None:
    from hfpl.data.lists import write_lists

    print(write_lists(get(args.dataset), args.root, read_spec(args.spec, list), args.out))


def _weights(args: argparse.Namespace) -> None:
    from hfpl.data.download import fetch
    from hfpl.data.mxnet import load_params
    from hfpl.data.resource import Resource

    res = Resource.from_spec(args.name, read_spec(args.spec, dict))
    path = fetch(res, args.dir)
    print(f"{path}: ok ({res.loading})")
    if path.suffix == ".params":  # cached torch conversion for code that wants a .pth
        import torch

        from hfpl.data.weights import resnet38_from_mxnet
        from hfpl.io import building_file

        pth = path.with_suffix(".pth")
        with building_file(pth) as tmp:
            torch.save(resnet38_from_mxnet(load_params(path)), tmp)
        print(f"{pth}: converted from MXNet")


def _smoke_weights(args: argparse.Namespace) -> None:
    from hfpl.data.weights import write_smoke_weights

    print(write_smoke_weights(args.arch, args.out, seed=args.seed))


def _verify(args: argparse.Namespace) -> None:
    from hfpl.data.manifest import verify

    print(f"{args.root}: unchanged (manifest digest {verify(args.root)})")


def _fetch(args: argparse.Namespace) -> None:
    from hfpl.data import registry
    from hfpl.data.download import fetch

    for name in args.names:
        print(fetch(registry.get(name), args.dir))


def _check(spec: dict) -> str:
    for key in ("sha256", "md5", "sha256_prefix"):
        if spec.get(key):
            return key
    return "-"


def _methods_weights(methods_dir: Path) -> dict[str, list[tuple[str, dict]]]:
    """{weights file: [(method, entry)]} over ``methods_dir/*.yaml``."""
    import yaml

    files = sorted(methods_dir.glob("*.yaml"))
    if not files:
        raise ValueError(f"no method YAMLs in {methods_dir}: pass --methods-dir config/methods")
    found: dict[str, list[tuple[str, dict]]] = {}
    for path in files:
        for name, entry in ((yaml.safe_load(path.read_text()) or {}).get("weights") or {}).items():
            found.setdefault(name, []).append((path.stem, entry or {}))
    return found


def _info(args: argparse.Namespace) -> None:
    from hfpl.data import registry
    from hfpl.data.weights import ARCHITECTURES

    for ds in DATASETS.values():
        splits = ", ".join(ds.split_names)
        print(f"dataset {ds.name:6} {ds.base:20} {ds.num_fg} classes, splits {splits}")
    for res in registry.RESOURCES.values():
        check = _check({"sha256": res.sha256, "md5": res.md5, "sha256_prefix": res.sha256_prefix})
        source = "download" if res.urls else "manual"
        print(f"archive {res.name:44} {source:8} {check:13} {res.loading}")
    for arch in ARCHITECTURES.values():
        print(f"arch    {arch.name:44} {arch.layout}")
    if args.methods_dir:
        for name, users in sorted(_methods_weights(args.methods_dir).items()):
            entry = users[0][1]
            source = "download" if entry.get("urls") else "manual"
            smoke = entry.get("smoke", "-")
            methods = ", ".join(m for m, _ in users)
            print(f"weights {name:44} {source:8} {_check(entry):13} smoke {smoke}  ({methods})")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``smoke-data`` and ``data`` (with its sub-subcommands) to the hfpl parser."""
    kinds = list(DATASETS)
    smoke = subparsers.add_parser("smoke-data", help="write one synthetic dataset (+ manifest)")
    smoke.add_argument("--dataset", required=True, choices=kinds, help="which dataset kind")
    smoke.add_argument("--out", required=True, type=Path, help="data root to write")
    smoke.add_argument("--images", type=int, default=12, help="number of images (default 12)")
    smoke.add_argument("--size", type=int, default=80, help="image width in px (default 80)")
    smoke.add_argument("--seed", type=int, default=0)
    smoke.set_defaults(func=_guard(_smoke))

    data = subparsers.add_parser("data", help="download and prepare datasets and weights")
    sub = data.add_subparsers(dest="data_command", required=True)
    voc = sub.add_parser("voc", help="VOC2012 trainval + SBD -> SegmentationClassAug (+ manifest)")
    voc.add_argument("--root", required=True, type=Path, help="data root (gets VOCdevkit/)")
    voc.add_argument("--downloads", type=Path, help="archive folder (default ROOT/downloads)")
    voc.add_argument("--test", action="store_true", help="also the test split (manual tar)")
    voc.set_defaults(func=_guard(_prepare))
    coco = sub.add_parser("coco", help="COCO 2014 images + pixel labels (+ manifest)")
    coco.add_argument("--root", required=True, type=Path, help="data root (gets coco/)")
    coco.add_argument("--downloads", type=Path, help="archive folder (default ROOT/downloads)")
    coco.set_defaults(func=_guard(_prepare))

    lists = sub.add_parser("lists", help="a method's list and class-label files (from --spec)")
    lists.add_argument("--dataset", required=True, choices=kinds)
    lists.add_argument("--root", required=True, type=Path, help="the dataset's data root")
    lists.add_argument(
        "--spec", required=True, help="JSON text or file: the method YAML's lists[DATASET]"
    )
    lists.add_argument("--out", required=True, type=Path, help="folder to write (swapped whole)")
    lists.set_defaults(func=_guard(_lists))

    weights = sub.add_parser("weights", help="download or verify one pretrained weights file")
    weights.add_argument("--dir", required=True, type=Path, help="weights folder")
    weights.add_argument(
        "--spec", required=True, help="JSON text or file: the method YAML's weights[NAME] entry"
    )
    weights.add_argument("name", metavar="NAME", help="file name")
    weights.set_defaults(func=_guard(_weights))

    smoke_w = sub.add_parser("smoke-weights", help="a random-init stand-in weights file")
    smoke_w.add_argument("--arch", required=True, help="architecture (see `hfpl data info`)")
    smoke_w.add_argument("--seed", type=int, default=0)
    smoke_w.add_argument("--out", required=True, type=Path, help="file to write")
    smoke_w.set_defaults(func=_guard(_smoke_weights))

    verify = sub.add_parser("verify", help="check a prepared dataset against its manifest")
    verify.add_argument("--root", required=True, type=Path, help="the dataset's data root")
    verify.set_defaults(func=_guard(_verify))

    fetch_p = sub.add_parser("fetch", help="download and verify dataset archives")
    fetch_p.add_argument("--dir", required=True, type=Path)
    fetch_p.add_argument("names", nargs="+", metavar="NAME", help="archive names (see data info)")
    fetch_p.set_defaults(func=_guard(_fetch))

    info = sub.add_parser("info", help="datasets, archives, architectures [and method weights]")
    info.add_argument("--methods-dir", type=Path, help="also list the weights these YAMLs declare")
    info.set_defaults(func=_guard(_info))
