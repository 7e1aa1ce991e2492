"""From a validated :class:`~hfpl.workflow.config.WorkflowConfig` to paths, inputs and job specs.

The Snakemake rules are thin: each input function and ``params`` value comes from here, so the
DAG logic is plain Python that the tests exercise directly. Paths are absolute (resolved against
the current directory, Snakemake's workdir) where a step will see them, relative otherwise.

Layout (``R`` = ``results_dir``)::

    R/runs/{dataset}/{method}/{variant}/seed{seed}/{step}/       outputs, manifest.json, log.txt
    R/runs/.../{step}/metrics/{evaluation}.json                  evaluator output
    {checkouts_dir}/{owner}/{name}/{commit}-{tree_key}/          read-only patched tree
    {checkouts_dir}/{owner}/{name}/{commit}-{tree_key}.json      its completion marker
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from hfpl.data.layout import DATASET_INPUTS
from hfpl.workflow import templates
from hfpl.workflow.config import Repo, Run, WorkflowConfig, variant_params

MANIFEST = "manifest.json"


def _abs(path: str | Path) -> str:
    """``os.path.abspath``, memoised per working directory (the DAG asks for the same few
    checkout/data paths once per job)."""
    return _abs_in(os.getcwd(), os.fspath(path))


@functools.lru_cache(maxsize=65536)
def _abs_in(cwd: str, path: str) -> str:
    return os.path.normpath(os.path.join(cwd, path))


def run_dir(cfg: WorkflowConfig, run: Run, step: str) -> str:
    """Relative path of one step's run directory."""
    return (
        f"{cfg.settings['results_dir']}/runs/{run.dataset}/{run.method}/{run.variant}/"
        f"seed{run.seed}/{step}"
    )


def manifest_path(cfg: WorkflowConfig, run: Run, step: str) -> str:
    """The step's completion marker (what Snakemake tracks)."""
    return f"{run_dir(cfg, run, step)}/{MANIFEST}"


def metrics_path(cfg: WorkflowConfig, run: Run, step: str, evaluation: str) -> str:
    return f"{run_dir(cfg, run, step)}/metrics/{evaluation}.json"


def checkout_dir(cfg: WorkflowConfig, repo: Repo) -> str:
    return f"{cfg.settings['checkouts_dir']}/{repo.checkout_id}"


def checkout_marker(cfg: WorkflowConfig, repo: Repo) -> str:
    return checkout_dir(cfg, repo) + ".json"


def checkouts(cfg: WorkflowConfig) -> dict[str, Repo]:
    """Every distinct checkout, by ``checkout_id`` (methods sharing a pinned tree share it)."""
    return {r.checkout_id: r for repos in cfg.repos.values() for r in repos.values()}


def smoke_data_marker(cfg: WorkflowConfig) -> str:
    return f"{cfg.settings['data']['smoke']['root']}/complete.json"


def smoke_data_args(cfg: WorkflowConfig) -> list[str]:
    """Arguments of ``hfpl smoke-data`` for the configured runs: the VOC tree always (the default
    smoke set), plus ``--dataset NAME`` of every other dataset a run uses (e.g. ``coco``).

    One call writes them all: VOC's list writer replaces ``lists/`` whole, so a second call for
    VOC alone would drop COCO's lists (smoke-data orders VOC first itself).
    """
    smoke = cfg.settings["data"]["smoke"]
    used = {run.dataset for run in cfg.runs}
    datasets = ["voc", *sorted(used - {"voc"})]
    args = ["--out", data_root(cfg, "voc")]
    args += [item for dataset in datasets for item in ("--dataset", dataset)]
    args += ["--images", str(smoke["images"]), "--size", str(smoke["size"])]
    return [*args, "--seed", str(smoke["seed"]), "--weights-out", weights_dir(cfg)]


def data_root(cfg: WorkflowConfig, dataset: str) -> str:
    data = cfg.settings["data"]
    if data["smoke"]["generate"]:
        return f"{data['smoke']['root']}/data"
    return data["roots"][dataset]


def weights_dir(cfg: WorkflowConfig) -> str:
    data = cfg.settings["data"]
    return f"{data['smoke']['root']}/weights" if data["smoke"]["generate"] else data["weights_dir"]


def python(cfg: WorkflowConfig) -> str:
    """The interpreter of steps (``executor.<kind>.python``), for the ``{python}`` placeholder."""
    executor = cfg.settings["executor"]
    return executor[executor["kind"]]["python"]


def flags(cfg: WorkflowConfig, method: str, variant: str, dataset: str | None = None) -> list[str]:
    """The variant's add-on flags for ``method`` as argv items: ``per_method[method]`` values
    override ``flags``, and ``per_method["method@dataset"]`` values override both on that
    dataset."""
    spec = cfg.variants[variant]
    per = spec["per_method"]
    merged = {**spec["flags"], **per.get(method, {}), **per.get(f"{method}@{dataset}", {})}
    return [item for flag, value in merged.items() for item in (flag, str(value))]


def _values(cfg: WorkflowConfig, run: Run, step: str) -> dict[str, Any]:
    steps = cfg.methods[run.method]["steps"]
    # one abspath per run, not one per step: step names are plain (no '/', '..')
    run_root = _abs(run_dir(cfg, run, ""))
    return {
        "python": python(cfg),
        "run_dir": f"{run_root}/{step}",
        "data_root": _abs(data_root(cfg, run.dataset)),
        "weights_dir": _abs(weights_dir(cfg)),
        "seed": run.seed,
        "dataset": run.dataset,
        "method": run.method,
        "variant": run.variant,
        "step": step,
        "checkout": {k: _abs(checkout_dir(cfg, r)) for k, r in cfg.repos[run.method].items()},
        "step_dir": {s: f"{run_root}/{s}" for s in steps},
        "param": variant_params(cfg.methods[run.method], run.variant, run.dataset),
    }


def _templates(spec: dict[str, Any]) -> list[str]:
    """Every template of a step (argv, cwd, inputs, env values)."""
    env = [str(v) for v in spec.get("env", {}).values()]
    return [*spec["argv"], spec.get("cwd", ""), *spec.get("inputs", []), *env]


def step_inputs(cfg: WorkflowConfig, run: Run, step: str) -> list[str]:
    """Snakemake inputs of one step: checkout markers, earlier steps' manifests, data files.

    With generated smoke data, the data/weights inputs are replaced by the generator's marker.
    Otherwise the step waits for its dataset (`data_inputs`), for every weights file its argv
    names as ``{weights_dir}/NAME`` (fetched or checked by the `data_weights` rule), and for
    the method's declared ``inputs``.
    """
    spec = cfg.methods[run.method]["steps"][step]
    used = _templates(spec)
    repos = cfg.repos[run.method]
    inputs = [
        checkout_marker(cfg, repos[k]) for k in sorted(templates.references(used, "checkout"))
    ]
    inputs += [manifest_path(cfg, run, s) for s in sorted(templates.references(used, "step_dir"))]
    if cfg.settings["data"]["smoke"]["generate"]:
        return [*inputs, smoke_data_marker(cfg)]
    inputs += data_inputs(cfg, run.dataset)
    prefix = "{weights_dir}/"
    inputs += [
        weights_dir(cfg) + a[len(prefix) - 1 :] for a in spec["argv"] if a.startswith(prefix)
    ]
    values = _values(cfg, run, step)
    for template in spec.get("inputs", []):
        if not templates.references([template], "step_dir"):
            inputs.append(templates.render(template, values))
    return inputs


def data_inputs(cfg: WorkflowConfig, dataset: str) -> list[str]:
    """The prepared dataset's completion marker(s) below its data root (see hfpl.data.layout)."""
    return [f"{data_root(cfg, dataset)}/{path}" for path in DATASET_INPUTS.get(dataset, ())]


def step_resources(cfg: WorkflowConfig, method: str, step: str) -> dict[str, int]:
    """``gpu``, ``mem_mb``, ``runtime`` (minutes) and ``threads`` with their defaults."""
    defaults = {"gpu": 0, "mem_mb": 4000, "runtime": 60, "threads": 1}
    return {**defaults, **cfg.methods[method]["steps"][step].get("resources", {})}


def step_spec(cfg: WorkflowConfig, run: Run, step: str) -> dict[str, Any]:
    """Everything the runner needs for one job, JSON-serialisable (see :mod:`.runner`)."""
    spec = cfg.methods[run.method]["steps"][step]
    values = _values(cfg, run, step)
    repos = cfg.repos[run.method]
    used = _templates(spec)
    checkout_keys = sorted(templates.references(used, "checkout"))
    ro_paths = [values["checkout"][k] for k in checkout_keys]
    ro_paths += [values["data_root"], values["weights_dir"]]
    ro_paths += [values["step_dir"][s] for s in sorted(templates.references(used, "step_dir"))]
    executor = cfg.settings["executor"]
    return {
        "dataset": run.dataset,
        "method": run.method,
        "variant": run.variant,
        "seed": run.seed,
        "step": step,
        "argv": templates.render_argv(
            spec["argv"] + ([templates.FLAGS] if _appends_flags(spec) else []),
            values,
            flags(cfg, run.method, run.variant, run.dataset),
        ),
        "cwd": templates.render(spec.get("cwd", "{run_dir}"), values),
        "env": {k: templates.render(str(v), values) for k, v in spec.get("env", {}).items()},
        "run_dir": values["run_dir"],
        "outputs": [templates.render(o, values) for o in spec.get("outputs", [])],
        "gpus": step_resources(cfg, run.method, step)["gpu"],
        "network": bool(spec.get("network", False)),
        "executor": {"kind": executor["kind"], "options": executor[executor["kind"]]},
        "gpu_lock_dir": _abs(cfg.settings["gpu_lock_dir"]),
        "checkouts": {k: _abs(checkout_marker(cfg, repos[k])) for k in checkout_keys},
        "read_only": ro_paths,
    }


def _appends_flags(spec: dict[str, Any]) -> bool:
    return bool(spec.get("takes_flags")) and templates.FLAGS not in spec["argv"]


def evaluation_argv(cfg: WorkflowConfig, run: Run, step: str, evaluation: str) -> list[str]:
    """Arguments of ``hfpl eval`` (after the subcommand) for one evaluation of a step."""
    ev = cfg.methods[run.method]["steps"][step]["evaluations"][evaluation]
    values = _values(cfg, run, step)
    argv = [
        item
        for key in ("pred", "gt", "list")
        for item in (f"--{key}", templates.render(ev[key], values))
    ]
    argv += [
        "--format",
        ev["format"],
        "--num-classes",
        templates.render(str(ev.get("num_classes", 21)), values),
        "--quiet",
    ]
    if "bg_threshold" in ev:
        argv += ["--bg-threshold", str(ev["bg_threshold"])]
    if "sweep" in ev:
        argv += ["--sweep", ev["sweep"]]
    return [*argv, "--out", metrics_path(cfg, run, step, evaluation)]


def targets(cfg: WorkflowConfig) -> list[str]:
    """Every step manifest and every evaluation of every run (the tables' inputs)."""
    out = []
    for run in cfg.runs:
        for step, spec in cfg.methods[run.method]["steps"].items():
            out.append(manifest_path(cfg, run, step))
            out += [metrics_path(cfg, run, step, ev) for ev in spec.get("evaluations", {})]
    return out


def resolved(cfg: WorkflowConfig) -> dict[str, Any]:
    """The whole validated configuration as JSON-serialisable data (for ``hfpl tables``)."""
    return {
        "settings": cfg.settings,
        "methods": cfg.methods,
        "repos": {
            m: {k: {**vars(r), "patches": [str(p) for p in r.patches]} for k, r in repos.items()}
            for m, repos in cfg.repos.items()
        },
        "variants": cfg.variants,
        "runs": [vars(r) for r in cfg.runs],
    }
