"""mmcv 1.2.0 (the newest that mmseg 0.8.0 forks accept) on torch 2.x and on CPU.

A patched entry point calls :func:`install` before it builds a model. Each fix replaces one
attribute in memory and keeps mmcv's behaviour where it already worked:

- ``nn.SyncBatchNorm._specify_ddp_gpu_num`` (removed in torch 1.10) is called by
  ``mmcv.cnn.build_norm_layer`` for every ``SyncBN``: a no-op stub (one process, one GPU: the
  layer syncs nothing, as the removed method configured for a single GPU per process).
- ``torch.nn.parallel._functions._get_stream`` takes a ``torch.device`` in torch 2.x; mmcv's
  ``Scatter`` passes GPU indices (int): converted to ``cuda:<i>``.
- CPU scatter: a stacked ``DataContainer`` holds one tensor (B, C, H, W) per device; mmcv 1.2.0
  adds a device axis to each of them on CPU, so the model gets (1, B, C, H, W). On CPU the
  per-device tensors are now returned as they are.
- ``MMDataParallel.train_step`` / ``val_step`` on CPU pass the per-device tuples themselves
  (``*inputs``) instead of the first device's inputs (``*inputs[0], **kwargs[0]``), as
  ``forward`` already does.
- ``--options`` (``DictAction`` + ``Config.merge_from_dict``) in the mmcv >= 1.3 syntax: a
  value in brackets or parentheses is a Python literal (``img_scale=(128,96)``,
  ``img_ratios=[1.0]``), and a numeric key component indexes a list
  (``data.test.pipeline.1.flip=False``). Other values parse as in 1.2.0.
"""

from __future__ import annotations

import ast

import torch

_FIXES_INSTALLED = "_hfpl_compat_installed"


def _stub_specify_ddp_gpu_num(self: torch.nn.SyncBatchNorm, gpu_size: int) -> None:
    """The removed torch < 1.10 method; one GPU per process is all these runs use."""


def _device_of(device: int | torch.device) -> torch.device:
    """A GPU index as mmcv passes it -> the ``torch.device`` torch 2.x expects."""
    return torch.device("cuda", device) if isinstance(device, int) else device


def _parse_option_value(text: str, parse_1_2_0):
    """``[..]`` / ``(..)`` -> Python literal; anything else as mmcv 1.2.0 parses it."""
    if text[:1] in "[(":
        return ast.literal_eval(text)
    values = [parse_1_2_0(v) for v in text.split(",")]
    return values[0] if len(values) == 1 else values


def _set_indexed(cfg_dict, key: str, value) -> None:
    """Set ``a.b.1.c`` in the config tree, numeric parts indexing existing lists."""
    parts = key.split(".")
    node = cfg_dict
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value


def install() -> None:
    """Apply every fix (idempotent). Imports mmcv, so call it only where mmcv is installed."""
    import mmcv
    import mmcv.parallel._functions as functions
    from mmcv.parallel import MMDataParallel
    from mmcv.utils import Config, DictAction

    if getattr(mmcv, _FIXES_INSTALLED, False):
        return
    if not hasattr(torch.nn.SyncBatchNorm, "_specify_ddp_gpu_num"):
        torch.nn.SyncBatchNorm._specify_ddp_gpu_num = _stub_specify_ddp_gpu_num

    get_stream = functions._get_stream
    functions._get_stream = lambda device: get_stream(_device_of(device))

    scatter = functions.scatter

    def scatter_cpu_chunks(input, devices, streams=None):
        # a list = one chunk per device already; on CPU keep each chunk's shape
        if devices == [-1] and isinstance(input, list):
            return [chunk.contiguous() for chunk in input]
        return scatter(input, devices, streams)

    functions.scatter = scatter_cpu_chunks

    for name in ("train_step", "val_step"):
        gpu_step = getattr(MMDataParallel, name)

        def step(self, *inputs, _gpu_step=gpu_step, _name=name, **kwargs):
            if self.device_ids:
                return _gpu_step(self, *inputs, **kwargs)
            inputs, kwargs = self.scatter(inputs, kwargs, [-1])
            return getattr(self.module, _name)(*inputs[0], **kwargs[0])

        setattr(MMDataParallel, name, step)

    parse_1_2_0 = DictAction._parse_int_float_bool

    def parse_options(self, parser, namespace, values, option_string=None):
        options = {}
        for pair in values:
            key, text = pair.split("=", maxsplit=1)
            options[key] = _parse_option_value(text, parse_1_2_0)
        setattr(namespace, self.dest, options)

    DictAction.__call__ = parse_options

    merge = Config.merge_from_dict

    def merge_from_dict(self, options):
        indexed = {k: v for k, v in options.items() if any(p.isdigit() for p in k.split("."))}
        merge(self, {k: v for k, v in options.items() if k not in indexed})
        cfg_dict = super(Config, self).__getattribute__("_cfg_dict")
        for key, value in indexed.items():
            _set_indexed(cfg_dict, key, value)

    Config.merge_from_dict = merge_from_dict
    setattr(mmcv, _FIXES_INSTALLED, True)
