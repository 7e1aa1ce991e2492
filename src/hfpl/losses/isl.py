"""Importance sampling loss (ISL), binomial (the paper's proposal) and multinomial (ablation).

Paper eqs. 6-8 (multinomial, Jonnarth & Felsberg) and 14-18 (binomial): for every image and class,
draw N pixels with replacement from p(i) ∝ posterior_c(i) (+ eps, so an all-zero map is a legal
distribution), read the class prediction at the drawn pixels and apply binary cross-entropy against
the image-level label; average over classes, samples and images. The draw itself is not
differentiated (a discrete sample); the gradient flows through the prediction at the samples.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hfpl.losses._checks import check_float_tensor, check_labels, check_posterior

SAMPLING_EPS = 1e-5  # the authors' offset added to the posterior before sampling


def binomial_posterior(logits: torch.Tensor) -> torch.Tensor:
    """Independent per-class posteriors b = sigmoid(s) (eq. 14); same shape as `logits`."""
    return torch.sigmoid(logits)


def multinomial_posterior(fg_logits: torch.Tensor, bg_logits: torch.Tensor) -> torch.Tensor:
    """Softmax posterior over [background, classes] (eq. 5).

    Args:
        fg_logits: (B, C, H, W) foreground class scores.
        bg_logits: (B, 1, H, W) background score.
    Returns:
        (B, C + 1, H, W) probabilities summing to 1 over dim 1; channel 0 is background.
    """
    return torch.softmax(torch.cat([bg_logits, fg_logits], dim=1), dim=1)


def sample_pixel_indices(
    probs: torch.Tensor,
    num_samples: int,
    *,
    eps: float = SAMPLING_EPS,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw `num_samples` flat pixel indices per (image, class) with p(i) ∝ probs(i) + eps.

    Args:
        probs: (B, C, H, W) non-negative maps (not differentiated).
    Returns:
        (B, C, N) int64 indices into H*W.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    b, c, h, w = probs.shape
    weights = probs.detach().reshape(b * c, h * w) + eps
    idx = torch.multinomial(weights, num_samples, replacement=True, generator=generator)
    return idx.reshape(b, c, num_samples)


def isl_loss_at(
    logits: torch.Tensor,
    labels: torch.Tensor,
    indices: torch.Tensor,
    *,
    posterior: str = "binomial",
    bg_logits: torch.Tensor | None = None,
) -> torch.Tensor:
    """ISL for given sample positions (the deterministic part; `isl_loss` draws the positions).

    Binomial: BCE-with-logits of the logit s_c at each sample (= BCE of sigmoid, but stable).
    Multinomial: BCE of the softmax posterior a_c at each sample, computed in log space:
    log a_c = s_c - lse(s), log(1 - a_c) = lse(s without c) - lse(s).

    Args:
        logits: (B, C, H, W) foreground class scores.
        labels: (B, C) image-level labels in {0, 1}.
        indices: (B, C, N) flat pixel indices.
        bg_logits: (B, 1, H, W), required for the multinomial posterior.
    Returns:
        Scalar: mean over images, classes and samples.
    """
    b, c, h, w = logits.shape
    target = labels.to(logits.dtype)[:, :, None].expand(b, c, indices.shape[-1])
    if posterior == "binomial":
        sampled = torch.gather(logits.reshape(b, c, h * w), 2, indices)
        return F.binary_cross_entropy_with_logits(sampled, target)
    full = torch.cat([bg_logits, logits], dim=1).reshape(b, c + 1, h * w)  # (B, C+1, HW)
    # score vectors at every sample: (B, C, N, C+1)
    vectors = torch.gather(
        full[:, None].expand(b, c, c + 1, h * w),
        3,
        indices[:, :, None, :].expand(b, c, c + 1, indices.shape[-1]),
    ).permute(0, 1, 3, 2)
    lse_all = torch.logsumexp(vectors, dim=-1)
    own = F.one_hot(torch.arange(1, c + 1, device=logits.device), c + 1).bool()  # (C, C+1)
    own = own[None, :, None, :].expand_as(vectors)
    log_p = vectors.masked_select(own).reshape(b, c, -1) - lse_all
    log_not_p = torch.logsumexp(vectors.masked_fill(own, float("-inf")), dim=-1) - lse_all
    return -(target * log_p + (1 - target) * log_not_p).mean()


def isl_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    num_samples: int = 10,
    posterior: str = "binomial",
    bg_logits: torch.Tensor | None = None,
    eps: float = SAMPLING_EPS,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Multi-sample importance sampling loss L_is^N (eq. 18).

    Args:
        logits: (B, C, H, W) raw foreground class scores s (CAM logits).
        labels: (B, C) image-level labels y in {0, 1}.
        num_samples: N pixels drawn per (image, class), with replacement.
        posterior: "binomial" (sigmoid, eq. 14) or "multinomial" (softmax with a background
            channel, eq. 5; then `bg_logits` (B, 1, H, W) is required).
        eps: added to the posterior before sampling so all-zero maps are legal.
        generator: optional torch.Generator for reproducible draws.
    Returns:
        Scalar loss (mean over images, classes and samples).
    """
    check_float_tensor("logits", logits, 4, "(B, C, H, W)")
    b, c, h, w = logits.shape
    if c == 0:
        raise ValueError("logits must have at least one class channel (C >= 1)")
    check_labels(labels, b, c)
    check_posterior(posterior)
    if posterior == "multinomial":
        if bg_logits is None:
            raise ValueError("the multinomial posterior needs bg_logits of shape (B, 1, H, W)")
        check_float_tensor("bg_logits", bg_logits, 4, "(B, 1, H, W)")
        if tuple(bg_logits.shape) != (b, 1, h, w):
            raise ValueError(f"bg_logits must have shape {(b, 1, h, w)}, got {bg_logits.shape}")
        probs = multinomial_posterior(logits, bg_logits)[:, 1:]
    else:
        probs = binomial_posterior(logits)
    indices = sample_pixel_indices(probs, num_samples, eps=eps, generator=generator)
    return isl_loss_at(logits, labels, indices, posterior=posterior, bg_logits=bg_logits)


def gap_bce_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_ce (eq. 17): BCE of the GAP (mean-pooled) scores against the image labels.

    Args:
        logits: (B, C, H, W); labels: (B, C). Returns a scalar (mean over images and classes).
    """
    check_float_tensor("logits", logits, 4, "(B, C, H, W)")
    check_labels(labels, logits.shape[0], logits.shape[1])
    return F.binary_cross_entropy_with_logits(logits.mean(dim=(2, 3)), labels.to(logits.dtype))


def gap_isl_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    isl_weight: float = 0.2,
    num_samples: int = 10,
    posterior: str = "binomial",
    bg_logits: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Combined classification loss L_cls = (1 - λ) L_ce(GAP) + λ L_is^N (eq. 16).

    λ = `isl_weight` in [0, 1]; λ = 0 is the plain GAP loss (no sampling happens), λ = 1 is ISL
    only.
    Shapes as in `isl_loss`.
    """
    if not 0.0 <= isl_weight <= 1.0:
        raise ValueError(f"isl_weight (λ) must be in [0, 1], got {isl_weight}")
    loss = gap_bce_loss(logits, labels) if isl_weight < 1 else logits.new_zeros(())
    if isl_weight == 0:
        return loss
    isl = isl_loss(
        logits,
        labels,
        num_samples=num_samples,
        posterior=posterior,
        bg_logits=bg_logits,
        generator=generator,
    )
    return (1 - isl_weight) * loss + isl_weight * isl
