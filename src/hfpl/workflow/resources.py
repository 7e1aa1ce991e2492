"""What one step asks for, per dataset: its ``resources`` (the scheduler request) and its
``estimate`` (the cost preview's and the preflight's numbers).

In a method YAML a step declares ``resources: {gpu, mem_mb, runtime (minutes), threads}`` and
``estimate: {gpu_hours, gpu_mem_mb}`` (one run of the step on the paper's hardware; GPU memory
per GPU), and ``per_dataset: {<dataset>: {resources: {...}, estimate: {...}}}`` overrides keys of
either for one dataset (a COCO step runs on ~8x VOC's images: a longer ``runtime``, more
GPU-hours; or ``gpu: 4`` where one GPU cannot hold the upstream batch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_RESOURCES = {"gpu": 0, "mem_mb": 4000, "runtime": 60, "threads": 1}


def _for_dataset(spec: Mapping[str, Any], key: str, dataset: str | None) -> dict[str, Any]:
    out = dict(spec.get(key, {}))
    if dataset is not None:
        out.update(spec.get("per_dataset", {}).get(dataset, {}).get(key, {}))
    return out


def step_resources(spec: Mapping[str, Any], dataset: str | None = None) -> dict[str, int]:
    """``gpu``, ``mem_mb``, ``runtime`` (minutes), ``threads`` of a step on ``dataset``: the
    defaults, the step's ``resources``, then its ``per_dataset[dataset].resources``."""
    return {**DEFAULT_RESOURCES, **_for_dataset(spec, "resources", dataset)}


def step_estimate(spec: Mapping[str, Any], dataset: str | None = None) -> dict[str, float]:
    """The step's ``estimate`` (``gpu_hours``, ``gpu_mem_mb``) on ``dataset`` (may be empty)."""
    return _for_dataset(spec, "estimate", dataset)
