"""Random-init weight files: names, key sets, formats, determinism, MXNet conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hfpl.data import weights as W
from hfpl.data.mxnet import load_params


def _resnet38_keys_by_hand() -> set[str]:
    """The ResNet-38 trunk keys written out independently from resnet38d.Net's definition."""
    keys = {"conv1a.weight"}
    bn = ("weight", "bias", "running_mean", "running_var")
    blocks = ["b2", "b2_1", "b2_2", "b3", "b3_1", "b3_2", "b4"] + [f"b4_{i}" for i in range(1, 6)]
    blocks += ["b5", "b5_1", "b5_2"]
    for b in blocks:
        keys |= {f"{b}.bn_branch2a.{p}" for p in bn} | {f"{b}.bn_branch2b1.{p}" for p in bn}
        keys |= {f"{b}.conv_branch2a.weight", f"{b}.conv_branch2b1.weight"}
    keys |= {f"{b}.conv_branch1.weight" for b in ["b2", "b3", "b4", "b5", "b6", "b7"]}
    for b in ["b6", "b7"]:
        for layer in ["bn_branch2a", "bn_branch2b1", "bn_branch2b2"]:
            keys |= {f"{b}.{layer}.{p}" for p in bn}
        keys |= {
            f"{b}.conv_branch2a.weight",
            f"{b}.conv_branch2b1.weight",
            f"{b}.conv_branch2b2.weight",
        }
    return keys | {f"bn7.{p}" for p in bn}


def test_resnet38_trunk_keys_and_size():
    specs = W.resnet38_backbone()
    assert {s.key for s in specs} == _resnet38_keys_by_hand()
    shapes = {s.key: s.shape for s in specs}
    assert shapes["b7.conv_branch2b2.weight"] == (4096, 2048, 1, 1)
    assert shapes["b5.conv_branch2a.weight"] == (512, 512, 3, 3)
    assert 104e6 < sum(int(np.prod(s.shape)) for s in specs) < 106e6  # ResNet-38: ~105 M


@pytest.mark.parametrize(("depth", "params"), [(50, 25_557_032), (101, 44_549_160)])
def test_torchvision_resnet_parameter_counts(depth, params):
    # torchvision's published parameter counts (BN running stats excluded)
    specs = W.torchvision_resnet(depth)
    n = sum(int(np.prod(s.shape)) for s in specs if "running" not in s.key)
    assert n == params


def test_deit_small_parameter_count():
    assert sum(int(np.prod(s.shape)) for s in W.deit_small()) == 22_050_664  # timm's DeiT-S


def test_mxnet_roundtrip_through_seam_names(tmp_path):
    path = W.write_smoke_weights(
        tmp_path, seed=3, names=["ilsvrc-cls_rna-a1_cls1000_ep-0001.params"]
    )[0]
    params = load_params(path)
    assert "arg:bn4b1_branch2a_gamma" in params and "aux:bn7_moving_mean" in params
    assert params["arg:linear1000_weight"].shape == (1000, 4096)
    sd = W.resnet38_from_mxnet(params)
    ref = W.materialise(W.resnet38_backbone(), seed=3)
    assert set(sd) == set(ref)
    assert all(np.array_equal(sd[k].numpy(), v) for k, v in ref.items())


def test_mxnet_names_follow_the_resnet38_scheme():
    assert W.mxnet_name("b4_1.bn_branch2a.weight") == "arg:bn4b1_branch2a_gamma"
    assert W.mxnet_name("b2.conv_branch1.weight") == "arg:res2a_branch1_weight"
    assert W.mxnet_name("b6.bn_branch2b2.running_var") == "aux:bn6a_branch2b2_moving_var"
    with pytest.raises(ValueError, match="unexpected ResNet-38"):
        W.resnet38_from_mxnet({"arg:fc9_weight": np.zeros(1, np.float32)})


def test_small_files_load_with_expected_wrapping(tmp_path):
    W.write_smoke_weights(tmp_path, seed=0, names=["deit_small_patch16_224-cd65a155.pth"])
    ckpt = torch.load(tmp_path / "deit_small_patch16_224-cd65a155.pth", weights_only=True)
    assert list(ckpt) == ["model"] and ckpt["model"]["pos_embed"].shape == (1, 197, 384)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_materialise_is_deterministic_and_sane():
    specs = W.torchvision_resnet(50)[:12]
    a, b, c = W.materialise(specs, 0), W.materialise(specs, 0), W.materialise(specs, 1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["conv1.weight"], c["conv1.weight"])
    assert np.all(a["bn1.running_var"] == 1) and np.all(a["bn1.bias"] == 0)
    assert abs(a["conv1.weight"].std() - np.sqrt(2 / 147)) < 0.01


def test_unknown_weight_name_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown smoke weight"):
        W.write_smoke_weights(tmp_path, names=["nope.pth"])
