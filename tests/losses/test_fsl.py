import math

import pytest
import torch
from loss_reference import all_pairs_fsl, seam_like_inputs

from hfpl.losses import fsl_loss
from hfpl.losses.gating import mask_absent, max_norm


def _random(b, k, h, w, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(b, 3, h, w, generator=gen, dtype=dtype)
    maps = torch.rand(b, k, h, w, generator=gen, dtype=dtype)
    return image, maps


def _value_and_grad(fn, image, maps):
    maps = maps.detach().clone().requires_grad_()
    value = fn(image, maps)
    value.backward()
    return value.detach(), maps.grad


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 4, 12, 10), (3, 2, 1, 6), (1, 2, 5, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exact_mode_matches_all_pairs(shape, dtype):
    image, maps = _random(*shape, dtype=dtype)
    fast, fast_grad = _value_and_grad(lambda x, a: fsl_loss(x, a, exact=True), image, maps)
    ref, ref_grad = _value_and_grad(all_pairs_fsl, image, maps)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    assert torch.allclose(fast, ref, rtol=tol, atol=tol)
    assert torch.allclose(
        fast_grad, ref_grad, rtol=1e-5 if dtype == torch.float32 else 1e-10, atol=tol
    )


def test_radius_covering_the_map_equals_exact():
    image, maps = _random(2, 3, 9, 8)
    covering = fsl_loss(image, maps, radius=math.hypot(8, 7))
    assert torch.allclose(covering, fsl_loss(image, maps, exact=True), rtol=0, atol=1e-12)
    # a radius short of the map does drop pairs
    assert not torch.allclose(fsl_loss(image, maps, radius=2.0), covering, rtol=1e-6)


def test_non_default_mu_sigma_match_all_pairs():
    image, maps = _random(2, 2, 8, 8, seed=3)
    fast = fsl_loss(image, maps, mu=1.0, sigma=2.0, exact=True)
    assert torch.allclose(fast, all_pairs_fsl(image, maps, mu=1.0, sigma=2.0), atol=1e-12)


def test_default_radius_is_within_1e3_of_all_pairs_on_seam_like_inputs():
    image, maps = seam_like_inputs(batch=2, classes=21, size=56)
    fast, fast_grad = _value_and_grad(fsl_loss, image.double(), maps.double())
    ref, ref_grad = _value_and_grad(all_pairs_fsl, image.double(), maps.double())
    assert abs(fast - ref) / abs(ref) < 1e-3
    assert (fast_grad - ref_grad).norm() / ref_grad.norm() < 1e-3


def test_gradcheck():
    image, maps = _random(1, 2, 4, 5)
    maps.requires_grad_()
    assert torch.autograd.gradcheck(lambda a: fsl_loss(image, a, exact=True), (maps,))
    assert torch.autograd.gradcheck(lambda a: fsl_loss(image, a, radius=2.5), (maps,))


def test_similar_colours_different_predictions_pull_together():
    image = torch.full((1, 3, 4, 4), 0.5, dtype=torch.float64)  # one flat colour
    maps = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    maps[..., :, 2:] = 1.0
    maps.requires_grad_()
    loss = fsl_loss(image, maps, exact=True)
    loss.backward()
    assert loss > 0
    # gradient descent raises the low side and lowers the high side
    assert (maps.grad[..., :, :2] < 0).all() and (maps.grad[..., :, 2:] > 0).all()
    stepped = (maps - 0.1 * maps.grad / maps.grad.abs().max()).detach()
    assert fsl_loss(image, stepped, exact=True) < loss


def test_colour_edge_gives_negative_contribution():
    image = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    image[..., :, 2:] = 1.0  # black | white edge
    maps = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    maps[..., :, 2:] = 1.0  # prediction edge on the colour edge
    maps.requires_grad_()
    loss = fsl_loss(image, maps, exact=True)
    loss.backward()
    assert loss < 0
    # descent sharpens the edge further (pushes the two sides apart)
    assert (maps.grad[..., :, :2] > 0).all() and (maps.grad[..., :, 2:] < 0).all()


def test_equal_predictions_have_zero_gradient():
    image, _ = _random(2, 1, 6, 6)
    maps = torch.full((2, 3, 6, 6), 0.7, dtype=torch.float64, requires_grad=True)
    loss = fsl_loss(image, maps)
    loss.backward()
    # zero up to float64 rounding of the expanded |a_i|² + |a_j|² - 2 a_i·a_j form
    assert abs(loss) < 1e-15 and maps.grad.abs().max() < 1e-15


def test_masked_absent_classes_get_no_gradient():
    image, _ = _random(1, 1, 8, 8)
    logits = torch.randn(1, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    fsl_loss(image, mask_absent(max_norm(logits), labels)).backward()
    assert torch.count_nonzero(logits.grad[:, [1, 3]]) == 0
    assert torch.count_nonzero(logits.grad[:, [0, 2]]) > 0


@pytest.mark.parametrize("shape", [(1, 2, 1, 1), (2, 2, 1, 7), (2, 2, 6, 1)])
def test_degenerate_inputs_are_finite(shape):
    b, k, h, w = shape
    zero_cams = max_norm(torch.zeros(b, k, h, w, requires_grad=True))
    for image in (torch.zeros(b, 3, h, w), torch.ones(b, 3, h, w)):
        loss = fsl_loss(image, zero_cams)
        (grad,) = torch.autograd.grad(loss, zero_cams, allow_unused=True)
        assert torch.isfinite(loss) and (grad is None or torch.isfinite(grad).all())
    image = torch.zeros(b, 3, h, w)
    image[..., ::2] = 1.0  # exact 0 and 1 neighbours: δ = 1
    maps = torch.rand(b, k, h, w, requires_grad=True)
    loss = fsl_loss(image, maps)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(maps.grad).all()


def test_all_zero_cams_zero_loss():
    image, _ = _random(1, 1, 6, 6)
    cams = max_norm(torch.zeros(1, 3, 6, 6, dtype=torch.float64))
    assert fsl_loss(image, cams) == 0


@pytest.mark.parametrize(
    ("image", "maps", "message"),
    [
        (torch.rand(2, 3, 4, 4), torch.rand(2, 2, 4, 5), "share B, H, W"),
        (torch.rand(2, 3, 4, 4), torch.rand(3, 2, 4, 4), "share B, H, W"),
        (torch.rand(2, 1, 4, 4), torch.rand(2, 2, 4, 4), "3 \\(RGB\\) channels"),
        (torch.rand(2, 3, 4, 4), torch.rand(2, 0, 4, 4), "at least one channel"),
        (torch.rand(2, 3, 4, 4), torch.full((2, 2, 4, 4), float("nan")), "NaN"),
        (torch.rand(2, 3, 4, 4), torch.full((2, 2, 4, 4), float("inf")), "NaN or Inf"),
        (torch.rand(2, 3, 4, 4) * 255, torch.rand(2, 2, 4, 4), "\\[0, 1\\]"),
        (torch.rand(2, 3, 4, 4) - 0.5, torch.rand(2, 2, 4, 4), "de-normalise"),
        (torch.rand(2, 3, 4, 4), torch.ones(2, 2, 4, 4, dtype=torch.long), "floating-point"),
        (torch.rand(3, 4, 4), torch.rand(2, 2, 4, 4), "shape \\(B, 3, H, W\\)"),
    ],
)
def test_bad_input_raises(image, maps, message):
    with pytest.raises(ValueError, match=message):
        fsl_loss(image, maps)


def test_rounding_outside_unit_range_is_accepted():
    image = torch.rand(1, 3, 4, 4)
    image[0, 0, 0, 0] = 1 + 1e-6
    image[0, 1, 0, 0] = -1e-6
    assert torch.isfinite(fsl_loss(image, torch.rand(1, 2, 4, 4)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    image, maps = seam_like_inputs(batch=2, size=32)
    cpu, cpu_grad = _value_and_grad(fsl_loss, image, maps)
    gpu, gpu_grad = _value_and_grad(fsl_loss, image.cuda(), maps.cuda())
    assert torch.allclose(gpu.cpu(), cpu, rtol=1e-4)
    assert torch.allclose(gpu_grad.cpu(), cpu_grad, rtol=1e-3, atol=1e-7)
