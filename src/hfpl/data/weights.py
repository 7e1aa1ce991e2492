"""Random-init stand-ins for pretrained weight files, as a registry keyed by architecture.

:data:`ARCHITECTURES` maps an architecture name (what the file holds, e.g.
``resnet38-imagenet-mxnet``) to a writer of a file with that network's exact format and
state-dict keys; which method loads which file under which name is data in the method YAMLs
(``weights: {NAME: {smoke: <architecture>, ...}}``). The key/shape lists are written from the
upstream network definitions (read at the pinned commits, see docs/data.md), so smoke runs
exercise the real loading code paths (e.g. SEAM's MXNet ``.params`` conversion, torchvision's
ResNet loaders, DeiT's ``{'model': sd}``, deeplab-pytorch's converted COCO init). Values are
random (He-normal convs, unit BatchNorm, DeiT trunc-normal), never trained weights; each tensor
depends only on (seed, key).
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hfpl.data.mxnet import save_params
from hfpl.io import building_file


@dataclass(frozen=True)
class TensorSpec:
    """One state-dict entry: ``key``, ``shape`` and how to initialise it.

    init: "he" (normal, std sqrt(2 / fan_in)), "trunc02" (normal std 0.02 clipped at 2 std),
    "ones", "zeros", or a float constant.
    """

    key: str
    shape: tuple[int, ...]
    init: str | float


def _conv(key: str, out_ch: int, in_ch: int, k: int = 1, bias: bool = False) -> list[TensorSpec]:
    specs = [TensorSpec(f"{key}.weight", (out_ch, in_ch, k, k), "he")]
    return specs + [TensorSpec(f"{key}.bias", (out_ch,), "zeros")] if bias else specs


def _bn(key: str, ch: int) -> list[TensorSpec]:
    return [
        TensorSpec(f"{key}.weight", (ch,), "ones"),
        TensorSpec(f"{key}.bias", (ch,), "zeros"),
        TensorSpec(f"{key}.running_mean", (ch,), "zeros"),
        TensorSpec(f"{key}.running_var", (ch,), "ones"),
    ]


# ---- ResNet-38 (``resnet38d.Net``; the same trunk in SEAM, PMM, PSA and Spatial-BCE) ---------
# (name, in, mid, out, stride); blocks b6/b7 are bottlenecks (name, in, out)
_R38_BASIC = [
    ("b2", 64, 128, 128, 2), ("b2_1", 128, 128, 128, 1), ("b2_2", 128, 128, 128, 1),
    ("b3", 128, 256, 256, 2), ("b3_1", 256, 256, 256, 1), ("b3_2", 256, 256, 256, 1),
    ("b4", 256, 512, 512, 2), *[(f"b4_{i}", 512, 512, 512, 1) for i in range(1, 6)],
    ("b5", 512, 512, 1024, 1), ("b5_1", 1024, 512, 1024, 1), ("b5_2", 1024, 512, 1024, 1),
]  # fmt: skip
_R38_BOT = [("b6", 1024, 2048), ("b7", 2048, 4096)]


def resnet38_backbone() -> list[TensorSpec]:
    """The 4096-channel ResNet-38 trunk (``conv1a``, ``b2``..``b7``, ``bn7``)."""
    specs = _conv("conv1a", 64, 3, 3)
    for name, cin, mid, cout, stride in _R38_BASIC:
        specs += _bn(f"{name}.bn_branch2a", cin) + _conv(f"{name}.conv_branch2a", mid, cin, 3)
        specs += _bn(f"{name}.bn_branch2b1", mid) + _conv(f"{name}.conv_branch2b1", cout, mid, 3)
        if cin != cout or stride != 1:
            specs += _conv(f"{name}.conv_branch1", cout, cin)
    for name, cin, cout in _R38_BOT:
        specs += _bn(f"{name}.bn_branch2a", cin) + _conv(f"{name}.conv_branch2a", cout // 4, cin)
        specs += _bn(f"{name}.bn_branch2b1", cout // 4)
        specs += _conv(f"{name}.conv_branch2b1", cout // 2, cout // 4, 3)
        specs += _bn(f"{name}.bn_branch2b2", cout // 2)
        specs += _conv(f"{name}.conv_branch2b2", cout, cout // 2)
        specs += _conv(f"{name}.conv_branch1", cout, cin)
    return specs + _bn("bn7", 4096)


def resnet38_pcm_heads() -> list[TensorSpec]:
    """ResNet-38 + ``fc8`` (21) + the pixel-correlation heads ``f8_3``, ``f8_4``, ``f9``: SEAM's
    ``network/resnet38_SEAM.Net`` (PMM's ``resnet38_SEAM.pth`` is this state dict)."""
    return (
        resnet38_backbone()
        + _conv("fc8", 21, 4096)
        + _conv("f8_3", 64, 512)
        + _conv("f8_4", 128, 1024)
        + _conv("f9", 192, 192 + 3)
    )


def resnet38_cls20() -> list[TensorSpec]:
    """ResNet-38 trunk + ``fc8`` (20 classes): PSA's VOC classifier (``res38_cls.pth``)."""
    return resnet38_backbone() + _conv("fc8", 20, 4096)


def resnet38_spatial_threshold_heads() -> list[TensorSpec]:
    """ResNet-38 + 20 per-class ``fc_list`` heads, ``temperature``, the spatial ``threshold`` and
    ``mask_layer_downsample`` convs: Spatial-BCE's ``models/resnet38.ResNet38``
    (``voc12_init.pth``)."""
    heads = [s for i in range(20) for s in _conv(f"fc_list.{i}", 1, 128)]
    return (
        resnet38_backbone()
        + heads
        + [TensorSpec("temperature", (20,), math.log(10.0))]
        + _conv("threshold", 20, 4096)
        + _conv("mask_layer_downsample", 128, 4096)
    )


def torchvision_resnet(depth: int) -> list[TensorSpec]:
    """torchvision ResNet-50/101 as in the 2017 model-zoo files (no ``num_batches_tracked``)."""
    blocks = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth]
    specs = _conv("conv1", 64, 3, 7) + _bn("bn1", 64)
    inplanes = 64
    for layer, (n, planes) in enumerate(zip(blocks, [64, 128, 256, 512], strict=True), start=1):
        for j in range(n):
            key = f"layer{layer}.{j}"
            specs += _conv(f"{key}.conv1", planes, inplanes) + _bn(f"{key}.bn1", planes)
            specs += _conv(f"{key}.conv2", planes, planes, 3) + _bn(f"{key}.bn2", planes)
            specs += _conv(f"{key}.conv3", planes * 4, planes) + _bn(f"{key}.bn3", planes * 4)
            if j == 0:
                specs += _conv(f"{key}.downsample.0", planes * 4, inplanes)
                specs += _bn(f"{key}.downsample.1", planes * 4)
            inplanes = planes * 4
    return specs + [
        TensorSpec("fc.weight", (1000, 2048), "he"),
        TensorSpec("fc.bias", (1000,), "zeros"),
    ]


def deit_small() -> list[TensorSpec]:
    """timm ``deit_small_patch16_224`` (dim 384, 12 blocks, 6 heads, MLP 1536, 1000 classes)."""
    dim, hidden = 384, 1536

    def linear(key: str, out_f: int, in_f: int) -> list[TensorSpec]:
        return [
            TensorSpec(f"{key}.weight", (out_f, in_f), "trunc02"),
            TensorSpec(f"{key}.bias", (out_f,), "zeros"),
        ]

    def norm(key: str) -> list[TensorSpec]:
        return [
            TensorSpec(f"{key}.weight", (dim,), "ones"),
            TensorSpec(f"{key}.bias", (dim,), "zeros"),
        ]

    specs = [
        TensorSpec("cls_token", (1, 1, dim), "trunc02"),
        TensorSpec("pos_embed", (1, 197, dim), "trunc02"),
        TensorSpec("patch_embed.proj.weight", (dim, 3, 16, 16), "trunc02"),
        TensorSpec("patch_embed.proj.bias", (dim,), "zeros"),
    ]
    for i in range(12):
        b = f"blocks.{i}"
        specs += norm(f"{b}.norm1") + linear(f"{b}.attn.qkv", 3 * dim, dim)
        specs += linear(f"{b}.attn.proj", dim, dim) + norm(f"{b}.norm2")
        specs += linear(f"{b}.mlp.fc1", hidden, dim) + linear(f"{b}.mlp.fc2", dim, hidden)
    return specs + norm("norm") + linear("head", 1000, dim)


def deeplab_v1_resnet101_coco() -> list[TensorSpec]:
    """deeplab-pytorch ``DeepLabV1_ResNet101`` as ``convert.py --dataset coco`` writes it
    (caffe names translated; BN without ``num_batches_tracked``; ``fc`` has 91 classes)."""

    def conv_bn(key: str, out_ch: int, in_ch: int, k: int) -> list[TensorSpec]:
        return _conv(f"{key}.conv", out_ch, in_ch, k) + _bn(f"{key}.bn", out_ch)

    specs = conv_bn("layer1.conv1", 64, 3, 7)
    in_ch = 64
    for layer, (n, out_ch) in enumerate(zip([3, 4, 23, 3], [256, 512, 1024, 2048], strict=True), 2):
        for j in range(1, n + 1):
            key, mid = f"layer{layer}.block{j}", out_ch // 4
            specs += conv_bn(f"{key}.reduce", mid, in_ch if j == 1 else out_ch, 1)
            specs += conv_bn(f"{key}.conv3x3", mid, mid, 3)
            specs += conv_bn(f"{key}.increase", out_ch, mid, 1)
            if j == 1:
                specs += conv_bn(f"{key}.shortcut", out_ch, in_ch, 1)
        in_ch = out_ch
    return specs + _conv("fc", 91, 2048, 1, bias=True)


# ---- MXNet naming of the ImageNet ResNet-38 (ademxapp ``ilsvrc-cls_rna-a1_cls1000_ep-0001``) --
_BN_MX = {"weight": "arg:{}_gamma", "bias": "arg:{}_beta",
          "running_mean": "aux:{}_moving_mean", "running_var": "aux:{}_moving_var"}  # fmt: skip
_MX_BN = {
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_var": "running_var",
}
_BLOCK_RE = re.compile(r"^b(\d)(?:_(\d+))?$")
_MX_RE = re.compile(
    r"^(?:arg|aux):(res|bn)(\d)(a|b\d+)_(branch\w+?)_(weight|gamma|beta|moving_mean|moving_var)$"
)


def mxnet_name(key: str) -> str:
    """Torch key of the ResNet-38 trunk -> MXNet parameter name (e.g. ``b4_1.bn_branch2a.weight``
    -> ``arg:bn4b1_branch2a_gamma``, ``bn7.running_var`` -> ``aux:bn7_moving_var``)."""
    if key == "conv1a.weight":
        return "arg:conv1a_weight"
    if key.startswith("bn7."):
        return _BN_MX[key.split(".")[1]].format("bn7")
    module, layer, param = key.split(".")
    stage, sub = _BLOCK_RE.fullmatch(module).groups()
    block = f"{stage}{'a' if sub is None else 'b' + sub}"
    kind, branch = layer.split("_", 1)
    if kind == "conv":
        return f"arg:res{block}_{branch}_weight"
    return _BN_MX[param].format(f"bn{block}_{branch}")


def resnet38_mxnet_arrays(
    arrays: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Rename a ResNet-38 trunk state dict to MXNet names and add the ImageNet classifier
    ``linear1000`` (dropped again by every converter), as in the released ``.params``."""
    out = {mxnet_name(k): v for k, v in arrays.items()}
    out["arg:linear1000_weight"] = (rng.standard_normal((1000, 4096), np.float32) * 0.01).astype(
        np.float32
    )
    out["arg:linear1000_bias"] = np.zeros(1000, np.float32)
    return out


def resnet38_from_mxnet(params: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """MXNet ResNet-38 ``.params`` arrays -> the trunk's torch state dict (SEAM's key names).

    ``linear1000`` (the ImageNet classifier) is dropped; an unknown name raises ValueError.
    """
    out: dict[str, torch.Tensor] = {}
    for name, arr in params.items():
        bare = name.split(":", 1)[-1]
        if bare.startswith("linear1000_"):
            continue
        if bare == "conv1a_weight":
            key = "conv1a.weight"
        elif bare.startswith("bn7_"):
            key = "bn7." + _MX_BN[bare[len("bn7_") :]]
        else:
            m = _MX_RE.fullmatch(name if ":" in name else "arg:" + name)
            if m is None:
                raise ValueError(f"unexpected ResNet-38 MXNet parameter {name!r}")
            kind, stage, block, branch, param = m.groups()
            module = f"b{stage}" if block == "a" else f"b{stage}_{block[1:]}"
            layer = f"{'conv' if kind == 'res' else 'bn'}_{branch}"
            key = f"{module}.{layer}.{'weight' if kind == 'res' else _MX_BN[param]}"
        out[key] = torch.from_numpy(np.array(arr, np.float32, copy=True))
    return out


# ---- materialising and writing -------------------------------------------------------------
def materialise(specs: Iterable[TensorSpec], seed: int = 0) -> dict[str, np.ndarray]:
    """Random values for ``specs``, float32; each tensor's values depend only on (seed, key)."""
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        rng = np.random.default_rng([seed, zlib.crc32(spec.key.encode())])
        if spec.init == "he":
            fan_in = int(np.prod(spec.shape[1:]))
            arr = rng.standard_normal(spec.shape, np.float32) * np.float32(math.sqrt(2.0 / fan_in))
        elif spec.init == "trunc02":
            arr = np.clip(rng.standard_normal(spec.shape, np.float32), -2, 2) * np.float32(0.02)
        elif spec.init == "ones":
            arr = np.ones(spec.shape, np.float32)
        elif spec.init == "zeros":
            arr = np.zeros(spec.shape, np.float32)
        else:
            arr = np.full(spec.shape, float(spec.init), np.float32)
        out[spec.key] = arr
    return out


def _torch_sd(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in arrays.items()}


def _save_torch(obj: object, path: Path) -> None:
    # torch's zip names its records after the file (up to the last dot): the temp name
    # ``.<name>.tmp-<pid>`` gives ``.<name>``, so the bytes depend only on the final name
    with building_file(path) as tmp:
        torch.save(obj, tmp)


def _writer(
    specs: Callable[[], list[TensorSpec]], wrap: str | None = None
) -> Callable[[Path, int], None]:
    def write(path: Path, seed: int) -> None:
        sd = _torch_sd(materialise(specs(), seed))
        _save_torch({wrap: sd} if wrap else sd, path)

    return write


def _write_resnet38_params(path: Path, seed: int) -> None:
    arrays = materialise(resnet38_backbone(), seed)
    save_params(path, resnet38_mxnet_arrays(arrays, np.random.default_rng(seed)))


@dataclass(frozen=True)
class Architecture:
    """One stand-in: ``specs()`` lists its tensors, ``write(path, seed)`` writes the file;
    ``layout`` says what the file holds (``hfpl data info``)."""

    name: str
    specs: Callable[[], list[TensorSpec]]
    write: Callable[[Path, int], None]
    layout: str


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in [
        Architecture(
            "resnet38-imagenet-mxnet", resnet38_backbone, _write_resnet38_params,
            "MXNet NDArray list (V2), ResNet-38 trunk with arg:/aux: names + linear1000",
        ),
        Architecture(
            "torchvision-resnet50", lambda: torchvision_resnet(50),
            _writer(lambda: torchvision_resnet(50)),
            "torchvision ResNet-50 state dict (no num_batches_tracked)",
        ),
        Architecture(
            "torchvision-resnet101", lambda: torchvision_resnet(101),
            _writer(lambda: torchvision_resnet(101)),
            "torchvision ResNet-101 state dict (no num_batches_tracked)",
        ),
        Architecture(
            "deit-small-patch16-224", deit_small, _writer(deit_small, wrap="model"),
            "{'model': timm DeiT-S/16 state dict}",
        ),
        Architecture(
            "deeplab-v1-resnet101-coco-init", deeplab_v1_resnet101_coco,
            _writer(deeplab_v1_resnet101_coco),
            "DeepLab-v1 ResNet-101, converted caffe names, fc 91 classes",
        ),
        Architecture(
            "resnet38-pcm-heads", resnet38_pcm_heads, _writer(resnet38_pcm_heads),
            "ResNet-38 + fc8 (21) + f8_3/f8_4/f9 state dict",
        ),
        Architecture(
            "resnet38-cls20", resnet38_cls20, _writer(resnet38_cls20),
            "ResNet-38 + fc8 (20) state dict",
        ),
        Architecture(
            "resnet38-spatial-threshold-heads", resnet38_spatial_threshold_heads,
            _writer(resnet38_spatial_threshold_heads),
            "ResNet-38 + fc_list (20) + temperature + threshold + mask_layer_downsample",
        ),
    ]
}  # fmt: skip
"""architecture -> :class:`Architecture`; a new one is one entry here plus its test."""


def write_smoke_weights(arch: str, path: str | os.PathLike, seed: int = 0) -> Path:
    """Write the random-init stand-in of architecture ``arch`` to ``path`` (atomically; parents
    created); same (arch, seed, file name) -> same bytes. ValueError listing the known
    architectures for an unknown one. Returns ``path``."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ARCHITECTURES[arch].write(path, seed)
    return path
