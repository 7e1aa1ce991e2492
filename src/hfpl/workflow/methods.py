"""One method file (``config/methods/<m>.yaml``): read, validate, merge its smoke overrides.

Besides the schema, a method's templates may use only known placeholders, existing repos,
earlier steps and defined params; an evaluation's ``format`` must name a reader of
:data:`hfpl.metrics.readers.READERS` and an ``upstream_log.regex`` must compile with a group
``J``; ``lists`` and steps' ``per_dataset`` may only name
datasets the method supports; in smoke mode no step may name a weights file without a ``smoke``
stand-in.
Facts across methods (a weights file declared twice) are checked by :func:`shared_weights`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfpl.workflow import templates
from hfpl.workflow.params import named_weights, step_templates
from hfpl.workflow.schema import ConfigError, deep_merge, load_schema, read_yaml, validate

DEFAULT_DATASETS = ("voc",)
DEFAULT_IMAGE = "base"


@dataclass(frozen=True)
class MethodFile:
    """A validated method document and what its file says beyond the steps.

    ``doc``: the document without ``smoke:`` (in smoke mode its step overrides merged and its
    smoke-only list files appended to ``lists``);
    ``smoke_data``: the smallest smoke data its smoke steps run on (``{images, size}``, may be
    empty).
    """

    path: Path
    doc: dict[str, Any]
    smoke_data: dict[str, int]


def _check_steps(doc: dict[str, Any], path: Path) -> None:
    """Templates use known placeholders, existing repos, only earlier steps and defined params."""
    params = {n for values in doc.get("variant_params", {}).values() for n in values}
    by_dataset = {n for values in doc.get("dataset_params", {}).values() for n in values}
    if params & by_dataset:
        raise ConfigError(
            f"{path}: {sorted(params & by_dataset)} defined in both variant_params and "
            "dataset_params; give each name in one of them"
        )
    params |= by_dataset
    earlier: list[str] = []
    for name, step in doc["steps"].items():
        for key, template in step_templates(step):
            for problem in templates.check(template, doc["repos"], earlier, params):
                raise ConfigError(f"{path}: steps.{name}.{key}: {problem}")
        if "did_work" in step:
            try:
                re.compile(step["did_work"]["log_regex"])
            except re.error as err:
                raise ConfigError(
                    f"{path}: steps.{name}.did_work.log_regex: not a regular expression ({err}); "
                    "fix it (Python re syntax)"
                ) from None
        for ev_name, ev in step.get("evaluations", {}).items():
            if "bg_threshold" in ev and "sweep" in ev:
                raise ConfigError(
                    f"{path}: steps.{name}.evaluations.{ev_name}: give bg_threshold or sweep, "
                    "not both"
                )
        earlier.append(name)


def _evaluations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(step, evaluation) -> the evaluation's spec, over every step."""
    return {
        (name, ev_name): ev
        for name, step in doc["steps"].items()
        for ev_name, ev in step.get("evaluations", {}).items()
    }


def _check_upstream_logs(doc: dict[str, Any], path: Path) -> None:
    """Every ``upstream_log.regex`` compiles and has the named group ``J``."""
    for (name, ev_name), ev in _evaluations(doc).items():
        if "upstream_log" not in ev:
            continue
        where = f"{path}: steps.{name}.evaluations.{ev_name}.upstream_log.regex"
        try:
            groups = re.compile(ev["upstream_log"]["regex"]).groupindex
        except re.error as err:
            raise ConfigError(f"{where}: not a regular expression ({err}); fix it") from None
        if "J" not in groups:
            raise ConfigError(f"{where}: no named group (?P<J>...) for the printed J; add one")


def _check_formats(doc: dict[str, Any], path: Path) -> None:
    """Every evaluation's ``format`` is a key of the evaluator's reader registry."""
    formats = {key: ev["format"] for key, ev in _evaluations(doc).items()}
    if not formats:
        return
    from hfpl.metrics.readers import READERS  # numpy + PIL: only for methods that evaluate

    for (name, ev_name), fmt in formats.items():
        if fmt not in READERS:
            raise ConfigError(
                f"{path}: steps.{name}.evaluations.{ev_name}.format: unknown format {fmt!r}; "
                f"use one of {', '.join(sorted(READERS))}"
            )


def _check_dataset_keys(doc: dict[str, Any], smoke_lists: dict[str, Any], path: Path) -> None:
    """``lists``, ``smoke.lists`` and each step's ``per_dataset`` name only datasets the method
    supports."""
    datasets = doc.get("datasets", list(DEFAULT_DATASETS))
    keys = [("lists", d) for d in doc.get("lists", {})]
    keys += [("smoke.lists", d) for d in smoke_lists]
    keys += [
        (f"steps.{name}.per_dataset", d)
        for name, step in doc["steps"].items()
        for d in step.get("per_dataset", {})
    ]
    for where, dataset in keys:
        if dataset not in datasets:
            raise ConfigError(
                f"{path}: {where}.{dataset}: the method does not support {dataset!r} (datasets: "
                f"{datasets}); add it to datasets or remove the entry"
            )


def _check_smoke_weights(doc: dict[str, Any], path: Path) -> None:
    """Every weights file a (smoke) step names has a random-init stand-in."""
    without = [n for n, facts in doc.get("weights", {}).items() if "smoke" not in facts]
    for name, step in doc["steps"].items():
        for weights in named_weights(step, without):
            raise ConfigError(
                f"{path}: steps.{name}: in smoke mode it names {{weights_dir}}/{weights}, "
                f"which has no smoke stand-in (weights.{weights}.smoke); give it one, or "
                "override the step in smoke.steps to read a smoke-only list (smoke.lists)"
            )


def load_method(path: Path, smoke: bool, schema_dir: Path) -> MethodFile:
    """Read and validate one method file; with ``smoke``, merge its ``smoke.steps`` overrides
    (an overridden step keeps only the override's ``per_dataset``) and append its
    ``smoke.lists`` to ``lists``."""
    doc = read_yaml(path)
    validate(doc, load_schema(schema_dir, "method"), path)
    overrides = doc.pop("smoke", {})
    unknown = set(overrides.get("steps", {})) - set(doc["steps"])
    if unknown:
        raise ConfigError(
            f"{path}: smoke.steps: unknown step {sorted(unknown)} (steps: {list(doc['steps'])})"
        )
    if smoke:
        steps = overrides.get("steps", {})
        doc = deep_merge(doc, {"steps": steps})
        for name, step in steps.items():
            # a smoke step is its own small job: the paper-sized per_dataset does not apply
            if "per_dataset" in doc["steps"][name]:
                doc["steps"][name]["per_dataset"] = step.get("per_dataset", {})
        for dataset, files in overrides.get("lists", {}).items():
            doc.setdefault("lists", {})[dataset] = [*doc["lists"].get(dataset, []), *files]
        _check_smoke_weights(doc, path)
    _check_steps(doc, path)
    _check_formats(doc, path)
    _check_upstream_logs(doc, path)
    _check_dataset_keys(doc, overrides.get("lists", {}), path)
    return MethodFile(path, doc, dict(overrides.get("data", {})))


def shared_weights(files: dict[str, MethodFile]) -> dict[str, dict[str, Any]]:
    """weights file name -> its facts, over every method; a file two methods declare with
    different facts is a :class:`ConfigError` naming both method files."""
    facts: dict[str, dict[str, Any]] = {}
    owner: dict[str, Path] = {}
    for method in files.values():
        for name, entry in method.doc.get("weights", {}).items():
            if name in facts and facts[name] != entry:
                raise ConfigError(
                    f"{method.path}: weights.{name}: declared differently in {owner[name]}; "
                    "give the same facts (smoke, checksum, urls, manual, loading) in both"
                )
            facts.setdefault(name, entry)
            owner.setdefault(name, method.path)
    return facts
