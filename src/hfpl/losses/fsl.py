"""Feature similarity loss (FSL), paper eqs. 9-13, in the authors' exact definition.

    L = -(1 / (B·H·W)) Σ_b Σ_{i,j} w_ij · g_ij · f_ij        over all ordered pixel pairs (i, j)
    w_ij = exp(-|p_i - p_j|² / (2σ²)) / (2πσ²)               spatial Gaussian weight
    g_ij = ½ |a_i - a_j|²                                     gating: distance of the maps
    f_ij = tanh(μ + log((δ + 1e-5) / (1 - δ + 1e-5)))         colour dissimilarity in [-1, 1]
    δ_ij = clamp(|x_i - x_j|_1 / 3, 0, 1)

Only `maps` receives gradients (w and f are constants of the image).

Fast evaluation. w depends only on the offset between two pixels, and every term is symmetric
in (i, j), so the sum over all (HW)² ordered pairs is twice the sum over the pairs whose partner
lies dy >= 0 rows below (inside a row: to the right); i = j adds nothing since g = 0. Pairs farther
apart than a radius R carry a weight below exp(-R²/(2σ²)) and are dropped: `radius=None` uses
R = 4σ (relative difference to the all-pairs value < 1e-3 on realistic maps, see
tests/losses/test_fsl.py and the README), `exact=True` covers the whole map.

For one row offset dy the pairs form, per image row y, a (W, W) matrix P[x, x'] = w·f between
pixels (y, x) and (y + dy, x'). With A = a(y, ·), A' = a(y + dy, ·) as (W, K) matrices and
n = |a|² per pixel,
    Σ P ⊙ |A_x - A'_x'|² = Σ rowsum(P)·n + Σ colsum(P)·n' - 2 Σ A ⊙ (P A'),
so the work over K is two batched matrix products per row offset (a column of ones appended to
A and A' yields the row and column sums in the same products), and the gradient
2 (degree·a - P A' - Pᵀ A) needs nothing but those products: P is built one row offset at a
time and never kept. Memory is O(B·H·W·(K + W)), never O(B·(HW)²).
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
    total = _PairSum.apply(_varying_channels(maps), image, radius, mu, sigma)
    # total = Σ over half of the pairs of w·f·|Δa|²; all ordered pairs give 2·½·total.
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
        (B, H - dy, W, W), indexed [b, y, x, x'].
    """
    h, w = image.shape[2:]
    dx = torch.arange(w, device=image.device, dtype=image.dtype)
    dx = dx[None, :] - dx[:, None]  # x' - x
    dist2 = dy * dy + dx.square()
    keep = (dist2 <= radius * radius) & ((dx > 0) if dy == 0 else True)
    gauss = torch.exp(-dist2 / (2 * sigma**2)) / (2 * math.pi * sigma**2) * keep
    delta = image.new_zeros(image.shape[0], h - dy, w, w)
    for channel in range(3):  # L1 over RGB one channel at a time: no 3x-sized temporary
        here = image[:, channel, : h - dy, :, None]
        there = image[:, channel, dy:, None, :]
        delta += (here - there).abs_()
    delta.div_(3.0).clamp_(0.0, 1.0)
    # tanh(μ + log(u/v)) = (e^{2μ}u² - v²) / (e^{2μ}u² + v²): no transcendental per pair
    u2 = (delta + DELTA_EPS).square_().mul_(math.exp(2 * mu))
    v2 = delta.neg_().add_(1 + DELTA_EPS).square_()
    return (u2 - v2).div_(u2.add_(v2)).mul_(gauss)


def _varying_channels(maps: torch.Tensor) -> torch.Tensor:
    """Only the channels that vary over each image, (B, K', H, W) with K' <= K.

    A channel constant over its image (an absent class masked to 0) adds exactly zero to the loss
    and its gradient, so dropping it is exact; for masked CAMs of 21 classes it leaves ~2-4.
    `torch.gather` routes the gradient of the kept channels back to their original positions.
    """
    flat = maps.detach().flatten(2)
    varies = flat.amax(dim=2) > flat.amin(dim=2)  # (B, K)
    counts = varies.sum(dim=1)
    kept = int(counts.max())
    if kept == maps.shape[1]:
        return maps
    # varying channels first (stable order), then the constant ones; keep the first `kept`
    order = torch.argsort((~varies).to(torch.uint8), dim=1, stable=True)[:, :kept]
    gathered = torch.gather(maps, 1, order[:, :, None, None].expand(-1, -1, *maps.shape[2:]))
    # where an image has fewer varying channels, the filler is zeroed: constant, contributes 0
    filler = torch.arange(kept, device=maps.device)[None, :] >= counts[:, None]
    return gathered.masked_fill(filler[:, :, None, None], 0.0)


class _PairSum(torch.autograd.Function):
    """Σ over half of the pairs within the radius of P ⊙ |a_i - a_j|², one row offset at a time."""

    @staticmethod
    def forward(ctx, maps, image, radius, mu, sigma):
        b, k, h, w = maps.shape
        # (B, H, K+1, W): the products below run as (K+1, W) @ (W, W), MKL's fast orientation
        rows = maps.transpose(1, 2)
        rows = torch.cat([rows, rows.new_ones(b, h, 1, w)], dim=2).contiguous()
        pulled = torch.zeros_like(rows)  # Σ over partners j of P_ij [a_j, 1], at pixel i
        pushed = torch.zeros_like(rows)  # Σ over pixels i of P_ij [a_i, 1], at partner j
        for dy in range(min(int(math.floor(radius)), h - 1) + 1):
            pair = _pair_weights(image, dy, radius, mu, sigma)  # (B, H - dy, W, W)
            pulled[:, : h - dy] += rows[:, dy:] @ pair.transpose(-1, -2)
            pushed[:, dy:] += rows[:, : h - dy] @ pair
        degree = pulled[:, :, -1:] + pushed[:, :, -1:]  # Σ_j P_ij with pixel i in either role
        values = rows[:, :, :-1]
        total = (degree * values.square()).sum() - 2 * (values * pulled[:, :, :-1]).sum()
        ctx.save_for_backward(values, degree, pulled[:, :, :-1] + pushed[:, :, :-1])
        return total

    @staticmethod
    def backward(ctx, grad_total):
        values, degree, neighbours = ctx.saved_tensors
        grad = 2 * grad_total * (degree * values - neighbours)  # (B, H, K, W)
        return grad.transpose(1, 2), None, None, None, None
