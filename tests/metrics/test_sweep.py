"""Threshold sweep: grid parsing and label_at == argmax over [t, cams...] (ties included)."""

from __future__ import annotations

import numpy as np
import pytest

from hfpl.metrics.confusion import ConfusionMatrix
from hfpl.metrics.readers import READERS, EvalInputError, ScoreMap
from hfpl.metrics.sweep import label_at, parse_sweep, sweep_class_masks, sweep_confusions


def test_parse_sweep_inclusive():
    grid = parse_sweep("0:0.59:0.01")
    assert len(grid) == 60 and grid[0] == 0.0 and grid[-1] == 0.59 and grid[30] == 0.3
    assert parse_sweep("0.05:0.19:0.01")[-1] == 0.19
    assert parse_sweep("0.2:0.2:0.1") == [0.2]


@pytest.mark.parametrize("spec", ["0:1", "a:b:c", "0:1:0", "1:0:0.1", "0:inf:0.1"])
def test_parse_sweep_rejects(spec):
    with pytest.raises(EvalInputError, match="--sweep"):
        parse_sweep(spec)


def upstream_label(cams: dict, t: float, shape) -> np.ndarray:
    """SEAM's evaluation: channel 0 = t, channel k+1 = cam[k], argmax."""
    stack = np.full((21, *shape), -np.inf)
    stack[0] = t
    for k, cam in cams.items():
        stack[k + 1] = cam
    return np.argmax(stack, axis=0)


@pytest.mark.parametrize("seed", range(6))
def test_label_at_matches_upstream_argmax_with_ties(tmp_path, seed):
    rng = np.random.default_rng(seed)
    shape = (7, 9)
    keys = rng.choice(20, size=int(rng.integers(1, 5)), replace=False)
    # quantised scores: many ties between classes and with the thresholds
    cams = {int(k): np.round(rng.random(shape) * 10) / 10 for k in keys}
    np.save(tmp_path / "c.npy", cams, allow_pickle=True)
    scores = READERS["cam-dict"].read(tmp_path / "c.npy", shape)
    for t in parse_sweep("0:1:0.1"):
        np.testing.assert_array_equal(label_at(scores, t), upstream_label(cams, t, shape))


def test_background_wins_exact_tie():
    scores = ScoreMap(np.array([[3, 3]]), np.array([[0.25, 0.2500001]]))
    np.testing.assert_array_equal(label_at(scores, 0.25), [[0, 3]])


@pytest.mark.parametrize("seed", range(4))
def test_one_pass_counts_equal_per_threshold_labels(seed):
    """The histogram confusions and per-class masks equal those of label_at at each t."""
    rng = np.random.default_rng(seed)
    shape, n = (23, 31), 6
    fg_label = rng.integers(1, n, shape).astype(np.uint8)
    fg_max = np.round(rng.random(shape) * 10) / 10  # ties with the grid
    fg_max[rng.random(shape) < 0.1] = -np.inf  # pixels without any foreground score
    scores = ScoreMap(fg_label, fg_max)
    gt = rng.integers(0, n, shape)
    gt[rng.random(shape) < 0.1] = 255
    grid = np.asarray(parse_sweep("0:1:0.1"))
    confusions = sweep_confusions(scores, gt, grid, n)
    for t, confusion, masks in zip(grid, confusions, sweep_class_masks(scores, grid), strict=True):
        labels = label_at(scores, t)
        expected = ConfusionMatrix(n)
        expected.update(labels, gt)
        np.testing.assert_array_equal(confusion, expected.matrix)
        present = [c for c in range(1, n) if (labels == c).any()]
        assert sorted(masks) == present
        for c in present:
            np.testing.assert_array_equal(masks[c], labels == c)
