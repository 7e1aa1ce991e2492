import pytest
import torch
import torch.nn.functional as F
from loss_reference import isl_expectation

from hfpl.losses import (
    gap_bce_loss,
    gap_isl_loss,
    isl_loss,
    isl_loss_at,
    multinomial_posterior,
    sample_pixel_indices,
)


def _inputs(b=2, c=3, h=5, w=4, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, c, h, w, generator=gen, dtype=dtype)
    labels = (torch.rand(b, c, generator=gen) > 0.5).to(dtype)
    bg = torch.randn(b, 1, h, w, generator=gen, dtype=dtype)
    return logits, labels, bg


@pytest.mark.parametrize("posterior", ["binomial", "multinomial"])
def test_gradcheck_with_fixed_samples(posterior):
    logits, labels, bg = _inputs()
    idx = sample_pixel_indices(
        torch.rand(2, 3, 5, 4), 6, generator=torch.Generator().manual_seed(1)
    )
    logits.requires_grad_()
    bg.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda s, b: isl_loss_at(s, labels, idx, posterior=posterior, bg_logits=b), (logits, bg)
    )


def test_binomial_at_samples_is_bce_of_sigmoid():
    logits, labels, _ = _inputs()
    idx = torch.randint(0, 20, (2, 3, 7))
    b, c, h, w = logits.shape
    picked = torch.stack(
        [torch.stack([logits[i, k].flatten()[idx[i, k]] for k in range(c)]) for i in range(b)]
    )
    expected = F.binary_cross_entropy(torch.sigmoid(picked), labels[:, :, None].expand_as(picked))
    assert torch.allclose(isl_loss_at(logits, labels, idx), expected)


def test_multinomial_at_samples_is_bce_of_softmax():
    logits, labels, bg = _inputs()
    idx = torch.randint(0, 20, (2, 3, 7))
    post = torch.softmax(torch.cat([bg, logits], 1), 1).flatten(2)  # (B, C+1, HW)
    total, count = 0.0, 0
    for i in range(2):
        for k in range(3):
            for n in range(7):
                a = post[i, k + 1, idx[i, k, n]]
                y = labels[i, k]
                total += -(y * torch.log(a) + (1 - y) * torch.log(1 - a))
                count += 1
    got = isl_loss_at(logits, labels, idx, posterior="multinomial", bg_logits=bg)
    assert torch.allclose(got, total / count)


def test_seeded_generator_reproduces_and_seeds_differ():
    logits, labels, _ = _inputs()
    draw = lambda seed: isl_loss(logits, labels, generator=torch.Generator().manual_seed(seed))  # noqa: E731
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_many_samples_approach_the_importance_weighted_expectation():
    logits, labels, _ = _inputs(b=2, c=3, h=6, w=6, seed=5)
    value = isl_loss(
        logits, labels, num_samples=200_000, generator=torch.Generator().manual_seed(0)
    )
    expected = isl_expectation(logits, labels)
    assert abs(value - expected) / expected < 5e-3
    # and few samples are far noisier than that on average
    few = [
        isl_loss(logits, labels, num_samples=1, generator=torch.Generator().manual_seed(s))
        for s in range(20)
    ]
    assert torch.stack(few).std() > 10 * abs(value - expected)


def test_sampling_follows_the_posterior_plus_eps():
    probs = torch.zeros(1, 2, 2, 2)
    probs[0, 0, 0, 1] = 1.0  # class 0: all mass on pixel 1; class 1: all-zero map
    idx = sample_pixel_indices(probs, 4000, generator=torch.Generator().manual_seed(0))
    assert (idx[0, 0] == 1).float().mean() > 0.999
    counts = torch.bincount(idx[0, 1], minlength=4).double() / 4000  # eps only: uniform
    assert torch.allclose(counts, torch.full((4,), 0.25, dtype=torch.float64), atol=0.03)


def test_multinomial_posterior_sums_to_one():
    logits, _, bg = _inputs()
    post = multinomial_posterior(logits, bg)
    assert post.shape == (2, 4, 5, 4)
    assert torch.allclose(post.sum(1), torch.ones(2, 5, 4, dtype=torch.float64))


def test_gap_isl_combination():
    logits, labels, _ = _inputs()
    gen = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    gap = gap_bce_loss(logits, labels)
    assert torch.allclose(gap, F.binary_cross_entropy_with_logits(logits.mean((2, 3)), labels))
    assert gap_isl_loss(logits, labels, isl_weight=0.0) == gap
    isl = isl_loss(logits, labels, generator=gen())
    assert torch.allclose(gap_isl_loss(logits, labels, isl_weight=1.0, generator=gen()), isl)
    mixed = gap_isl_loss(logits, labels, isl_weight=0.2, generator=gen())
    assert torch.allclose(mixed, 0.8 * gap + 0.2 * isl)


def test_large_logits_stay_finite():
    logits = torch.full((1, 2, 3, 3), 80.0, requires_grad=True)
    labels = torch.tensor([[0.0, 1.0]])
    loss = isl_loss(logits, labels)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    bg = torch.full((1, 1, 3, 3), -80.0)
    assert torch.isfinite(isl_loss(logits, labels, posterior="multinomial", bg_logits=bg))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": torch.ones(2, 4)}, "labels must have shape"),
        ({"labels": torch.full((2, 3), 0.5)}, "only 0 and 1"),
        ({"logits": torch.randn(2, 3, 5)}, "shape \\(B, C, H, W\\)"),
        ({"logits": torch.randn(2, 0, 5, 4), "labels": torch.ones(2, 0)}, "at least one class"),
        ({"logits": torch.full((2, 3, 5, 4), float("nan"))}, "NaN"),
        ({"posterior": "softmax"}, "posterior must be one of"),
        ({"posterior": "multinomial"}, "needs bg_logits"),
        ({"posterior": "multinomial", "bg_logits": torch.randn(2, 2, 5, 4)}, "bg_logits must"),
        ({"num_samples": 0}, "num_samples must be >= 1"),
        ({"logits": torch.ones(2, 3, 5, 4, dtype=torch.long)}, "floating-point"),
    ],
)
def test_bad_input_raises(kwargs, message):
    logits, labels, _ = _inputs(dtype=torch.float32)
    args = {"logits": logits, "labels": labels} | kwargs
    with pytest.raises(ValueError, match=message):
        isl_loss(args.pop("logits"), args.pop("labels"), **args)


def test_isl_weight_outside_unit_interval_raises():
    logits, labels, _ = _inputs()
    with pytest.raises(ValueError, match="isl_weight"):
        gap_isl_loss(logits, labels, isl_weight=1.5)
