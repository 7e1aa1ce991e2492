"""Contour F: seg2bmap, radius, disk, per-class terms and F against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from jf_reference import ref_disk, ref_image_counts, ref_scores, ref_seg2bmap
from synthetic import random_blobs

from hfpl.metrics.contour import (
    ContourAccumulator,
    GtContours,
    boundary_radius,
    disk,
    f_per_class,
    seg2bmap,
)


def loop_seg2bmap(m: np.ndarray) -> np.ndarray:
    """Pixel-by-pixel reading of EVALUATION.md step 3 (tiny masks only)."""
    h, w = m.shape
    b = np.zeros((h, w), dtype=bool)

    def at(i, j):
        return bool(m[i, j]) if i < h and j < w else False

    for i in range(h):
        for j in range(w):
            v = bool(m[i, j])
            if i == h - 1 and j == w - 1:
                b[i, j] = False
            elif i == h - 1:
                b[i, j] = v != at(i, j + 1)
            elif j == w - 1:
                b[i, j] = v != at(i + 1, j)
            else:
                b[i, j] = (v != at(i, j + 1)) or (v != at(i + 1, j)) or (v != at(i + 1, j + 1))
    return b


def test_seg2bmap_hand_checked_square():
    m = np.zeros((5, 5), bool)
    m[1:3, 1:3] = True
    expected = np.array(
        [
            [1, 1, 1, 0, 0],  # (0,0) sees the square below-right; (0,1),(0,2) see it below
            [1, 0, 1, 0, 0],  # (1,1) interior of its right/below/diag neighbours; edges differ
            [1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ],
        bool,
    )
    np.testing.assert_array_equal(seg2bmap(m), expected)


def test_seg2bmap_last_row_and_column_rules():
    # A full mask has no boundary: the last column uses only `m xor below` and the last row only
    # `m xor right`, so the zero fill beyond the image never marks the image border.
    np.testing.assert_array_equal(seg2bmap(np.ones((3, 4), bool)), np.zeros((3, 4), bool))
    single = np.zeros((2, 2), bool)
    single[1, 1] = True  # the bottom-right pixel is forced to 0, but its neighbours see it
    np.testing.assert_array_equal(seg2bmap(single), [[1, 1], [1, 0]])


@pytest.mark.parametrize("seed", range(20))
def test_seg2bmap_matches_loops_and_davis(seed):
    rng = np.random.default_rng(seed)
    m = rng.random((rng.integers(1, 9), rng.integers(1, 9))) < 0.5
    np.testing.assert_array_equal(seg2bmap(m), loop_seg2bmap(m))
    np.testing.assert_array_equal(ref_seg2bmap(m), loop_seg2bmap(m))


@pytest.mark.parametrize(("h", "w", "r"), [(375, 500, 5), (500, 500, 6), (480, 640, 7)])
def test_boundary_radius(h, w, r):
    assert boundary_radius(h, w) == r


@pytest.mark.parametrize("r", [0, 1, 2, 5, 7])
def test_disk_matches_loops(r):
    np.testing.assert_array_equal(disk(r).astype(bool), ref_disk(r))
    assert disk(r).shape == (2 * r + 1, 2 * r + 1)


def test_f_edge_cases():
    terms = np.array(
        [  # classes: absent both, GT only, pred only, perfect, disjoint
            [0, 0, 0, 4, 0],  # m1
            [0, 0, 0, 4, 0],  # m2
            [0, 5, 0, 4, 3],  # nG
            [0, 0, 5, 4, 3],  # nP
        ]
    )
    np.testing.assert_array_equal(f_per_class(terms), [1.0, 0.0, 0.0, 1.0, 0.0])


def test_absent_class_has_f_one_and_void_is_background():
    gt = np.zeros((40, 60), np.int64)
    gt[10:30, 10:30] = 1
    pred = gt.copy()
    acc = ContourAccumulator(4)
    acc.update(pred, gt)
    np.testing.assert_array_equal(acc.f_per_class(), [1.0, 1.0, 1.0])
    # a void band around the object: for F it is background, so a prediction that keeps the
    # object boundary is still perfect, and one that fills the band is not
    gt_void = gt.copy()
    gt_void[8:32, 8:10] = 255
    acc = ContourAccumulator(4)
    acc.update(pred, gt_void)
    assert acc.f() == 1.0
    filled = pred.copy()
    filled[8:32, 8:10] = 1
    acc = ContourAccumulator(4)
    acc.update(filled, gt_void)
    assert acc.f_per_class()[0] < 1.0


@pytest.mark.parametrize("seed", range(12))
def test_terms_match_reference(seed):
    """Random noise and structured blobs, odd sizes, void pixels: identical counts."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(5, 90)), int(rng.integers(5, 120)))
    k = int(rng.integers(2, 8))
    if seed % 2:
        gt = rng.integers(0, k, shape)
        pred = rng.integers(0, k, shape)
    else:
        gt = random_blobs(rng, shape, k, 4)
        pred = random_blobs(rng, shape, k, 4)
    gt[rng.random(shape) < 0.05] = 255
    expected = ref_image_counts(pred, gt, k)[1:, 3:].T
    np.testing.assert_array_equal(GtContours(gt, k).terms(pred), expected)


def test_gt_contours_reused_across_predictions():
    rng = np.random.default_rng(7)
    gt = random_blobs(rng, (50, 70), 5, 5)
    prepared = GtContours(gt, 5)
    for _ in range(3):
        pred = random_blobs(rng, (50, 70), 5, 5)
        np.testing.assert_array_equal(prepared.terms(pred), GtContours(gt, 5).terms(pred))


def test_accumulated_f_matches_reference_and_merge():
    rng = np.random.default_rng(3)
    pairs = [(random_blobs(rng, (60, 80), 6, 3), random_blobs(rng, (60, 80), 6, 3))]
    pairs += [(random_blobs(rng, (45, 30), 6, 2), random_blobs(rng, (45, 30), 6, 2))]
    whole, a, b = ContourAccumulator(6), ContourAccumulator(6), ContourAccumulator(6)
    counts = np.zeros((6, 7), np.int64)
    for i, (pred, gt) in enumerate(pairs):
        whole.update(pred, gt)
        (a if i % 2 else b).update(pred, gt)
        counts += ref_image_counts(pred, gt, 6)
    a.merge(b)
    np.testing.assert_array_equal(a.terms, whole.terms)
    ref = ref_scores(counts)
    np.testing.assert_allclose(whole.f_per_class(), ref["f"], rtol=0, atol=1e-12)
    assert whole.f() == pytest.approx(ref["F"], abs=1e-12)
