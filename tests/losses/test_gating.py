"""hfpl.losses.gating: each function against values worked out by hand or by plain loops."""

from __future__ import annotations

import pytest
import torch

from hfpl.losses import gating


def _loop_max_norm(s: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(s)
    for b in range(s.shape[0]):
        for k in range(s.shape[1]):
            p = s[b, k].clamp(min=0)
            out[b, k] = p / (p.max() + gating.NORM_EPS)
    return out


def _loop_minmax_norm(s: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(s)
    for b in range(s.shape[0]):
        for k in range(s.shape[1]):
            p = s[b, k].clamp(min=0)
            lo, hi = p.min(), p.max()
            out[b, k] = (p - lo - gating.NORM_EPS).clamp(min=0) / (hi - lo + gating.NORM_EPS)
    return out


def test_max_norm_matches_loops_and_peaks_at_one() -> None:
    s = torch.randn(2, 3, 5, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    r = gating.max_norm(s)
    assert torch.allclose(r, _loop_max_norm(s), atol=1e-12)
    assert torch.allclose(r.amax(dim=(2, 3)), torch.ones(2, 3, dtype=s.dtype), atol=1e-4)


def test_max_norm_of_non_positive_channel_is_zero_and_finite() -> None:
    s = -torch.ones(1, 1, 3, 3)
    assert torch.equal(gating.max_norm(s), torch.zeros_like(s))
    assert torch.isfinite(gating.max_norm(torch.zeros(1, 2, 2, 2))).all()


def test_minmax_norm_matches_loops_spans_zero_to_one() -> None:
    s = torch.randn(2, 4, 6, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    m = gating.minmax_norm(s)
    assert torch.allclose(m, _loop_minmax_norm(s), atol=1e-12)
    assert m.amin() == 0 and m.amax() <= 1


def test_mask_absent_zeroes_only_absent_classes() -> None:
    maps = torch.ones(2, 3, 2, 2)
    labels = torch.tensor([[1, 0, 1], [0, 1, 0]])
    out = gating.mask_absent(maps, labels)
    assert out[:, :, 0, 0].tolist() == [[1, 0, 1], [0, 1, 0]]


def test_with_background_is_one_minus_max() -> None:
    fg = torch.tensor([[[[0.2]], [[0.7]]]])
    out = gating.with_background(fg)
    assert out.shape == (1, 3, 1, 1)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([0.3, 0.2, 0.7]))


def test_upsample_maps_integer_factor_only() -> None:
    maps = torch.rand(1, 2, 4, 4)
    assert gating.upsample_maps(maps, 1) is maps
    assert gating.upsample_maps(maps, 4).shape == (1, 2, 16, 16)
    for bad in (0, 2.0, -1):
        with pytest.raises(ValueError, match="positive integer"):
            gating.upsample_maps(maps, bad)


def test_resize_image_denormalises_clamps_and_detaches() -> None:
    image = torch.full((1, 3, 8, 8), 0.5, requires_grad=True)
    mean, std = gating.IMAGENET_MEAN, gating.IMAGENET_STD
    out = gating.resize_image(image, (2, 2), mean=mean, std=std)
    expected = torch.tensor([0.5 * s + m for m, s in zip(mean, std, strict=True)])
    assert torch.allclose(out[0, :, 0, 0], expected)
    assert not out.requires_grad
    assert gating.resize_image(torch.full((1, 3, 2, 2), 3.0), (2, 2)).max() == 1.0
