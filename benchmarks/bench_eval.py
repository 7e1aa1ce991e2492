"""Benchmark `hfpl eval` (J&F) against the straightforward per-image per-class reference.

Writes N synthetic 500x375 GT/prediction PNG pairs over 21 classes (VOC val has 1,449 images),
then times, in this one process:
  1. `hfpl eval --format label-png --jobs J` (the CLI handler, JSON written to a temp dir),
  2. the same with --jobs 1,
  3. the reference in tests/metrics/jf_reference.py (loops over classes, scipy dilation),
and checks that J, F, J&F and every per-class value agree to 1e-9 (percent units).
Goal on 2 cores: step 1 <= 30 s and >= 5x faster than step 3.

    .venv/bin/python benchmarks/bench_eval.py [--images 1449] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "metrics"))
from jf_reference import ref_image_counts, ref_scores  # noqa: E402
from synthetic import perturb, random_blobs, void_edges, write_png  # noqa: E402

from hfpl.metrics.cli import register  # noqa: E402
from hfpl.metrics.readers import read_png_labels  # noqa: E402

K = 21
SHAPE = (375, 500)  # H, W


def make_dataset(root: Path, n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    (root / "gt").mkdir()
    (root / "pred").mkdir()
    ids = [f"2007_{i:06d}" for i in range(n)]
    for image_id in ids:
        gt = void_edges(random_blobs(rng, SHAPE, K, int(rng.integers(1, 4))))
        write_png(root / "gt" / f"{image_id}.png", gt, palette=True)
        write_png(root / "pred" / f"{image_id}.png", perturb(rng, gt, K))
    (root / "list.txt").write_text("\n".join(ids) + "\n")
    return ids


def run_hfpl_eval(root: Path, jobs: int) -> tuple[float, dict]:
    parser = argparse.ArgumentParser(prog="hfpl")
    register(parser.add_subparsers(dest="command", required=True))
    out = root / f"metrics_jobs{jobs}.json"
    args = parser.parse_args(
        ["eval", "--pred", str(root / "pred"), "--gt", str(root / "gt"), "--list",
         str(root / "list.txt"), "--format", "label-png", "--num-classes", str(K), "--jobs",
         str(jobs), "--quiet", "--out", str(out)]
    )  # fmt: skip
    start = time.perf_counter()
    if args.func(args) != 0:
        raise SystemExit("hfpl eval failed")
    return time.perf_counter() - start, json.loads(out.read_text())


def run_reference(root: Path, ids: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    total = np.zeros((K, 7), np.int64)
    for image_id in ids:
        gt = read_png_labels(root / "gt" / f"{image_id}.png")
        pred = read_png_labels(root / "pred" / f"{image_id}.png")
        total += ref_image_counts(pred, gt, K)
    return time.perf_counter() - start, ref_scores(total)


def max_difference(result: dict, ref: dict) -> float:
    """Largest |difference| in percent over J, F, J&F and per-class values (NaN must match)."""
    pairs = [
        (result["J"], 100 * ref["J"]),
        (result["F"], 100 * ref["F"]),
        (result["JF"], 50 * (ref["J"] + ref["F"])),
    ]
    rows = list(result["per_class"].values())
    pairs += [(row["J"], 100 * iou) for row, iou in zip(rows, ref["iou"], strict=True)]
    pairs += [(row["F"], 100 * f) for row, f in zip(rows[1:], ref["f"], strict=True)]
    worst = 0.0
    for ours, theirs in pairs:
        if ours is None or math.isnan(theirs):
            if not (ours is None and math.isnan(theirs)):
                return math.inf
            continue
        worst = max(worst, abs(ours - theirs))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1449)
    parser.add_argument("--jobs", type=int, default=2)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        ids = make_dataset(root, opts.images)
        print(f"dataset: {len(ids)} pairs {SHAPE[1]}x{SHAPE[0]}, {K} classes "
              f"({time.perf_counter() - start:.1f} s to write)")  # fmt: skip
        t_fast, fast = run_hfpl_eval(root, opts.jobs)
        print(f"hfpl eval --jobs {opts.jobs}: {t_fast:8.2f} s  J {fast['J']:.4f} F {fast['F']:.4f}")
        t_one, one = run_hfpl_eval(root, 1)
        print(f"hfpl eval --jobs 1: {t_one:8.2f} s")
        t_ref, ref = run_reference(root, ids)
        print(f"reference:          {t_ref:8.2f} s  J {100 * ref['J']:.4f} F {100 * ref['F']:.4f}")
    diff = max(max_difference(fast, ref), max_difference(one, ref))
    print(f"speed-up vs reference: {t_ref / t_fast:.1f}x (--jobs {opts.jobs}), "
          f"{t_ref / t_one:.1f}x (--jobs 1)")  # fmt: skip
    print(f"max |difference| (percent): {diff:.3g}")
    ok_equal = diff <= 1e-9
    ok_time = t_fast <= 30 * opts.images / 1449
    ok_ratio = t_ref / t_fast >= 5
    print(f"identical numbers: {'PASS' if ok_equal else 'FAIL'}; "
          f"<= 30 s per 1449 images: {'PASS' if ok_time else 'FAIL'}; "
          f">= 5x: {'PASS' if ok_ratio else 'FAIL'}")  # fmt: skip
    return 0 if ok_equal and ok_time and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
