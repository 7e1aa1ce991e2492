"""The add-on as patched upstream training loops use it: one flag vocabulary, two loss calls.

A patch adds the flags with `add_arguments(parser)`, builds `AddOn.from_args(args)` once, and
in the training step replaces its classification loss with `addon.classification_loss(...)` and
adds `addon.feature_similarity_loss(image, addon.fsl_maps(...))`. With the default flags both
calls return the upstream loss unchanged, so a patched script behaves like upstream.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch

from hfpl.losses import gating
from hfpl.losses.fsl import fsl_loss
from hfpl.losses.isl import isl_loss, multinomial_posterior

GATINGS = ("maxnorm", "minmax", "binomial", "raw")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the common `--hfpl-*` flags (defaults = add-on off, paper values otherwise)."""
    group = parser.add_argument_group("hfpl add-on (ISL/FSL)")
    group.add_argument(
        "--hfpl-isl-weight",
        type=float,
        default=0.0,
        help="λ of (1-λ)·GAP loss + λ·ISL; 0 disables ISL (paper: 0.2)",
    )
    group.add_argument(
        "--hfpl-isl-samples",
        type=int,
        default=10,
        help="N pixels sampled per image and class (paper: 10)",
    )
    group.add_argument(
        "--hfpl-isl-scale",
        type=float,
        default=1.0,
        help="factor s on the ISL term only: (1-λ)·GAP + s·λ·ISL (SIPE, MCTformer: 0.1 "
        "under one reading of the paper's 'scaled by 0.1')",
    )
    group.add_argument(
        "--hfpl-cls-scale",
        type=float,
        default=1.0,
        help="factor c on the whole mixed loss when ISL is on: c·((1-λ)·GAP + s·λ·ISL) "
        "(the other reading of 'scaled by 0.1')",
    )
    group.add_argument(
        "--hfpl-fsl-weight",
        type=float,
        default=0.0,
        help="weight of FSL; 0 disables it (paper: 1, ×0.1 SIPE/MCTformer)",
    )
    group.add_argument(
        "--hfpl-posterior",
        choices=("binomial", "multinomial"),
        default="binomial",
        help="binomial (proposed) or multinomial (ablation)",
    )
    group.add_argument(
        "--hfpl-fsl-upsample",
        type=int,
        default=1,
        help="integer upsampling of the maps before FSL (SIPE 2, MCTformer 4)",
    )
    group.add_argument("--hfpl-fsl-mu", type=float, default=2.5, help="FSL μ")
    group.add_argument("--hfpl-fsl-sigma", type=float, default=5.0, help="FSL σ (map pixels)")
    group.add_argument(
        "--hfpl-fsl-gating",
        choices=GATINGS,
        default="maxnorm",
        help="FSL gating input: max-normalised CAM (paper), SEAM's min-max, "
        "sigmoid posterior, raw scores",
    )
    return parser


@dataclass(frozen=True)
class AddOn:
    """The add-on's settings; methods compute the loss terms for one training step."""

    isl_weight: float = 0.0
    isl_samples: int = 10
    isl_scale: float = 1.0
    cls_scale: float = 1.0
    fsl_weight: float = 0.0
    posterior: str = "binomial"
    fsl_upsample: int = 1
    fsl_mu: float = 2.5
    fsl_sigma: float = 5.0
    fsl_gating: str = "maxnorm"

    def __post_init__(self) -> None:
        if not 0.0 <= self.isl_weight <= 1.0:
            raise ValueError(f"--hfpl-isl-weight must be in [0, 1], got {self.isl_weight}")
        if self.isl_samples < 1:
            raise ValueError(f"--hfpl-isl-samples must be >= 1, got {self.isl_samples}")
        if self.isl_scale <= 0:
            raise ValueError(f"--hfpl-isl-scale must be > 0, got {self.isl_scale}")
        if self.cls_scale <= 0:
            raise ValueError(f"--hfpl-cls-scale must be > 0, got {self.cls_scale}")
        if self.fsl_weight < 0:
            raise ValueError(f"--hfpl-fsl-weight must be >= 0, got {self.fsl_weight}")
        if self.fsl_gating not in GATINGS:
            raise ValueError(f"--hfpl-fsl-gating must be one of {GATINGS}, got {self.fsl_gating}")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AddOn:
        return cls(**{name: getattr(args, f"hfpl_{name}") for name in cls.__dataclass_fields__})

    @property
    def isl_enabled(self) -> bool:
        return self.isl_weight > 0

    @property
    def fsl_enabled(self) -> bool:
        return self.fsl_weight > 0

    def classification_loss(
        self,
        gap_loss: torch.Tensor,
        fg_logits: torch.Tensor,
        labels: torch.Tensor,
        *,
        bg_logits: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """c·((1 - λ)·gap_loss + s·λ·ISL) (eq. 16 for c = s = 1), or `gap_loss` unchanged when
        λ = 0 (c = `--hfpl-cls-scale`, s = `--hfpl-isl-scale`).

        Args:
            gap_loss: the method's own GAP-based classification loss (scalar).
            fg_logits: (B, C, h, w) raw foreground class scores.
            labels: (B, C) image labels in {0, 1}.
            bg_logits: (B, 1, h, w) background scores, required for the multinomial posterior.
        """
        if not self.isl_enabled:
            return gap_loss
        isl = isl_loss(
            fg_logits,
            labels,
            num_samples=self.isl_samples,
            posterior=self.posterior,
            bg_logits=bg_logits,
            generator=generator,
        )
        mixed = (1 - self.isl_weight) * gap_loss + self.isl_scale * self.isl_weight * isl
        return self.cls_scale * mixed

    def fsl_maps(
        self,
        fg_logits: torch.Tensor,
        labels: torch.Tensor,
        *,
        bg_logits: torch.Tensor | None = None,
        background_complement: bool = False,
    ) -> torch.Tensor:
        """The FSL gating input from raw scores, absent classes masked.

        Binomial: the `--hfpl-fsl-gating` normalisation of `fg_logits` (B, C, h, w), masked by
        `labels` (B, C); with `background_complement` a channel 1 - max fg is prepended (SEAM).
        Multinomial: the softmax posterior over [bg_logits, fg_logits] (eq. 5), absent classes
        masked (the background channel is kept). Returns (B, C or C + 1, h, w).
        """
        if self.posterior == "multinomial":
            if bg_logits is None:
                raise ValueError("the multinomial posterior needs bg_logits (B, 1, h, w)")
            ones = labels.new_ones(labels.shape[0], 1)
            posterior = multinomial_posterior(fg_logits, bg_logits)
            return gating.mask_absent(posterior, torch.cat([ones, labels], dim=1))
        normalise = {
            "maxnorm": gating.max_norm,
            "minmax": gating.minmax_norm,
            "binomial": torch.sigmoid,
            "raw": lambda s: s,
        }[self.fsl_gating]
        maps = gating.mask_absent(normalise(fg_logits), labels)
        return gating.with_background(maps) if background_complement else maps

    def feature_similarity_loss(
        self,
        image: torch.Tensor,
        maps: torch.Tensor,
        *,
        mean: tuple[float, float, float] | None = None,
        std: tuple[float, float, float] | None = None,
    ) -> torch.Tensor:
        """weight · FSL(image, maps), or 0 when the weight is 0.

        Args:
            image: (B, 3, H0, W0) network input; de-normalised with mean/std when given.
            maps: (B, K, h, w) gating input (see `fsl_maps`); upsampled by `fsl_upsample`, and
                the image is resized to the upsampled size.
        """
        if not self.fsl_enabled:
            return maps.new_zeros(())
        maps = gating.upsample_maps(maps, self.fsl_upsample)
        small = gating.resize_image(image.to(maps.dtype), maps.shape[2:], mean=mean, std=std)
        return self.fsl_weight * fsl_loss(small, maps, mu=self.fsl_mu, sigma=self.fsl_sigma)
