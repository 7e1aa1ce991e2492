"""JFAccumulator: J and F updated together equal the reference; update, add and merge agree."""

from __future__ import annotations

import numpy as np
import pytest
from jf_reference import ref_evaluate
from synthetic import perturb, random_blobs, void_edges

from hfpl.metrics.confusion import ConfusionMatrix
from hfpl.metrics.contour import GtContours
from hfpl.metrics.jf import JFAccumulator

K = 6


@pytest.fixture
def pairs():
    rng = np.random.default_rng(11)
    out = []
    for shape in [(30, 40), (25, 25), (41, 17)]:
        gt = void_edges(random_blobs(rng, shape, K, 3))
        out.append((perturb(rng, gt, K), gt))
    return out


def test_matches_reference_and_jf_is_the_mean(pairs):
    acc = JFAccumulator(K)
    for pred, gt in pairs:
        acc.update(pred, gt)
    result = acc.compute("all")
    ref = ref_evaluate(pairs, K, "all")
    assert result.j == pytest.approx(ref["J"], abs=1e-12)
    assert result.f == pytest.approx(ref["F"], abs=1e-12)
    assert result.jf == pytest.approx((ref["J"] + ref["F"]) / 2, abs=1e-12)
    np.testing.assert_allclose(result.j_per_class, ref["iou"], atol=1e-12)
    np.testing.assert_allclose(result.f_per_class, ref["f"], atol=1e-12)
    assert result.j_per_class.shape == (K,) and result.f_per_class.shape == (K - 1,)


def test_update_add_and_merge_agree(pairs):
    whole, added, first, second = (JFAccumulator(K) for _ in range(4))
    for i, (pred, gt) in enumerate(pairs):
        whole.update(pred, gt, GtContours(gt, K))  # the cached GT side gives the same terms
        confusion = ConfusionMatrix(K)
        confusion.update(pred, gt)
        added.add(confusion.matrix, GtContours(gt, K).terms(pred))
        (first if i == 0 else second).update(pred, gt)
    first.merge(second)
    for acc in (added, first):
        np.testing.assert_array_equal(acc.confusion.matrix, whole.confusion.matrix)
        np.testing.assert_array_equal(acc.contour.terms, whole.contour.terms)
    assert whole.confusion.matrix.sum() == sum(int((gt != 255).sum()) for _, gt in pairs)
