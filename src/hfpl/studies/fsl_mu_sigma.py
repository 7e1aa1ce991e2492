"""The μ/σ study of Sec. S.1 (Fig. 7): FSL alone optimised over hand-made Gaussian CAMs.

Per VOC class one training image with a single object (one foreground class, and one connected
component where the class has such an image; chosen with ``numpy.random.default_rng(seed)``
among the candidates in id order, as the paper "randomly samples one image per class"). Its
initial CAM is the Gaussian G of the GT mask's mean position and per-axis variance (diagonal
covariance), the logits are s = 2G - 1 (eq. 24), at 1/10 of the image resolution (``scale``,
the paper's "a tenth of the original image resolution", close to SEAM's 56 x 56 CAMs).

Ours to choose (the paper does not say): FSL's gating input is a = (tanh(s) + 1) / 2 (bounded,
monotone, with a gradient everywhere; a single channel, so no max-normalisation over classes),
optimised with Adam (lr 0.05) for 100 steps on s; the prediction is s > 0 upsampled (bilinear)
to the GT size; J, F and J&F (percent, :class:`hfpl.metrics.jf.JFAccumulator`, the GT's class
as foreground) over all chosen images, for every grid point.

Grid points are variant names (``config/tables.yaml`` figure ``fig7``): ``fsl_mu_<x>`` (μ = x,
σ = 5) and ``fsl_sigma_<x>`` (σ = x, μ = 2.5).

    python -m hfpl.studies.fsl_mu_sigma --root DATA_ROOT --out study.json [--smoke] \\
        fsl_mu_1.0 ... fsl_sigma_9
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

from hfpl.data.datasets import DATASETS
from hfpl.io import write_json_atomic
from hfpl.losses.fsl import fsl_loss
from hfpl.metrics.jf import JFAccumulator

DATASET = "voc"
NUM_CLASSES = 21
VOID = 255
MU, SIGMA = 2.5, 5.0  # the paper's choice: the fixed value of the other panel
STEPS, LR, SCALE = 100, 0.05, 0.1
EVALUATION = "fsl_gaussian"
METHOD = "gaussian_cams"
_POINT = re.compile(r"fsl_(mu|sigma)_(\d+(?:\.\d+)?)")


class StudyError(ValueError):
    """Bad input of the study; the message names the fix."""


def grid_point(variant: str) -> tuple[float, float]:
    """(μ, σ) of a variant name ``fsl_mu_<x>`` / ``fsl_sigma_<x>``."""
    match = _POINT.fullmatch(variant)
    if match is None:
        raise StudyError(f"grid point {variant!r}: expected fsl_mu_<x> or fsl_sigma_<x>")
    value = float(match[2])
    return (value, SIGMA) if match[1] == "mu" else (MU, value)


def choose_images(root: Path, seed: int) -> list[tuple[str, int]]:
    """(image id, class) per class with a single-object training image (see module doc)."""
    base = Path(root) / DATASETS[DATASET].base
    ids = sorted(DATASETS[DATASET].splits(root).get("train", []))
    single, any_single_class = {}, {}
    for image_id in ids:
        gt = np.asarray(Image.open(base / "SegmentationClass" / f"{image_id}.png"))
        classes = [c for c in np.unique(gt) if c not in (0, VOID)]
        if len(classes) != 1:
            continue
        c = int(classes[0])
        any_single_class.setdefault(c, []).append(image_id)
        if ndimage.label(gt == c, structure=np.ones((3, 3)))[1] == 1:
            single.setdefault(c, []).append(image_id)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in sorted(any_single_class):
        candidates = single.get(c) or any_single_class[c]
        chosen.append((candidates[int(rng.integers(len(candidates)))], c))
    return chosen  # empty when no train image has one class (tiny smoke sets)


def gaussian_logits(mask: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """s = 2G - 1 (1, 1, h, w) at ``shape`` from the mask's mean and per-axis variance."""
    ys, xs = np.nonzero(mask)
    scale_y, scale_x = shape[0] / mask.shape[0], shape[1] / mask.shape[1]
    my, mx = (ys.mean() + 0.5) * scale_y - 0.5, (xs.mean() + 0.5) * scale_x - 0.5
    vy = max(ys.var() * scale_y**2, 0.25)
    vx = max(xs.var() * scale_x**2, 0.25)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    g = np.exp(-((yy - my) ** 2) / (2 * vy) - ((xx - mx) ** 2) / (2 * vx))
    return torch.from_numpy(2 * g - 1).float()[None, None]


def optimise(image: torch.Tensor, logits: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    """FSL alone on the logits (Adam, :data:`STEPS` steps); the optimised logits."""
    s = logits.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([s], lr=LR)
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = fsl_loss(image, (torch.tanh(s) + 1) / 2, mu=mu, sigma=sigma)
        loss.backward()
        optimiser.step()
    return s.detach()


def run_study(root: Path, variants: list[str], seed: int = 0) -> list[dict[str, float]]:
    """One record ``{variant, seed, J, F, JF}`` (percent) per grid point; none when the train
    split has no single-object image."""
    points = {v: grid_point(v) for v in variants}
    base = Path(root) / DATASETS[DATASET].base
    images = []
    for image_id, c in choose_images(root, seed):
        gt = np.asarray(Image.open(base / "SegmentationClass" / f"{image_id}.png")).astype(np.int64)
        rgb = np.array(Image.open(base / "JPEGImages" / f"{image_id}.jpg").convert("RGB"))
        small = (max(2, round(gt.shape[0] * SCALE)), max(2, round(gt.shape[1] * SCALE)))
        image = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
        image = F.interpolate(image, size=small, mode="area").clamp(0, 1)
        images.append((gt, c, image, gaussian_logits(gt == c, small)))
    if not images:
        return []
    torch.manual_seed(seed)
    records = []
    for variant, (mu, sigma) in points.items():
        acc = JFAccumulator(NUM_CLASSES)
        for gt, c, image, logits in images:
            s = optimise(image, logits, mu, sigma)
            up = F.interpolate(s, size=gt.shape, mode="bilinear", align_corners=False)[0, 0]
            pred = np.where(up.numpy() > 0, c, 0).astype(np.int64)
            acc.update(pred, gt)
        result = acc.compute()
        records.append(
            {
                "variant": variant,
                "seed": seed,
                "J": 100 * result.j,
                "F": 100 * result.f,
                "JF": 100 * result.jf,
            }
        )
    return records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m hfpl.studies.fsl_mu_sigma",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--root", type=Path, required=True, help="VOC data root (hfpl-dataset.json)")
    p.add_argument("--out", type=Path, required=True, help="study metrics JSON")
    p.add_argument("--seed", type=int, default=0, help="which image per class (default 0)")
    p.add_argument("--smoke", action="store_true", help="the data root holds smoke data")
    p.add_argument("variants", nargs="+", help="grid points: fsl_mu_<x> | fsl_sigma_<x>")
    args = p.parse_args(argv)
    try:
        records = run_study(args.root, args.variants, args.seed)
    except (ValueError, OSError) as err:  # StudyError, or the dataset naming the fix
        print(f"fsl-mu-sigma: {err}", file=sys.stderr)
        return 2
    data = {
        "dataset": DATASET,
        "method": METHOD,
        "evaluation": EVALUATION,
        "smoke": args.smoke,
        "steps": STEPS,
        "lr": LR,
        "scale": SCALE,
        "records": records,
    }
    if not records:
        # a supplementary figure does not stop the run: its JSON says why it has no points
        data["skipped"] = (
            f"no train image with a single foreground class in {args.root}; real VOC train has "
            "hundreds, a smoke set needs more images"
        )
        write_json_atomic(args.out, data)
        print(f"fsl-mu-sigma: {data['skipped']}: Fig. 7 is not drawn")
        return 0
    write_json_atomic(args.out, data)
    best = max(records, key=lambda r: r["JF"])
    print(
        f"fsl-mu-sigma: {len(records)} grid points -> {args.out}; best J&F {best['JF']:.1f} "
        f"at {best['variant']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
