"""Random-init stand-ins: one test per architecture (file layout, keys, wrapping), key sets
written out by hand, determinism, the MXNet conversion."""

from __future__ import annotations

import math

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


def test_mxnet_roundtrip_through_resnet38_names(tmp_path):
    path = W.write_smoke_weights("resnet38-imagenet-mxnet", tmp_path / "r38.params", seed=3)
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


def test_materialise_is_deterministic_and_sane():
    specs = W.torchvision_resnet(50)[:12]
    a, b, c = W.materialise(specs, 0), W.materialise(specs, 0), W.materialise(specs, 1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["conv1.weight"], c["conv1.weight"])
    assert np.all(a["bn1.running_var"] == 1) and np.all(a["bn1.bias"] == 0)
    assert abs(a["conv1.weight"].std() - np.sqrt(2 / 147)) < 0.01


def test_unknown_architecture_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown architecture 'vgg16'; known: resnet38-imagenet"):
        W.write_smoke_weights("vgg16", tmp_path / "w.pth")
    assert list(tmp_path.iterdir()) == []


def test_registry_holds_exactly_the_tested_architectures():
    assert sorted(W.ARCHITECTURES) == sorted(FILE_LAYOUT)  # a new one needs its test here


def _head_shapes(arch: str) -> dict[str, tuple[int, ...]]:
    trunk = {s.key for s in W.resnet38_backbone()}
    return {s.key: s.shape for s in W.ARCHITECTURES[arch].specs() if s.key not in trunk}


def test_resnet38_head_architectures_by_hand():
    assert _head_shapes("resnet38-imagenet-mxnet") == {}
    assert _head_shapes("resnet38-cls20") == {"fc8.weight": (20, 4096, 1, 1)}
    assert _head_shapes("resnet38-pcm-heads") == {
        "fc8.weight": (21, 4096, 1, 1), "f8_3.weight": (64, 512, 1, 1),
        "f8_4.weight": (128, 1024, 1, 1), "f9.weight": (192, 195, 1, 1),
    }  # fmt: skip
    heads = _head_shapes("resnet38-spatial-threshold-heads")
    assert heads == {
        **{f"fc_list.{i}.weight": (1, 128, 1, 1) for i in range(20)},
        "temperature": (20,), "threshold.weight": (20, 4096, 1, 1),
        "mask_layer_downsample.weight": (128, 4096, 1, 1),
    }  # fmt: skip
    temp = W.materialise([s for s in W.resnet38_spatial_threshold_heads()
                          if s.key == "temperature"])["temperature"]  # fmt: skip
    assert np.allclose(temp, math.log(10.0))


def test_deeplab_coco_init_by_hand():
    shapes = {s.key: s.shape for s in W.deeplab_v1_resnet101_coco()}
    assert shapes["layer1.conv1.conv.weight"] == (64, 3, 7, 7)
    assert shapes["layer5.block3.increase.bn.running_var"] == (2048,)
    assert (shapes["fc.weight"], shapes["fc.bias"]) == ((91, 2048, 1, 1), (91,))
    assert {k.split(".")[1] for k in shapes if k.startswith("layer4.")} == {
        f"block{j}" for j in range(1, 24)
    }
    assert not [k for k in shapes if "num_batches_tracked" in k]


# architecture -> how its file is laid out: MXNet list, plain state dict, or {'model': sd}
FILE_LAYOUT = {
    "resnet38-imagenet-mxnet": "mxnet",
    "torchvision-resnet50": "sd",
    "torchvision-resnet101": "sd",
    "deit-small-patch16-224": "model",
    "deeplab-v1-resnet101-coco-init": "sd",
    "resnet38-pcm-heads": "sd",
    "resnet38-cls20": "sd",
    "resnet38-spatial-threshold-heads": "sd",
}


@pytest.mark.parametrize("arch", sorted(FILE_LAYOUT))
def test_each_architecture_writes_its_file_layout(arch, tmp_path, monkeypatch):
    # tiny values (the real ResNet-38 files are ~420 MB); keys, names and wrapping are real
    monkeypatch.setattr(W, "materialise", lambda specs, seed=0: {
        s.key: np.full((1,), seed, np.float32) for s in specs})  # fmt: skip
    path = W.write_smoke_weights(arch, tmp_path / "sub" / "w.bin", seed=2)
    assert sorted(p.name for p in path.parent.iterdir()) == ["w.bin"]  # atomic, parents made
    keys = {s.key for s in W.ARCHITECTURES[arch].specs()}
    if FILE_LAYOUT[arch] == "mxnet":
        params = load_params(path)
        assert set(params) == {W.mxnet_name(k) for k in keys} | {
            "arg:linear1000_weight", "arg:linear1000_bias"}  # fmt: skip
        assert set(W.resnet38_from_mxnet(params)) == keys
        return
    ckpt = torch.load(path, weights_only=True)
    if FILE_LAYOUT[arch] == "model":
        assert list(ckpt) == ["model"]
    sd = ckpt["model"] if FILE_LAYOUT[arch] == "model" else ckpt
    assert set(sd) == keys and all(float(v[0]) == 2 for v in sd.values())


def test_bytes_depend_on_seed_and_file_name_only(tmp_path):
    arch = "deit-small-patch16-224"
    a = W.write_smoke_weights(arch, tmp_path / "a" / "deit.pth", seed=0).read_bytes()
    b = W.write_smoke_weights(arch, tmp_path / "b" / "deit.pth", seed=0).read_bytes()
    c = W.write_smoke_weights(arch, tmp_path / "c" / "deit.pth", seed=1).read_bytes()
    assert a == b != c
    ckpt = torch.load(tmp_path / "a" / "deit.pth", weights_only=True)
    assert ckpt["model"]["pos_embed"].shape == (1, 197, 384)
