import argparse

import pytest
import torch

from hfpl.losses import addon, fsl_loss, gating, isl_loss


def _parse(*argv):
    return addon.AddOn.from_args(addon.add_arguments(argparse.ArgumentParser()).parse_args(argv))


def _batch(seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 4, 6, 6, generator=gen, requires_grad=True)
    labels = torch.tensor([[1.0, 0, 0, 1], [0, 1, 0, 0]])
    image = torch.rand(2, 3, 24, 24, generator=gen)
    return logits, labels, image


def test_defaults_leave_the_upstream_loss_unchanged():
    settings = _parse()
    logits, labels, image = _batch()
    gap = torch.tensor(0.7)
    assert not settings.isl_enabled and not settings.fsl_enabled
    assert settings.classification_loss(gap, logits, labels) is gap
    assert settings.feature_similarity_loss(image, settings.fsl_maps(logits, labels)) == 0


def test_flags_map_to_the_losses():
    settings = _parse(
        "--hfpl-isl-weight",
        "0.2",
        "--hfpl-isl-samples",
        "5",
        "--hfpl-fsl-weight",
        "0.5",
        "--hfpl-fsl-gating",
        "minmax",
    )
    logits, labels, image = _batch()
    gap = torch.tensor(0.7)
    got = settings.classification_loss(
        gap, logits, labels, generator=torch.Generator().manual_seed(1)
    )
    isl = isl_loss(logits, labels, num_samples=5, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(got, 0.8 * gap + 0.2 * isl)
    maps = settings.fsl_maps(logits, labels, background_complement=True)
    expected_maps = gating.with_background(gating.mask_absent(gating.minmax_norm(logits), labels))
    assert torch.equal(maps, expected_maps) and maps.shape == (2, 5, 6, 6)
    small = gating.resize_image(image, (6, 6))
    assert torch.allclose(
        settings.feature_similarity_loss(image, maps), 0.5 * fsl_loss(small, maps)
    )


@pytest.mark.parametrize(
    ("argv", "gap_factor", "isl_factor"),
    [
        (["--hfpl-isl-scale", "0.1"], 0.8, 0.02),  # x0.1 on lambda * ISL only
        (["--hfpl-cls-scale", "0.1"], 0.08, 0.02),  # x0.1 on the whole mixed loss
        (["--hfpl-isl-scale", "0.5", "--hfpl-cls-scale", "0.1"], 0.08, 0.01),
    ],
)
def test_scale_factors_worked_out_by_hand(argv, gap_factor, isl_factor):
    settings = _parse("--hfpl-isl-weight", "0.2", *argv)
    logits, labels, _ = _batch()
    gap = torch.tensor(0.7)
    got = settings.classification_loss(
        gap, logits, labels, generator=torch.Generator().manual_seed(3)
    )
    isl = isl_loss(logits, labels, num_samples=10, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(got, gap_factor * gap + isl_factor * isl)


def test_scale_factors_leave_the_loss_alone_without_isl():
    settings = _parse("--hfpl-isl-scale", "0.1", "--hfpl-cls-scale", "0.1")
    logits, labels, _ = _batch()
    gap = torch.tensor(0.7)
    assert settings.classification_loss(gap, logits, labels) is gap


def test_multinomial_maps_are_a_masked_posterior_and_upsampling_resizes_the_image():
    settings = _parse(
        "--hfpl-posterior", "multinomial", "--hfpl-fsl-weight", "1", "--hfpl-fsl-upsample", "2"
    )
    logits, labels, image = _batch()
    bg = torch.randn(2, 1, 6, 6)
    maps = settings.fsl_maps(logits, labels, bg_logits=bg)
    post = torch.softmax(torch.cat([bg, logits], 1), 1)
    assert torch.allclose(maps[:, 0], post[:, 0])
    assert torch.count_nonzero(maps[0, [2, 3]]) == 0  # classes 1, 2 absent from image 0
    loss = settings.feature_similarity_loss(image, maps)
    up = gating.upsample_maps(maps, 2)
    assert torch.allclose(loss, fsl_loss(gating.resize_image(image, (12, 12)), up))
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_resize_image_denormalises_and_clamps():
    mean, std = gating.IMAGENET_MEAN, gating.IMAGENET_STD
    rgb = torch.rand(1, 3, 8, 8)
    normalised = (rgb - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    back = gating.resize_image(normalised, (8, 8), mean=mean, std=std)
    assert torch.allclose(back, rgb, atol=1e-6)
    assert gating.resize_image(normalised, (4, 4)).min() >= 0


def test_normalisations():
    s = torch.tensor([[[[-1.0, 0.5], [2.0, 1.0]]]])
    assert torch.allclose(gating.max_norm(s), torch.tensor([[[[0, 0.25], [1, 0.5]]]]), atol=1e-5)
    assert torch.allclose(gating.minmax_norm(s), torch.tensor([[[[0, 0.25], [1, 0.5]]]]), atol=1e-5)
    assert torch.equal(gating.max_norm(torch.zeros(1, 1, 2, 2)), torch.zeros(1, 1, 2, 2))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hfpl-isl-weight", "1.5"], "isl-weight"),
        (["--hfpl-isl-samples", "0"], "isl-samples"),
        (["--hfpl-fsl-weight", "-1"], "fsl-weight"),
        (["--hfpl-isl-scale", "0"], "isl-scale"),
        (["--hfpl-cls-scale", "-0.1"], "cls-scale"),
    ],
)
def test_bad_flags_raise(argv, message):
    with pytest.raises(ValueError, match=message):
        _parse(*argv)


def test_bad_upsampling_factor_raises():
    with pytest.raises(ValueError, match="positive integer"):
        gating.upsample_maps(torch.rand(1, 1, 2, 2), 0)


def test_minmax_norm_is_seams_max_norm():
    scores = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    p = scores.relu()
    low = p.flatten(2).min(-1)[0][:, :, None, None]
    high = p.flatten(2).max(-1)[0][:, :, None, None]
    expected = (p - low - 1e-5).relu() / (high - low + 1e-5)  # SEAM tool/visualization.py
    assert torch.equal(gating.minmax_norm(scores), expected)
