"""Random-init weight files with the exact names, formats and state-dict keys each method loads.

The key/shape lists are written from the upstream network definitions (read at the pinned
commits, see docs/data.md), so the smoke workflow exercises the real loading code paths:
SEAM's MXNet ``.params`` conversion, torchvision's ResNet loaders, DeiT's ``{'model': sd}``,
deeplab-pytorch's converted COCO init, Spatial-BCE's and PSA's ResNet-38 checkpoints.
Values are random (He-normal convs, unit BatchNorm), never trained weights.
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


# ---- ResNet-38 (resnet38d.Net of SEAM / PMM / PSA / Spatial-BCE, identical in all four) -----
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


def seam_net() -> list[TensorSpec]:
    """SEAM's ``network/resnet38_SEAM.Net`` (PMM's ``resnet38_SEAM.pth`` is this state dict)."""
    return (
        resnet38_backbone()
        + _conv("fc8", 21, 4096)
        + _conv("f8_3", 64, 512)
        + _conv("f8_4", 128, 1024)
        + _conv("f9", 192, 192 + 3)
    )


def psa_cls_net() -> list[TensorSpec]:
    """PSA's ResNet-38 VOC classifier (``res38_cls.pth``): trunk + ``fc8`` (20 classes)."""
    return resnet38_backbone() + _conv("fc8", 20, 4096)


def sbce_net() -> list[TensorSpec]:
    """Spatial-BCE's ``models/resnet38.ResNet38`` (``voc12_init.pth``)."""
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
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


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


SMOKE_WEIGHTS: dict[str, tuple[Callable[[Path, int], None], str]] = {
    "ilsvrc-cls_rna-a1_cls1000_ep-0001.params": (
        _write_resnet38_params,
        "SEAM, codebase (MXNet ResNet-38 ImageNet)",
    ),
    "resnet50-19c8e357.pth": (_writer(lambda: torchvision_resnet(50)), "SIPE, IRN (torchvision)"),
    "resnet101-63fe2227.pth": (
        _writer(lambda: torchvision_resnet(101)),
        "SIPE optional (torchvision)",
    ),
    "deit_small_patch16_224-cd65a155.pth": (
        _writer(deit_small, wrap="model"),
        "MCTformer ({'model': sd})",
    ),
    "deeplabv1_resnet101-coco.pth": (
        _writer(deeplab_v1_resnet101_coco),
        "deeplab-pytorch INIT_MODEL",
    ),
    "voc12_init.pth": (_writer(sbce_net), "Spatial-BCE --pretrain"),
    "res38_cls.pth": (_writer(psa_cls_net), "MCTformer PSA + seg init"),
    "resnet38_SEAM.pth": (_writer(seam_net), "PMM --weights"),
}
"""File name -> (writer(path, seed), who loads it). All random-init, for smoke runs only."""


def write_smoke_weights(
    out_dir: str | os.PathLike, seed: int = 0, names: Iterable[str] | None = None
) -> list[Path]:
    """Write random-init weight files into ``out_dir`` (all of SMOKE_WEIGHTS, or ``names``).

    Each file is written to a temp name and renamed. Returns the written paths.
    """
    names = list(SMOKE_WEIGHTS if names is None else names)
    unknown = sorted(set(names) - set(SMOKE_WEIGHTS))
    if unknown:
        raise ValueError(
            f"unknown smoke weight file(s) {unknown}; choose from {sorted(SMOKE_WEIGHTS)}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        SMOKE_WEIGHTS[name][0](out / name, seed)
        paths.append(out / name)
    return paths
