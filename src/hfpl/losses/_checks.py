"""Input validation shared by the losses: one clear ValueError per kind of bad input."""

from __future__ import annotations

import torch

POSTERIORS = ("binomial", "multinomial")


def check_float_tensor(name: str, tensor: torch.Tensor, ndim: int, layout: str) -> None:
    """Require a finite floating-point tensor with `ndim` dimensions (`layout` names them)."""
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {layout}, got {type(tensor)}")
    if tensor.dim() != ndim:
        raise ValueError(f"{name} must have shape {layout}, got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains NaN or Inf values")


def check_labels(labels: torch.Tensor, batch: int, classes: int) -> None:
    """Image-level labels: (B, C) with values in {0, 1}."""
    if not isinstance(labels, torch.Tensor) or tuple(labels.shape) != (batch, classes):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels)
        raise ValueError(f"labels must have shape (B, C) = {(batch, classes)}, got {shape}")
    if not ((labels == 0) | (labels == 1)).all():
        raise ValueError("labels must contain only 0 and 1 (image-level class presence)")


def check_posterior(posterior: str) -> None:
    if posterior not in POSTERIORS:
        raise ValueError(f"posterior must be one of {POSTERIORS}, got {posterior!r}")
