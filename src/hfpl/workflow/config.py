"""The top-level loader: config.yaml (+ overrides) and everything it points to, validated.

Every problem is one :class:`~hfpl.workflow.schema.ConfigError` whose message names the file,
the key and the fix, so that a typo stops the workflow before any job starts. Defaults live in
:data:`DEFAULTS`; ``config/README.md`` documents every key. The pieces: YAML + schema
(:mod:`.schema`), repos + tree key (:mod:`.repos`), variants + sweeps (:mod:`.variants`),
``{param[...]}`` values (:mod:`.params`), one method file (:mod:`.methods`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfpl.workflow import templates
from hfpl.workflow.methods import DEFAULT_DATASETS, MethodFile, load_method, shared_weights
from hfpl.workflow.params import step_templates, variant_params
from hfpl.workflow.repos import Repo, method_repos
from hfpl.workflow.schema import ConfigError, deep_merge, load_schema, read_yaml, validate
from hfpl.workflow.variants import expand_sweeps

__all__ = ["DEFAULTS", "ConfigError", "Run", "WorkflowConfig", "deep_merge", "load_workflow_config"]

DEFAULTS: dict[str, Any] = {
    "extra_grids": [],
    "smoke": False,
    "methods_dir": "config/methods",
    "experiments": "config/experiments.yaml",
    "tables": "config/tables.yaml",
    "paper": "config/paper.yaml",
    "results_dir": "results",
    "checkouts_dir": "results/checkouts",
    "gpu_lock_dir": "results/.gpu-locks",
    "upstream": {"url_template": "https://github.com/{owner}/{name}.git"},
    "data": {
        "roots": {},
        "weights_dir": "data/weights",
        "smoke": {
            "generate": False,
            "root": "results/smoke-data",
            "images": 8,
            "size": 64,
            "seed": 0,
        },
    },
    "executor": {"kind": "local", "local": {}, "docker": {}, "apptainer": {}},
    "report": {"tables": True},
    "preflight": "auto",
}
DEFAULT_PYTHON = {"local": sys.executable, "docker": "python", "apptainer": "python"}
# executor options that are templates over the method's `image` (its containers/<image>/ layer)
IMAGE_OPTION = "image"


@dataclass(frozen=True)
class Run:
    """One cell of the run grid."""

    dataset: str
    method: str
    variant: str
    seed: int


@dataclass(frozen=True)
class WorkflowConfig:
    """The validated configuration.

    ``settings``: config.yaml with defaults filled; ``methods``: name -> method document (smoke
    overrides merged when ``settings["smoke"]``); ``repos``: method -> repo key -> :class:`Repo`;
    ``variants``: name -> ``{"flags": {...}, "per_method": {method: {...}}}`` (sweeps expanded);
    ``runs``: every (dataset, method, variant, seed) to run, grids merged, in order;
    ``weights``: weights file name -> its facts (from the methods' ``weights:``).
    """

    settings: dict[str, Any]
    methods: dict[str, dict[str, Any]]
    repos: dict[str, dict[str, Repo]]
    variants: dict[str, dict[str, Any]]
    runs: tuple[Run, ...]
    weights: dict[str, dict[str, Any]]


def _runs(settings: dict[str, Any], known: dict[str, Path], variants: dict, cfg: str) -> list[Run]:
    grids = [{"name": "main", **{k: settings[k] for k in ("methods", "variants")}}]
    grids += settings["extra_grids"]
    runs: dict[Run, None] = {}
    for i, grid in enumerate(grids):
        where = "top level" if i == 0 else f"extra_grids[{i - 1}] ({grid['name']})"
        methods = sorted(known) if grid["methods"] == "all" else grid["methods"]
        for method in methods:
            if method not in known:
                raise ConfigError(
                    f"{cfg}: {where}: methods: unknown method {method!r} (no "
                    f"{settings['methods_dir']}/{method}.yaml); use one of {sorted(known)}"
                )
        for variant in grid["variants"]:
            if variant not in variants:
                raise ConfigError(
                    f"{cfg}: {where}: variants: unknown variant {variant!r}; define it in "
                    f"{settings['experiments']} or use one of {sorted(variants)}"
                )
        for dataset in grid.get("datasets", settings["datasets"]):
            for method in methods:
                for variant in grid["variants"]:
                    for seed in grid.get("seeds", settings["seeds"]):
                        runs[Run(dataset, method, variant, seed)] = None
    return list(runs)


def _check_params(methods: dict[str, MethodFile], runs: list[Run]) -> None:
    """Every ``{param[NAME]}`` a method uses resolves for each variant x dataset it runs."""
    for method, variant, dataset in dict.fromkeys((r.method, r.variant, r.dataset) for r in runs):
        doc = methods[method].doc
        used = templates.references(
            [t for s in doc["steps"].values() for _, t in step_templates(s)], "param"
        )
        missing = sorted(used - set(variant_params(doc, variant, dataset)))
        if missing:
            raise ConfigError(
                f"{methods[method].path}: variant_params: no value of {missing} for variant "
                f"{variant!r}; add them to `default` or to an entry whose pattern matches it "
                f"(or to dataset_params: {dataset!r} or `default`)"
            )


def _check_datasets(methods: dict[str, MethodFile], runs: list[Run]) -> None:
    """Each run's dataset is one its method supports, with lists where its steps use
    ``{lists}``."""
    for method, dataset in dict.fromkeys((r.method, r.dataset) for r in runs):
        path, doc = methods[method].path, methods[method].doc
        supported = doc.get("datasets", list(DEFAULT_DATASETS))
        if dataset not in supported:
            raise ConfigError(
                f"{path}: datasets: {dataset!r} is not supported (only {supported}); remove it "
                "from the grid or add it to the method"
            )
        uses_lists = any(
            name == "lists"
            for step in doc["steps"].values()
            for _, template in step_templates(step)
            if template != templates.FLAGS
            for name, _ in templates.fields(template)
        )
        if uses_lists and dataset not in doc.get("lists", {}):
            raise ConfigError(
                f"{path}: lists: no entry for {dataset!r}, but its steps use {{lists}}; "
                f"declare the list files `hfpl data lists` writes for {dataset}"
            )


def _check_smoke_data(settings: dict[str, Any], methods: dict[str, MethodFile], source: str):
    """Generated smoke data is at least as large as every used method's ``smoke.data``."""
    smoke = settings["data"]["smoke"]
    for key in ("images", "size"):
        needs = {m.path: m.smoke_data[key] for m in methods.values() if key in m.smoke_data}
        if needs and smoke[key] < max(needs.values()):
            path = max(needs, key=needs.__getitem__)
            raise ConfigError(
                f"{source}: data.smoke.{key}: {smoke[key]} is too small for {path} "
                f"(smoke.data.{key}: {needs[path]}); set data.smoke.{key} to at least "
                f"{needs[path]}"
            )


def _check_executor(settings: dict[str, Any], source: str) -> None:
    """The executor's ``image`` option is a template over ``{image}`` only."""
    kind = settings["executor"]["kind"]
    image = settings["executor"][kind].get(IMAGE_OPTION)
    if image is None:
        return
    try:
        str(image).format(image="base")
    except (KeyError, IndexError, ValueError) as err:
        raise ConfigError(
            f"{source}: executor.{kind}.image: {image!r} is not a template over {{image}} "
            f"({err!r}); write e.g. hfpl/{{image}}:latest"
        ) from None


def load_workflow_config(
    config: Mapping[str, Any], schema_dir: Path, source: str = "config"
) -> WorkflowConfig:
    """Validate ``config`` (the merged config.yaml + overrides) and everything it points to.

    ``schema_dir`` holds the ``*.schema.yaml`` files; ``source`` names the config in messages.
    Relative paths in the config are relative to the current directory (Snakemake's workdir).
    """
    schema = load_schema(schema_dir, "config")
    # `methods: all` is allowed besides a list; the schema checks the list form
    raw = dict(config)
    validate({**raw, "methods": []} if raw.get("methods") == "all" else raw, schema, source)
    settings = deep_merge(DEFAULTS, raw)
    kind = settings["executor"]["kind"]
    if not settings["executor"][kind].get("python"):
        settings["executor"][kind]["python"] = DEFAULT_PYTHON[kind]
    _check_executor(settings, source)

    methods_dir = Path(settings["methods_dir"])
    known = {p.stem: p for p in sorted(methods_dir.glob("*.yaml"))}
    exp_path = Path(settings["experiments"])
    experiments = read_yaml(exp_path)
    validate(experiments, load_schema(schema_dir, "experiments"), exp_path)
    variants = expand_sweeps(experiments, exp_path)
    for name, variant in variants.items():
        for key in variant["per_method"]:
            method = key.split("@")[0]  # `method@dataset`: that method on that dataset only
            if method not in known:
                raise ConfigError(
                    f"{exp_path}: variants.{name}.per_method: unknown method {method!r} (no "
                    f"{methods_dir}/{method}.yaml); fix the name or add the method file"
                )
    tables_schema = schema_dir / "tables.schema.yaml"
    if tables_schema.exists() and Path(settings["tables"]).exists():
        validate(read_yaml(settings["tables"]), read_yaml(tables_schema), settings["tables"])

    runs = _runs(settings, known, variants, source)
    used = sorted({r.method for r in runs})
    files = {m: load_method(known[m], settings["smoke"], schema_dir) for m in used}
    _check_datasets(files, runs)
    _check_params(files, runs)
    smoke_data = settings["data"]["smoke"]["generate"]
    if smoke_data:
        _check_smoke_data(settings, files, source)
    for dataset in sorted({r.dataset for r in runs}):
        if not smoke_data and dataset not in settings["data"]["roots"]:
            raise ConfigError(
                f"{source}: data.roots.{dataset}: missing; set it to the dataset's root folder "
                "(or enable data.smoke.generate)"
            )
    if not smoke_data:
        roots = [os.path.normpath(settings["data"]["roots"][d]) for d in {r.dataset for r in runs}]
        shared = sorted({r for r in roots if roots.count(r) > 1})
        if shared:
            raise ConfigError(
                f"{source}: data.roots: {shared[0]!r} is the root of several datasets; give "
                "each dataset its own folder (each gets its own hfpl-dataset.json and lists/)"
            )
    url_template = settings["upstream"]["url_template"]
    repos = {m: method_repos(f.doc, f.path, url_template) for m, f in files.items()}
    methods = {m: f.doc for m, f in files.items()}
    return WorkflowConfig(settings, methods, repos, variants, tuple(runs), shared_weights(files))
