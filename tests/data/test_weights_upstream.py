"""Smoke weight files against the upstream network definitions (pinned commits).

Needs local git copies of the repos: ``HFPL_UPSTREAM_DIR/<owner>+<name>[/repo]``; skipped
otherwise. The upstream files are extracted into a temp dir at test time, never committed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from hfpl.data import weights as W
from hfpl.data.mxnet import load_params

pytestmark = pytest.mark.upstream

PINS = {
    "SEAM": ("YudeWang", "3212261b9d008581576b8b5429e32413d892c10b", ["network", "tool"]),
    "Spatial-BCE": ("allenwu97", "e3e8e55931710ab6eb3d483bbc25e3a9890aca07", ["models"]),
    "deeplab-pytorch": ("kazuto1011", "4219467fa5de07985f834f1bd8c04c186dc8f6d8", ["libs/models"]),
    "SIPE": ("chenqi1126", "e0c6a3bc578a6bade2cf85fe34a1793dce71170d", ["network"]),
}


def _checkout(repo: str, tmp_path: Path) -> Path:
    owner, commit, paths = PINS[repo]
    base = os.environ.get("HFPL_UPSTREAM_DIR")
    if not base:
        pytest.skip("set HFPL_UPSTREAM_DIR to local git copies of the upstream repos")
    for git_dir in (Path(base) / f"{owner}+{repo}" / "repo", Path(base) / f"{owner}+{repo}",
                    Path(base) / repo):  # fmt: skip
        if (git_dir / "HEAD").exists() or (git_dir / ".git").exists():
            break
    else:
        pytest.skip(f"no local copy of {owner}/{repo} under {base}")
    out = tmp_path / repo
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(git_dir), "archive", commit, *paths],
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def _import(root: Path, module: str):
    sys.path.insert(0, str(root))
    try:
        for name in [
            m for m in sys.modules if m.split(".")[0] in ("network", "models", "libs", "tool")
        ]:
            del sys.modules[name]
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(root))


def _specs(arch: str) -> list[W.TensorSpec]:
    return W.ARCHITECTURES[arch].specs()


def _same_keys(model: torch.nn.Module, specs: list[W.TensorSpec], dropped: frozenset = frozenset()):
    ref = {k: tuple(v.shape) for k, v in model.state_dict().items()
           if not k.endswith("num_batches_tracked")}  # fmt: skip
    ours = {s.key: s.shape for s in specs if s.key not in dropped}
    assert ours == ref


def test_seam_converter_reads_our_params(tmp_path, monkeypatch):
    root = _checkout("SEAM", tmp_path)
    shim = types.ModuleType("mxnet")  # SEAM calls mxnet.nd.load(...)[k].asnumpy()
    wrap = types.SimpleNamespace
    shim.nd = wrap(
        load=lambda f: {k: wrap(asnumpy=lambda v=v: v) for k, v in load_params(f).items()}
    )
    monkeypatch.setitem(sys.modules, "mxnet", shim)
    path = W.write_smoke_weights("resnet38-imagenet-mxnet", tmp_path / "r38.params", seed=0)
    r38 = _import(root, "network.resnet38d")
    sd = r38.convert_mxnet_to_torch(str(path))
    r38.Net().load_state_dict(sd, strict=True)
    ours = W.resnet38_from_mxnet(load_params(path))
    assert sd.keys() == ours.keys() and all(torch.equal(sd[k], ours[k]) for k in sd)
    _same_keys(_import(root, "network.resnet38_SEAM").Net(), _specs("resnet38-pcm-heads"))


def test_sbce_and_deeplab_and_torchvision_keys(tmp_path):
    sbce = _import(_checkout("Spatial-BCE", tmp_path), "models.resnet38")
    _same_keys(sbce.ResNet38(), _specs("resnet38-spatial-threshold-heads"))
    dl = _import(_checkout("deeplab-pytorch", tmp_path), "libs.models.deeplabv1")
    _same_keys(
        dl.DeepLabV1(n_classes=91, n_blocks=[3, 4, 23, 3]), _specs("deeplab-v1-resnet101-coco-init")
    )
    sipe = _import(_checkout("SIPE", tmp_path), "network.resnet50")
    for depth, blocks in [(50, [3, 4, 6, 3]), (101, [3, 4, 23, 3])]:
        model = sipe.ResNet(sipe.Bottleneck, blocks)
        specs = _specs(f"torchvision-resnet{depth}")
        _same_keys(model, specs, dropped=frozenset({"fc.weight", "fc.bias"}))
        # upstream loads the file strictly after popping fc: BN counters must be optional
        sd = {k: torch.from_numpy(v) for k, v in W.materialise(specs).items()
              if not k.startswith("fc.")}  # fmt: skip
        model.load_state_dict(sd, strict=True)
        assert np.all(model.bn1.num_batches_tracked.numpy() == 0)
