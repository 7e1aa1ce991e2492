"""hfpl.compat.legacy_mmcv: the pure helpers always; install() against mmcv 1.2.0 when it is
installed (the containers/pmm recipe), else skipped."""

from __future__ import annotations

import argparse

import pytest
import torch

from hfpl.compat import legacy_mmcv


def _parse_1_2_0(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("(96,96)", (96, 96)), ("[1.0]", [1.0]), ("2", 2), ("0.5", 0.5), ("False", False),
     ("/a/b", "/a/b"), ("1,2", [1, 2])],
)  # fmt: skip
def test_option_values(text: str, value) -> None:
    assert legacy_mmcv._parse_option_value(text, _parse_1_2_0) == value


def test_indexed_keys_set_list_items() -> None:
    tree = {"data": {"test": {"pipeline": [{"type": "a"}, {"type": "b", "flip": True}]}}}
    legacy_mmcv._set_indexed(tree, "data.test.pipeline.1.flip", False)
    assert tree["data"]["test"]["pipeline"] == [{"type": "a"}, {"type": "b", "flip": False}]
    with pytest.raises(IndexError):
        legacy_mmcv._set_indexed(tree, "data.test.pipeline.5.flip", False)


def test_gpu_index_becomes_a_device() -> None:
    assert legacy_mmcv._device_of(1) == torch.device("cuda", 1)
    assert legacy_mmcv._device_of(torch.device("cpu")) == torch.device("cpu")


def test_install_on_mmcv_1_2_0() -> None:
    mmcv = pytest.importorskip("mmcv")
    if mmcv.__version__ != "1.2.0":
        pytest.skip(f"mmcv {mmcv.__version__} (the fixes target 1.2.0)")
    legacy_mmcv.install()
    legacy_mmcv.install()  # idempotent
    from mmcv.cnn import build_norm_layer
    from mmcv.parallel import DataContainer, MMDataParallel
    from mmcv.utils import Config, DictAction

    _, bn = build_norm_layer({"type": "SyncBN"}, 4)  # called _specify_ddp_gpu_num: no error
    assert isinstance(bn, torch.nn.SyncBatchNorm)

    class Probe(torch.nn.Module):
        def train_step(self, data, optimizer):
            return data["img"].shape, optimizer

    batch = {"img": DataContainer([torch.zeros(2, 3, 8, 8)], stack=True)}
    model = MMDataParallel(Probe(), device_ids=[])  # the CPU path
    assert model.train_step(batch, "opt") == (torch.Size([2, 3, 8, 8]), "opt")  # not 5-D

    parser = argparse.ArgumentParser()
    parser.add_argument("--options", nargs="+", action=DictAction)
    options = parser.parse_args(["--options", "a.0.size=(64,64)", "b.c=x"]).options
    cfg = Config({"a": [{"size": (512, 512)}], "b": {"c": "y"}})
    cfg.merge_from_dict(options)
    assert cfg.a[0]["size"] == (64, 64) and cfg.b.c == "x"
