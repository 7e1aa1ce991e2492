"""J from the confusion matrix: conventions, void handling, merge, reference equality."""

from __future__ import annotations

import math

import numpy as np
import pytest
from jf_reference import ref_image_counts, ref_scores

from hfpl.metrics.confusion import J_CONVENTIONS, ConfusionMatrix


def test_hand_checked_iou_and_void_ignored():
    gt = np.array([[0, 0, 1, 1], [0, 255, 1, 1]])
    pred = np.array([[0, 1, 1, 1], [0, 1, 1, 0]])  # the void pixel's prediction is ignored
    cm = ConfusionMatrix(4)
    cm.update(pred, gt)
    # class 0: TP 2, T 3, P 3 -> 2/4; class 1: TP 3, T 4, P 4 (void excluded) -> 3/5
    np.testing.assert_allclose(cm.iou("present")[:2], [0.5, 0.6])
    assert math.isnan(cm.iou("present")[2])
    assert cm.miou("present") == pytest.approx(0.55)
    assert cm.miou("all") == pytest.approx((0.5 + 0.6) / 4)  # absent classes 2, 3 count as 0


def test_gt_convention_skips_classes_only_predicted():
    gt = np.array([[0, 0, 1, 1]])
    pred = np.array([[0, 2, 1, 1]])
    cm = ConfusionMatrix(3)
    cm.update(pred, gt)
    assert cm.miou("present") == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert cm.miou("gt") == pytest.approx((0.5 + 1.0) / 2)
    assert cm.miou("all") == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_unknown_convention_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown J convention"):
        ConfusionMatrix(3).iou("mean")


@pytest.mark.parametrize("convention", sorted(J_CONVENTIONS))
@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_and_merge(convention, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 22))
    whole, parts = ConfusionMatrix(k), [ConfusionMatrix(k), ConfusionMatrix(k)]
    counts = np.zeros((k, 7), np.int64)
    for i in range(5):
        shape = (int(rng.integers(3, 40)), int(rng.integers(3, 40)))
        # a few classes only, so some are absent from GT or prediction
        gt = rng.choice(rng.integers(0, k, 3), size=shape)
        pred = rng.choice(rng.integers(0, k, 3), size=shape)
        gt[rng.random(shape) < 0.1] = 255
        whole.update(pred, gt)
        parts[i % 2].update(pred, gt)
        counts += ref_image_counts(pred, gt, k)
    parts[0].merge(parts[1])
    np.testing.assert_array_equal(parts[0].matrix, whole.matrix)
    ref = ref_scores(counts, convention)
    np.testing.assert_allclose(whole.iou(convention), ref["iou"], rtol=0, atol=1e-12)
    assert whole.miou(convention) == pytest.approx(ref["J"], abs=1e-12)
