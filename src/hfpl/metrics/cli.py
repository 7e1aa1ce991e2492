"""``hfpl eval``: score a directory of predictions and write the evaluator JSON atomically."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hfpl.io import write_json_atomic
from hfpl.metrics.confusion import J_CONVENTIONS
from hfpl.metrics.evaluate import evaluate_dir
from hfpl.metrics.readers import READERS, THRESHOLD_FORMATS, EvalInputError
from hfpl.metrics.upstream import compare, read_upstream_j


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand to the ``hfpl`` dispatcher."""
    p = subparsers.add_parser(
        "eval",
        help="J, F and J&F of predictions against GT label PNGs",
        description="Score predictions (one file per id) against GT PNGs; writes metrics JSON.",
    )
    p.add_argument("--pred", required=True, type=Path, help="prediction directory")
    p.add_argument("--gt", required=True, type=Path, help="GT label PNG directory (255 = void)")
    p.add_argument(
        "--list",
        required=True,
        type=Path,
        help="image list: one id per line (the first token's file stem is the id), each once",
    )
    p.add_argument(
        "--format",
        required=True,
        choices=list(READERS),
        metavar="FORMAT",
        help=f"prediction file layout: {', '.join(READERS)} (docs/evaluation.md)",
    )
    t = p.add_mutually_exclusive_group()
    t.add_argument(
        "--bg-threshold",
        type=float,
        help=f"background threshold ({', '.join(sorted(THRESHOLD_FORMATS))})",
    )
    t.add_argument(
        "--sweep", metavar="START:STOP:STEP", help="threshold grid (STOP inclusive); best J wins"
    )
    # required, checked in run(): one error line instead of argparse's usage block
    p.add_argument(
        "--num-classes",
        type=int,
        help="required: classes incl. background (VOC 21, COCO 81)",
    )
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument(
        "--j-convention", choices=sorted(J_CONVENTIONS), default="present", help="mIoU averaging"
    )
    p.add_argument(
        "--missing-as-background",
        action="store_true",
        help="score missing prediction files as all background (as the authors' CAM scripts)",
    )
    u = p.add_argument_group("the upstream evaluator's number beside ours (JSON key upstream)")
    u.add_argument("--upstream-log", type=Path, help="log in which the upstream script printed J")
    u.add_argument(
        "--upstream-regex",
        help="regular expression with a group (?P<J>...) in percent [and (?P<t>...) per threshold]",
    )
    u.add_argument(
        "--upstream-scale",
        type=float,
        default=1.0,
        help="printed J x this = percent (100 for a fraction)",
    )
    u.add_argument(
        "--upstream-convention",
        choices=sorted(J_CONVENTIONS),
        default="present",
        help="how the upstream script averages over classes",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, type=Path, help="metrics JSON to write")
    p.set_defaults(func=run)


def read_ids(path: Path) -> list[str]:
    """Ids from a list file: ``2007_000032`` or ``/JPEGImages/2007_000032.jpg /Seg.../...png``."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as err:
        raise EvalInputError(f"cannot read --list {path}: {err.strerror}") from None
    return [Path(line.split()[0]).stem for line in lines if line.strip()]


def run(args: argparse.Namespace) -> int:
    """Handler of ``hfpl eval``; returns 0, or 2 with one error line on bad input."""
    try:
        if args.num_classes is None:
            raise EvalInputError(
                "--num-classes is required: classes incl. background (VOC 21, COCO 81)"
            )
        if (args.upstream_log is None) != (args.upstream_regex is None):
            raise EvalInputError("--upstream-log and --upstream-regex go together")
        result = evaluate_dir(
            args.pred,
            args.gt,
            read_ids(args.list),
            args.format,
            bg_threshold=args.bg_threshold,
            sweep=args.sweep,
            num_classes=args.num_classes,
            jobs=args.jobs,
            missing_as_background=args.missing_as_background,
            j_convention=args.j_convention,
            progress=not args.quiet,
        )
        result["upstream"] = None
        if args.upstream_log is not None:
            found = read_upstream_j(
                args.upstream_log, args.upstream_regex, result["bg_threshold"], args.upstream_scale
            )
            ours = result["J_by_convention"][args.upstream_convention]
            result["upstream"] = compare(ours, found, args.upstream_convention)
    except EvalInputError as err:
        print(f"hfpl eval: error: {err}", file=sys.stderr)
        return 2
    write_json_atomic(args.out, result, sort_keys=False, allow_nan=False)
    summary = "  ".join(f"{k} {result[k]:.2f}" for k in ("J", "F", "JF") if result[k] is not None)
    if result["bg_threshold"] is not None:
        summary += f"  (t = {result['bg_threshold']})"
    print(f"{summary}  [{result['n_images']} images] -> {args.out}")
    if result["upstream"] is not None:
        up = result["upstream"]
        diff = "n/a" if up["difference"] is None else f"{up['difference']:+.4f}"
        verdict = "agrees" if up["agrees"] else "DIFFERS"
        print(f"upstream J {up['J']} ({up['convention']}): {verdict}, ours - upstream {diff}")
    return 0
