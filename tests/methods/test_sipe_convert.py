"""deeplab-pytorch's ``convert.py --dataset coco`` (patched) on a synthetic caffemodel.

The R101 rows start from the COCO-pretrained DeepLab caffemodel (``init.caffemodel``, manual
download) converted by the patched ``convert.py``. This test builds a caffemodel with the real
file's layer names, types and conv/pool/BN hyper-parameters (ResNet-101 + ``fc1_coco``, 91
classes) and random float32 blobs, converts it, and checks that the ``.pth`` holds exactly those
values under deeplab-pytorch's names, that it loads into ``DeepLabV2_ResNet101_MSC`` the way
``main.py train`` loads ``MODEL.INIT_MODEL`` (``base``, strict=False: only the ASPP missing, only
the COCO ``fc`` unexpected), and that its keys and shapes are those of the smoke stand-in
(``hfpl data smoke-weights --arch deeplab-v1-resnet101-coco-init``) up to the BN counters.

Marker ``upstream`` (~2 min, ~3 GB RAM): needs ``HFPL_UPSTREAM_DIR`` (``<owner>+<name>/repo``
git copies) and ``HFPL_UPSTREAM_PYTHON`` (torch, protobuf, grpcio-tools, click, addict, hfpl).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "4219467fa5de07985f834f1bd8c04c186dc8f6d8"

# Runs in the upstream interpreter from the patched checkout: argv = checkout, work dir.
BUILD_AND_CHECK = r'''
import subprocess, sys
from pathlib import Path

import numpy as np
import torch

checkout, work = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(checkout))
import convert  # regenerates caffe_pb2 from libs/caffe.proto (patch 0001)
from libs.models import DeepLabV1_ResNet101, DeepLabV2_ResNet101_MSC

pb = convert.caffe_pb2
model = DeepLabV1_ResNet101(n_classes=91)
rng = np.random.default_rng(0)
net, expected, scale = pb.NetParameter(), {}, 2.0  # BN blobs hold mean/var x scale (Caffe)


def caffe_block(key):
    """layerS.blockJ.branch -> ('S' + 'a' | 'b' | 'bN', branch suffix) as in ResNet-101."""
    layer, block, branch = key.split(".")
    s, j = int(layer[5:]), int(block[5:])
    name = "a" if j == 1 else ("bc"[j - 2] if s in (2, 5) else f"b{j - 1}")
    suffix = {"shortcut": "1", "reduce": "2a", "conv3x3": "2b", "increase": "2c"}[branch]
    return f"{s}{name}", suffix


def blob(layer, values):
    b = layer.blobs.add()
    b.data.extend(values.ravel().tolist())


for key, module in model.named_modules():
    if isinstance(module, torch.nn.Conv2d):
        if key == "layer1.conv1.conv":
            name = "conv1"
        elif key == "fc":
            name = "fc1_coco"
        else:
            block, suffix = caffe_block(key[: -len(".conv")])
            name = f"res{block}_branch{suffix}"
        layer = net.layer.add(name=name, type="Convolution")
        p = layer.convolution_param
        p.kernel_size.append(module.kernel_size[0])
        p.stride.append(module.stride[0])
        p.pad.append(module.padding[0])
        p.dilation.append(module.dilation[0])
        w = rng.standard_normal(module.weight.shape, dtype=np.float32)
        blob(layer, w)
        expected[f"{key}.weight"] = w
        if module.bias is not None:
            b = rng.standard_normal(module.bias.shape, dtype=np.float32)
            blob(layer, b)
            expected[f"{key}.bias"] = b
    elif isinstance(module, torch.nn.BatchNorm2d):
        base = key[: -len(".bn")]
        if base == "layer1.conv1":
            bn, sc = "bn_conv1", "scale_conv1"
        else:
            block, suffix = caffe_block(base)
            bn, sc = f"bn{block}_branch{suffix}", f"scale{block}_branch{suffix}"
        n = module.num_features
        mean = rng.standard_normal(n, dtype=np.float32)
        var = rng.uniform(0.5, 2.0, n).astype(np.float32)
        layer = net.layer.add(name=bn, type="BatchNorm")
        layer.batch_norm_param.eps = module.eps
        layer.batch_norm_param.moving_average_fraction = 1 - module.momentum
        for values in (mean * scale, var * scale, np.array([scale], np.float32)):
            blob(layer, values)
        gamma = rng.standard_normal(n, dtype=np.float32)
        beta = rng.standard_normal(n, dtype=np.float32)
        layer = net.layer.add(name=sc, type="Scale")
        blob(layer, gamma)
        blob(layer, beta)
        expected.update({f"{key}.running_mean": mean, f"{key}.running_var": var,
                         f"{key}.weight": gamma, f"{key}.bias": beta})
    elif isinstance(module, torch.nn.MaxPool2d):
        layer = net.layer.add(name="pool1", type="Pooling")
        layer.pooling_param.kernel_size = module.kernel_size
        layer.pooling_param.stride = module.stride
        layer.pooling_param.pad = module.padding

caffemodel, out = work / "init.caffemodel", work / "deeplabv1_resnet101-coco.pth"
caffemodel.write_bytes(net.SerializeToString())
subprocess.run([sys.executable, str(checkout / "convert.py"), "--dataset", "coco",
                "--caffemodel", str(caffemodel), "--out", str(out)],
               cwd=checkout, check=True, stdout=subprocess.DEVNULL)

converted = torch.load(out, map_location="cpu")
counters = {k for k in converted if k.endswith(".num_batches_tracked")}
assert set(converted) - counters == set(expected), set(converted) ^ set(expected)
for key, values in expected.items():
    assert np.array_equal(converted[key].numpy().astype(np.float32), values), key

final = DeepLabV2_ResNet101_MSC(n_classes=21)
missing, unexpected = final.base.load_state_dict(converted, strict=False)
assert missing and all(k.startswith("aspp.") for k in missing), missing
assert unexpected and all(k.startswith("fc.") for k in unexpected), unexpected

from hfpl.data.weights import write_smoke_weights

stand_in = write_smoke_weights("deeplab-v1-resnet101-coco-init", work / "stand-in.pth")
smoke = torch.load(stand_in, map_location="cpu")
assert {k: tuple(v.shape) for k, v in smoke.items()} == {
    k: tuple(v.shape) for k, v in converted.items() if k not in counters}
print(f"ok: {len(expected)} tensors, {len(counters)} BN counters")
'''


@pytest.mark.upstream
def test_coco_caffemodel_conversion(tmp_path: Path) -> None:
    base, python = os.environ.get("HFPL_UPSTREAM_DIR"), os.environ.get("HFPL_UPSTREAM_PYTHON")
    if not base or not python:
        pytest.skip(
            "set HFPL_UPSTREAM_DIR (local <owner>+<name>/repo copies) and "
            "HFPL_UPSTREAM_PYTHON (interpreter with the upstream requirements)"
        )
    source = Path(base) / "kazuto1011+deeplab-pytorch" / "repo"
    if not source.is_dir():
        pytest.skip(f"{source} missing")
    checkout = tmp_path / "deeplab-pytorch"
    git = ["git", "-C", str(checkout)]
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(checkout)], check=True)
    subprocess.run([*git, "sparse-checkout", "set", "--no-cone", "/*", "!/docs/"], check=True)
    subprocess.run([*git, "checkout", "-q", COMMIT], check=True)
    for patch in sorted((ROOT / "patches" / "deeplab-pytorch").glob("*.patch")):
        subprocess.run([*git, "apply", str(patch)], check=True)
    done = subprocess.run(
        [python, "-c", BUILD_AND_CHECK, str(checkout), str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert done.stdout.strip().splitlines()[-1] == "ok: 522 tensors, 104 BN counters"
