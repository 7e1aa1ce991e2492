"""Feature similarity loss (FSL), paper eqs. 9-13, in the authors' exact definition.

    L = -(1 / (B·H·W)) Σ_b Σ_{i,j} w_ij · g_ij · f_ij        over all ordered pixel pairs (i, j)
    w_ij = exp(-|p_i - p_j|² / (2σ²)) / (2πσ²)               spatial Gaussian weight
    g_ij = ½ |a_i - a_j|²                                     gating: distance of the maps
    f_ij = tanh(μ + log((δ + 1e-5) / (1 - δ + 1e-5)))         colour dissimilarity in [-1, 1]
    δ_ij = clamp(|x_i - x_j|_1 / 3, 0, 1)

Only `maps` receives gradients (w and f are constants of the image).

Fast evaluation. w depends only on the offset o = p_j - p_i, and every term is symmetric in
(i, j), so the sum over all (HW)² pairs equals twice the sum over the pairs whose row offset dy is
> 0, plus the pairs inside a row (dy = 0, dx > 0); the i = j terms vanish since g = 0. Pairs
farther apart than a radius R carry a weight below exp(-R²/(2σ²)) and are dropped; `radius=None`
uses R = 4σ (relative difference to the all-pairs value < 1e-3 on realistic maps: see
tests/losses/test_fsl.py and the README), and `exact=True` covers the whole map.
For one row offset dy the pairs form, per image row y, a (W × W) matrix P[x, x'] = w·f between
pixel (y, x) and (y + dy, x'). With n = |a|² per pixel,
    Σ P ⊙ |a_x - a_x'|² = Σ_x rowsum(P)_x n_x + Σ_x' colsum(P)_x' n_x' - 2 Σ P ⊙ (A Aᵀ'),
so the K-dimensional work is a batched matrix product and the gradient is two more. Memory is
O(B·H·W·W·R) for the P matrices (kept for the backward), never O(B·(HW)²).
"""

from __future__ import annotations

import math

import torch

from hfpl.losses._checks import check_float_tensor

RADIUS_IN_SIGMAS = 4.0
DELTA_EPS = 1e-5  # the authors' constant inside the log-odds of f
IMAGE_TOLERANCE = 1e-4  # how far outside [0, 1] the image may stray (interpolation rounding)


def fsl_loss(
    image: torch.Tensor,
    maps: torch.Tensor,
    mu: float = 2.5,
    sigma: float = 5.0,
    *,
    radius: float | None = None,
    exact: bool = False,
) -> torch.Tensor:
    """Feature similarity loss of `maps` given `image`.

    Args:
        image: (B, 3, H, W) RGB in [0, 1] at the maps' resolution (no gradient is taken).
        maps: (B, K, H, W) gating input a (e.g. max-normalised CAMs of present classes).
        mu: dissimilarity threshold μ (pairs with δ < 1/(1 + e^μ) count as similar).
        sigma: spatial scale σ of the Gaussian pair weight, in map pixels.
        radius: offsets with |o| <= radius are summed; None -> 4σ.
        exact: sum over all pairs of the map (for tests and small maps).
    Returns:
        Scalar loss, differentiable w.r.t. `maps`.
    """
    _check_inputs(image, maps, sigma)
    b, k, h, w = maps.shape
    if exact:
        radius = math.hypot(h - 1, w - 1)
    elif radius is None:
        radius = RADIUS_IN_SIGMAS * sigma
    elif radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    image = image.detach().to(maps.dtype).clamp(0.0, 1.0)
    row_offsets = list(range(min(int(math.floor(radius)), h - 1) + 1))
    pair_weights = [_pair_weights(image, dy, radius, mu, sigma) for dy in row_offsets]
    total = _RowPairSum.apply(maps, row_offsets, *pair_weights)
    # total = Σ over the half of the pairs of w·f·|Δa|²; all ordered pairs give 2·½·total.
    return -total / (b * h * w)


def _check_inputs(image: torch.Tensor, maps: torch.Tensor, sigma: float) -> None:
    check_float_tensor("image", image, 4, "(B, 3, H, W)")
    check_float_tensor("maps", maps, 4, "(B, K, H, W)")
    if image.shape[1] != 3:
        raise ValueError(f"image must have 3 (RGB) channels, got shape {tuple(image.shape)}")
    if maps.shape[1] == 0:
        raise ValueError("maps must have at least one channel (K >= 1)")
    if image.shape[0] != maps.shape[0] or image.shape[2:] != maps.shape[2:]:
        raise ValueError(
            f"image {tuple(image.shape)} and maps {tuple(maps.shape)} must share B, H, W: "
            "resize the image to the maps' resolution first (see hfpl.losses.gating.resize_image)"
        )
    if image.min() < -IMAGE_TOLERANCE or image.max() > 1 + IMAGE_TOLERANCE:
        raise ValueError(
            f"image values must lie in [0, 1], got [{image.min().item():.4g}, "
            f"{image.max().item():.4g}]: de-normalise the network input first"
        )
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")


def _pair_weights(
    image: torch.Tensor, dy: int, radius: float, mu: float, sigma: float
) -> torch.Tensor:
    """P = w·f between pixel (y, x) and (y + dy, x'), zero beyond the radius (and for x' <= x
    when dy = 0, so each unordered pair counts once).

    Args:
        image: (B, 3, H, W) in [0, 1].
    Returns:
        (B, H - dy, W, W).
    """
    h, w = image.shape[2:]
    dx = torch.arange(w, device=image.device, dtype=image.dtype)
    dx = dx[None, :] - dx[:, None]  # x' - x
    dist2 = dy * dy + dx.square()
    keep = dist2 <= radius * radius
    if dy == 0:
        keep &= dx > 0
    gauss = torch.exp(-dist2 / (2 * sigma**2)) / (2 * math.pi * sigma**2) * keep
    here = image[:, :, : h - dy, :, None]  # (B, 3, H', W, 1)
    there = image[:, :, dy:, None, :]  # (B, 3, H', 1, W)
    delta = (here - there).abs_().sum(dim=1).div_(3.0).clamp_(0.0, 1.0)
    # tanh(μ + log(u/v)) = (e^{2μ}u² - v²) / (e^{2μ}u² + v²): no transcendental per pair
    u2 = (delta + DELTA_EPS).square_().mul_(math.exp(2 * mu))
    v2 = (1 + DELTA_EPS - delta).square_()
    return (u2 - v2).div_(u2.add_(v2)).mul_(gauss)


class _RowPairSum(torch.autograd.Function):
    """Σ_dy Σ_y Σ_{x,x'} P[x, x'] |a(y, x) - a(y + dy, x')|² through batched matrix products."""

    @staticmethod
    def forward(ctx, maps, row_offsets, *pair_weights):
        ctx.row_offsets = row_offsets
        ctx.save_for_backward(maps, *pair_weights)
        h = maps.shape[2]
        rows = maps.permute(0, 2, 3, 1)  # (B, H, W, K)
        norms = rows.square().sum(dim=-1)  # (B, H, W)
        total = maps.new_zeros(())
        for dy, pair in zip(row_offsets, pair_weights, strict=True):
            here, there = rows[:, : h - dy], rows[:, dy:]
            total += (pair.sum(dim=-1) * norms[:, : h - dy]).sum()
            total += (pair.sum(dim=-2) * norms[:, dy:]).sum()
            total -= 2 * (pair * (here @ there.transpose(-1, -2))).sum()
        return total

    @staticmethod
    def backward(ctx, grad_total):
        maps, *pair_weights = ctx.saved_tensors
        h = maps.shape[2]
        rows = maps.permute(0, 2, 3, 1)
        grad = torch.zeros_like(rows)  # (B, H, W, K)
        for dy, pair in zip(ctx.row_offsets, pair_weights, strict=True):
            here, there = rows[:, : h - dy], rows[:, dy:]
            grad[:, : h - dy] += pair.sum(dim=-1, keepdim=True) * here - pair @ there
            grad[:, dy:] += pair.sum(dim=-2)[..., None] * there - pair.transpose(-1, -2) @ here
        return (2 * grad_total * grad.permute(0, 3, 1, 2), None, *([None] * len(pair_weights)))
