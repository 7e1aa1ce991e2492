"""The paper's add-on losses: importance sampling (ISL) and feature similarity (FSL)."""

from hfpl.losses.fsl import fsl_loss
from hfpl.losses.isl import (
    binomial_posterior,
    gap_bce_loss,
    gap_isl_loss,
    isl_loss,
    isl_loss_at,
    multinomial_posterior,
    sample_pixel_indices,
)

__all__ = [
    "binomial_posterior",
    "fsl_loss",
    "gap_bce_loss",
    "gap_isl_loss",
    "isl_loss",
    "isl_loss_at",
    "multinomial_posterior",
    "sample_pixel_indices",
]
