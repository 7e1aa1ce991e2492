"""Gating inputs for FSL (paper section 4.3) and the image at map resolution.

The FSL gating function g compares per-pixel maps a. The paper's default is the max-normalised CAM
r (eq. 4); SEAM's own normalisation is min-max; the ablation also uses the binomial posterior b
(eq. 14), the raw scores s, and the multinomial posterior (eq. 5). Absent classes are masked.
All functions take and return (B, K, H, W) tensors unless stated otherwise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NORM_EPS = 1e-5  # keeps all-zero (or all-negative) CAMs finite, as upstream normalisations do

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def max_norm(scores: torch.Tensor) -> torch.Tensor:
    """r = ReLU(s) / max ReLU(s) per image and channel (eq. 4); 0 where a channel is <= 0."""
    positive = F.relu(scores)
    return positive / (positive.amax(dim=(2, 3), keepdim=True) + NORM_EPS)


def minmax_norm(scores: torch.Tensor) -> torch.Tensor:
    """SEAM's `max_norm` (tool/visualization.py): p = ReLU(s), then
    ReLU(p - min p - 1e-5) / (max p - min p + 1e-5) per image and channel."""
    positive = F.relu(scores)
    low = positive.amin(dim=(2, 3), keepdim=True)
    high = positive.amax(dim=(2, 3), keepdim=True)
    return F.relu(positive - low - NORM_EPS) / (high - low + NORM_EPS)


def mask_absent(maps: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Zero the channels of classes absent from each image; labels (B, K) in {0, 1}."""
    return maps * labels.to(maps.dtype)[:, :, None, None]


def with_background(fg_maps: torch.Tensor) -> torch.Tensor:
    """Prepend a background channel 1 - max over the classes (SEAM's convention).

    Args:
        fg_maps: (B, C, H, W) in [0, 1]. Returns (B, C + 1, H, W).
    """
    return torch.cat([1 - fg_maps.amax(dim=1, keepdim=True), fg_maps], dim=1)


def upsample_maps(maps: torch.Tensor, factor: int) -> torch.Tensor:
    """Integer bilinear upsampling of maps (SIPE ×2, MCTformer ×4; integer to avoid artifacts)."""
    if not isinstance(factor, int) or factor < 1:
        raise ValueError(f"upsampling factor must be a positive integer, got {factor!r}")
    if factor == 1:
        return maps
    return F.interpolate(maps, scale_factor=factor, mode="bilinear", align_corners=False)


def resize_image(
    image: torch.Tensor,
    size: tuple[int, int],
    *,
    mean: tuple[float, float, float] | None = None,
    std: tuple[float, float, float] | None = None,
) -> torch.Tensor:
    """The network input at map resolution in [0, 1], as FSL expects it.

    Bilinear with align_corners=True (the authors' choice), then de-normalised with mean/std when
    given (image * std + mean), then clamped to [0, 1]. No gradient flows into the image.

    Args:
        image: (B, 3, H0, W0) network input. size: (H, W). Returns (B, 3, H, W).
    """
    small = F.interpolate(image.detach(), size=size, mode="bilinear", align_corners=True)
    if mean is not None or std is not None:
        mean_t = small.new_tensor(mean if mean is not None else (0.0, 0.0, 0.0))[
            None, :, None, None
        ]
        std_t = small.new_tensor(std if std is not None else (1.0, 1.0, 1.0))[None, :, None, None]
        small = small * std_t + mean_t
    return small.clamp(0.0, 1.0)
