"""The templates of a step and the ``{param[NAME]}`` values of a run (variant + dataset)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any


def variant_params(doc: dict[str, Any], variant: str, dataset: str | None = None) -> dict[str, str]:
    """The ``{param[NAME]}`` values of ``variant`` (on ``dataset``) in one method document.

    ``doc["variant_params"]`` maps a variant name or ``fnmatch`` pattern to ``{NAME: value}``;
    the first matching entry (in file order) wins and is laid over the ``default`` entry.
    ``doc["dataset_params"]`` maps a dataset name (or ``default``) to ``{NAME: value}``: the
    run's dataset entry laid over its ``default``; its names are disjoint from variant_params'
    (checked when the method loads).
    """
    table = doc.get("variant_params", {})
    chosen = next(
        (v for pattern, v in table.items()
         if pattern != "default" and fnmatch.fnmatchcase(variant, pattern)),
        {},
    )  # fmt: skip
    per_dataset = doc.get("dataset_params", {})
    by_dataset = {**per_dataset.get("default", {}), **per_dataset.get(dataset, {})}
    merged = {**by_dataset, **table.get("default", {}), **chosen}
    return {name: str(value) for name, value in merged.items()}


def step_templates(step: dict[str, Any]) -> list[tuple[str, str]]:
    """``(key, template)`` of every template of one step (evaluations: ``evaluations.E.key``)."""
    items = [("argv", t) for t in step["argv"]]
    items += [("cwd", step["cwd"])] if "cwd" in step else []
    items += [("inputs", t) for t in step.get("inputs", [])]
    items += [("outputs", t) for t in step.get("outputs", [])]
    items += [("env", str(v)) for v in step.get("env", {}).values()]
    for ev_name, ev in step.get("evaluations", {}).items():
        items += [(f"evaluations.{ev_name}.{key}", ev[key]) for key in ("pred", "gt", "list")]
        if isinstance(ev.get("num_classes"), str):
            items.append((f"evaluations.{ev_name}.num_classes", ev["num_classes"]))
        if "file" in ev.get("upstream_log", {}):
            items.append((f"evaluations.{ev_name}.upstream_log.file", ev["upstream_log"]["file"]))
    return items


def run_templates(step: dict[str, Any]) -> list[str]:
    """The templates a step's job renders (argv, cwd, inputs, env values)."""
    env = [str(v) for v in step.get("env", {}).values()]
    return [*step["argv"], step.get("cwd", ""), *step.get("inputs", []), *env]


def named_weights(step: dict[str, Any], names: Iterable[str]) -> list[str]:
    """Those of the weights files ``names`` that the step's templates name as
    ``{weights_dir}/NAME``."""
    used = " ".join(run_templates(step))
    return [name for name in names if f"{{weights_dir}}/{name}" in used]
