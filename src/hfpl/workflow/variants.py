"""Variants (named flag sets of the add-on) and sweeps (families of variants varying one flag).

``experiments.yaml``: ``variants.<name>: {flags, per_method?, description?}`` and
``sweeps.<name>: {base, flag, values, name: "prefix_{value}", flags?, description?}``.
:func:`sweep_names` is the one rule for the names a sweep generates (the workflow and
``hfpl tables`` both use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hfpl.workflow.schema import ConfigError


def sweep_names(sweep: Mapping[str, Any]) -> list[str]:
    """The variant names ``sweep`` generates: ``sweep["name"]`` formatted with each value."""
    return [sweep["name"].format(value=value) for value in sweep["values"]]


def expand_sweeps(experiments: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """name -> ``{"flags", "per_method", "description"?}`` of every variant, sweeps expanded.

    A sweep variant has the base's flags + the sweep's ``flags`` + ``flag: value``, and the
    base's ``per_method`` values without the swept flag (the sweep value wins everywhere).
    """
    variants = {name: {"per_method": {}, **v} for name, v in experiments["variants"].items()}
    for sweep_name, sweep in experiments.get("sweeps", {}).items():
        if sweep["base"] not in variants:
            raise ConfigError(
                f"{path}: sweeps.{sweep_name}.base: unknown variant {sweep['base']!r}; "
                f"use one of {sorted(variants)}"
            )
        base = variants[sweep["base"]]
        for value, name in zip(sweep["values"], sweep_names(sweep), strict=True):
            if name in variants:
                raise ConfigError(f"{path}: sweeps.{sweep_name}: variant {name!r} already exists")
            variants[name] = {
                "description": f"{sweep['base']} with {sweep['flag']} {value} ({sweep_name})",
                "flags": {**base["flags"], **sweep.get("flags", {}), sweep["flag"]: value},
                "per_method": {
                    m: {k: v for k, v in f.items() if k != sweep["flag"]}
                    for m, f in base["per_method"].items()
                },
            }
    return variants


def flag_items(variant: Mapping[str, Any], method: str, dataset: str | None = None) -> list[str]:
    """The variant's add-on flags for ``method`` as argv items: ``per_method[method]`` values
    override ``flags``, and ``per_method["method@dataset"]`` values override both on that
    dataset."""
    per = variant["per_method"]
    merged = {**variant["flags"], **per.get(method, {}), **per.get(f"{method}@{dataset}", {})}
    return [item for flag, value in merged.items() for item in (flag, str(value))]
