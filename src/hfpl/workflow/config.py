"""Load and validate the workflow configuration: config.yaml, methods/*.yaml, experiments.yaml.

Every problem is one :class:`ConfigError` whose message names the file, the key and the fix, so
that a typo stops the workflow before any job starts. Defaults live in :data:`DEFAULTS`;
``config/README.md`` documents every key.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hfpl.workflow import templates

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
}
# libyaml's parser when PyYAML was built with it (~10x faster on the method files)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_PYTHON = {"local": sys.executable, "docker": "python", "apptainer": "python"}


class ConfigError(ValueError):
    """A configuration problem; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Repo:
    """One upstream repository of a method, pinned and patched.

    ``tree_key`` is the first 16 hex digits of sha256 over the patch series (names + contents)
    and the sparse excludes: it changes exactly when the patched tree would.
    """

    key: str
    owner: str
    name: str
    commit: str
    url: str
    patches: tuple[Path, ...]
    sparse_exclude: tuple[str, ...]
    tree_key: str

    @property
    def checkout_id(self) -> str:
        return f"{self.owner}/{self.name}/{self.commit}-{self.tree_key}"


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
    ``runs``: every (dataset, method, variant, seed) to run, grids merged, in order.
    """

    settings: dict[str, Any]
    methods: dict[str, dict[str, Any]]
    repos: dict[str, dict[str, Repo]]
    variants: dict[str, dict[str, Any]]
    runs: tuple[Run, ...]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``: mappings merge recursively, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error is a :class:`ConfigError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; create it or fix the path") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None


def _schema(schema_dir: Path, name: str) -> dict[str, Any]:
    return read_yaml(schema_dir / f"{name}.schema.yaml")


def _explain(err: jsonschema.ValidationError) -> str:
    """One line for a schema violation, with the fix."""
    where = ".".join(str(p) for p in err.absolute_path) or "top level"
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"{where}: unknown key {', '.join(map(repr, unknown))}{hint}; fix the spelling"
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        return f"{where}: missing key {', '.join(map(repr, missing))}; add it"
    if err.validator == "pattern" and list(err.absolute_path)[-1:] == ["commit"]:
        return f"{where}: {err.instance!r} is not a full 40-hex commit SHA; pin the exact commit"
    if err.validator == "propertyNames":
        return f"{where}: bad name {err.instance!r}: {err.message}"
    return f"{where}: {err.message}"


def validate(doc: Any, schema: dict[str, Any], path: Path | str) -> None:
    """Check ``doc`` against ``schema``; the first error (deepest, most relevant) is raised."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        raise ConfigError(f"{path}: {_explain(error)}")


def _tree_key(patches: tuple[Path, ...], excludes: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for patch in patches:
        digest.update(patch.name.encode() + b"\0" + hashlib.sha256(patch.read_bytes()).digest())
    for pattern in excludes:
        digest.update(b"\0exclude\0" + pattern.encode())
    return digest.hexdigest()[:16]


def _repos(doc: dict[str, Any], path: Path, settings: dict[str, Any]) -> dict[str, Repo]:
    out = {}
    for key, spec in doc["repos"].items():
        patches: tuple[Path, ...] = ()
        if "patches" in spec:
            series = Path(spec["patches"])
            patches = tuple(sorted(series.glob("*.patch")))
            if not patches:
                raise ConfigError(
                    f"{path}: repos.{key}.patches: no *.patch files in {series}; "
                    "fix the folder (relative to the workdir: patches/<repo>) or remove the key"
                )
        excludes = tuple(spec.get("sparse_exclude", ()))
        url = settings["upstream"]["url_template"].format(owner=spec["owner"], name=spec["name"])
        out[key] = Repo(
            key, spec["owner"], spec["name"], spec["commit"], url, patches, excludes,
            _tree_key(patches, excludes),
        )  # fmt: skip
    return out


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


def _step_templates(step: dict[str, Any]) -> list[tuple[str, str]]:
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
    return items


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
        for key, template in _step_templates(step):
            for problem in templates.check(template, doc["repos"], earlier, params):
                raise ConfigError(f"{path}: steps.{name}.{key}: {problem}")
        for ev_name, ev in step.get("evaluations", {}).items():
            if "bg_threshold" in ev and "sweep" in ev:
                raise ConfigError(
                    f"{path}: steps.{name}.evaluations.{ev_name}: give bg_threshold or sweep, "
                    "not both"
                )
        earlier.append(name)


def load_method(path: Path, settings: dict[str, Any], schema_dir: Path) -> dict[str, Any]:
    """Read, validate and (in smoke mode) merge the ``smoke:`` overrides of one method file."""
    doc = read_yaml(path)
    validate(doc, _schema(schema_dir, "method"), path)
    smoke = doc.pop("smoke", {})
    unknown = set(smoke.get("steps", {})) - set(doc["steps"])
    if unknown:
        raise ConfigError(
            f"{path}: smoke.steps: unknown step {sorted(unknown)} (steps: {list(doc['steps'])})"
        )
    if settings["smoke"]:
        doc = deep_merge(doc, smoke)
    _check_steps(doc, path)
    return doc


def _expand_sweeps(exp: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    variants = {name: {"per_method": {}, **v} for name, v in exp["variants"].items()}
    for sweep_name, sweep in exp.get("sweeps", {}).items():
        if sweep["base"] not in variants:
            raise ConfigError(
                f"{path}: sweeps.{sweep_name}.base: unknown variant {sweep['base']!r}; "
                f"use one of {sorted(variants)}"
            )
        base = variants[sweep["base"]]
        for value in sweep["values"]:
            name = sweep["name"].format(value=value)
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


def load_workflow_config(
    config: Mapping[str, Any], schema_dir: Path, source: str = "config"
) -> WorkflowConfig:
    """Validate ``config`` (the merged config.yaml + overrides) and everything it points to.

    ``schema_dir`` holds the ``*.schema.yaml`` files; ``source`` names the config in messages.
    Relative paths in the config are relative to the current directory (Snakemake's workdir).
    """
    schema = _schema(schema_dir, "config")
    # `methods: all` is allowed besides a list; the schema checks the list form
    raw = dict(config)
    validate({**raw, "methods": []} if raw.get("methods") == "all" else raw, schema, source)
    settings = deep_merge(DEFAULTS, raw)
    kind = settings["executor"]["kind"]
    if not settings["executor"][kind].get("python"):
        settings["executor"][kind]["python"] = DEFAULT_PYTHON[kind]

    methods_dir = Path(settings["methods_dir"])
    known = {p.stem: p for p in sorted(methods_dir.glob("*.yaml"))}
    exp_path = Path(settings["experiments"])
    experiments = read_yaml(exp_path)
    validate(experiments, _schema(schema_dir, "experiments"), exp_path)
    variants = _expand_sweeps(experiments, exp_path)
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
        validate(read_yaml(Path(settings["tables"])), read_yaml(tables_schema), settings["tables"])

    runs = _runs(settings, known, variants, source)
    used = sorted({r.method for r in runs})
    methods = {m: load_method(known[m], settings, schema_dir) for m in used}
    for run in runs:
        supported = methods[run.method].get("datasets", ["voc"])
        if run.dataset not in supported:
            raise ConfigError(
                f"{known[run.method]}: datasets: {run.dataset!r} is not supported "
                f"(only {supported}); remove it from the grid or add it to the method"
            )
    for method, variant, dataset in dict.fromkeys((r.method, r.variant, r.dataset) for r in runs):
        steps = methods[method]["steps"].values()
        used = templates.references([t for s in steps for _, t in _step_templates(s)], "param")
        missing = sorted(used - set(variant_params(methods[method], variant, dataset)))
        if missing:
            raise ConfigError(
                f"{known[method]}: variant_params: no value of {missing} for variant "
                f"{variant!r}; add them to `default` or to an entry whose pattern matches it "
                f"(or to dataset_params: {dataset!r} or `default`)"
            )
    smoke_data = settings["data"]["smoke"]["generate"]
    for dataset in sorted({r.dataset for r in runs}):
        if not smoke_data and dataset not in settings["data"]["roots"]:
            raise ConfigError(
                f"{source}: data.roots.{dataset}: missing; set it to the dataset's root folder "
                "(or enable data.smoke.generate)"
            )
    repos = {m: _repos(doc, known[m], settings) for m, doc in methods.items()}
    return WorkflowConfig(settings, methods, repos, variants, tuple(runs))
