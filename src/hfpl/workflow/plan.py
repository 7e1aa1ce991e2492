"""From a validated :class:`~hfpl.workflow.config.WorkflowConfig` to paths, inputs and jobs.

The Snakemake rules are thin: each input function and ``params`` value comes from here, so the
DAG logic is plain Python that the tests exercise directly. Paths are absolute (resolved against
the current directory, Snakemake's workdir) where a step will see them, relative otherwise.
The layout itself is :mod:`hfpl.workflow.layout`; the jobs are :mod:`hfpl.workflow.jobs`.

Data: a dataset's root is ``data.roots[dataset]`` (smoke: ``{data.smoke.root}/{dataset}``); it
is complete when its ``hfpl-dataset.json`` exists and checked against it (``hfpl data verify``)
before any step reads it: the verification's stamp is what steps wait for; a method's list
files are
``{data_root}/lists/{method}`` (``{lists}``); weights files are ``{weights_dir}/NAME`` (smoke:
``{data.smoke.root}/weights``, random-init stand-ins of each file's ``smoke`` architecture).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from hfpl.data.layout import MARKER
from hfpl.data.manifest import fingerprint
from hfpl.workflow import layout, templates
from hfpl.workflow.config import IMAGE_OPTION, Repo, Run, WorkflowConfig
from hfpl.workflow.jobs import CheckoutJob, StepJob
from hfpl.workflow.methods import DEFAULT_IMAGE
from hfpl.workflow.params import named_weights, run_templates, variant_params
from hfpl.workflow.resources import step_resources as resources_of
from hfpl.workflow.variants import flag_items


def _abs(path: str | Path) -> str:
    """``os.path.abspath``, memoised per working directory (the DAG asks for the same few
    checkout/data paths once per job)."""
    return _abs_in(os.getcwd(), os.fspath(path))


@functools.lru_cache(maxsize=65536)
def _abs_in(cwd: str, path: str) -> str:
    return os.path.normpath(os.path.join(cwd, path))


# ---- runs ------------------------------------------------------------------------------------


def runs_dir(cfg: WorkflowConfig) -> str:
    return f"{cfg.settings['results_dir']}/runs"


def run_dir(cfg: WorkflowConfig, run: Run, step: str) -> str:
    """Relative path of one step's run directory."""
    return layout.run_dir(runs_dir(cfg), run.dataset, run.method, run.variant, run.seed, step)


def manifest_path(cfg: WorkflowConfig, run: Run, step: str) -> str:
    """The step's completion marker (what Snakemake tracks)."""
    return layout.manifest(run_dir(cfg, run, step))


def metrics_path(cfg: WorkflowConfig, run: Run, step: str, evaluation: str) -> str:
    return layout.metrics(run_dir(cfg, run, step), evaluation)


# ---- checkouts -------------------------------------------------------------------------------


def checkout_dir(cfg: WorkflowConfig, repo: Repo) -> str:
    return layout.checkout_dir(cfg.settings["checkouts_dir"], repo.checkout_id)


def checkout_marker(cfg: WorkflowConfig, repo: Repo) -> str:
    return layout.checkout_marker(cfg.settings["checkouts_dir"], repo.checkout_id)


def checkouts(cfg: WorkflowConfig) -> dict[str, Repo]:
    """Every distinct checkout, by ``checkout_id`` (methods sharing a pinned tree share it)."""
    return {r.checkout_id: r for repos in cfg.repos.values() for r in repos.values()}


def checkout_job(cfg: WorkflowConfig, checkout_id: str) -> CheckoutJob:
    """The job of the checkout ``{owner}/{name}/{commit}-{tree_key}`` (no URL: see
    :func:`checkout_urls`)."""
    repo = checkouts(cfg)[checkout_id]
    return CheckoutJob(
        commit=repo.commit,
        patches=tuple(str(p) for p in repo.patches),
        sparse_exclude=repo.sparse_exclude,
        dest=checkout_dir(cfg, repo),
        marker=checkout_marker(cfg, repo),
    )


def checkout_urls(cfg: WorkflowConfig) -> dict[str, str]:
    """Checkout dest -> clone URL (``upstream.url_template``): handed to the checkout jobs
    through the environment (:data:`hfpl.workflow.jobs.CHECKOUT_URLS_ENV`), so that a new
    template or a mirror re-runs nothing."""
    return {checkout_dir(cfg, r): r.url for r in checkouts(cfg).values()}


# ---- data ------------------------------------------------------------------------------------


def _smoke(cfg: WorkflowConfig) -> dict[str, Any] | None:
    """``data.smoke`` when the steps run on generated smoke data, else None."""
    smoke = cfg.settings["data"]["smoke"]
    return smoke if smoke["generate"] else None


def datasets(cfg: WorkflowConfig) -> list[str]:
    """The datasets the configured runs use."""
    return sorted({run.dataset for run in cfg.runs})


def data_root(cfg: WorkflowConfig, dataset: str) -> str:
    smoke = _smoke(cfg)
    return f"{smoke['root']}/{dataset}" if smoke else cfg.settings["data"]["roots"][dataset]


def dataset_marker(cfg: WorkflowConfig, dataset: str) -> str:
    """The prepared dataset's completion marker (written last by `hfpl data` / `smoke-data`)."""
    return f"{data_root(cfg, dataset)}/{MARKER}"


def dataset_args(cfg: WorkflowConfig, dataset: str) -> list[str]:
    """``hfpl`` arguments that prepare ``dataset`` (real: `hfpl data DATASET`; smoke:
    `hfpl smoke-data --dataset DATASET` at the configured size)."""
    root = data_root(cfg, dataset)
    smoke = _smoke(cfg)
    if smoke is None:
        return ["data", dataset, "--root", root]
    sizes = [str(smoke[k]) for k in ("images", "size", "seed")]
    return ["smoke-data", "--dataset", dataset, "--out", root, "--images", sizes[0],
            "--size", sizes[1], "--seed", sizes[2]]  # fmt: skip


def verified_stamp(cfg: WorkflowConfig, dataset: str) -> str:
    """Written by the ``verify_data_<dataset>`` rule once ``hfpl data verify`` passed; every
    reader of the dataset waits for it (a changed dataset re-runs its readers)."""
    return f"{cfg.settings['results_dir']}/data/{dataset}.verified"


def dataset_fingerprint(cfg: WorkflowConfig, dataset: str) -> str:
    """:func:`hfpl.data.manifest.fingerprint` of the dataset (the verification's rerun
    trigger: it changes when any listed file's size or mtime does)."""
    return fingerprint(data_root(cfg, dataset))


def dataset_digest(cfg: WorkflowConfig, dataset: str) -> str:
    """The ``digest`` of the dataset's manifest, ``""`` before it is prepared."""
    path = Path(dataset_marker(cfg, dataset))
    try:
        st = path.stat()
    except FileNotFoundError:
        return ""
    return _manifest_digest(_abs(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _manifest_digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, encoding="utf-8") as fh:
        return str(json.load(fh)["digest"])


def lists_dir(cfg: WorkflowConfig, dataset: str, method: str) -> str:
    return layout.lists_dir(data_root(cfg, dataset), method)


def lists_targets(cfg: WorkflowConfig) -> list[tuple[str, str]]:
    """(dataset, method) of every lists folder the runs need (methods that declare lists)."""
    pairs = {(r.dataset, r.method) for r in cfg.runs}
    return sorted(p for p in pairs if p[0] in cfg.methods[p[1]].get("lists", {}))


def lists_spec(cfg: WorkflowConfig, dataset: str, method: str) -> str:
    """JSON of the method's ``lists[dataset]`` entries (`hfpl data lists --spec`)."""
    return json.dumps(cfg.methods[method]["lists"][dataset], sort_keys=True)


def weights_dir(cfg: WorkflowConfig) -> str:
    smoke = _smoke(cfg)
    return f"{smoke['root']}/weights" if smoke else cfg.settings["data"]["weights_dir"]


def weights_args(cfg: WorkflowConfig, name: str) -> list[str]:
    """``hfpl`` arguments that produce the weights file ``name`` (real: fetch/verify it with
    its declared facts; smoke: a random-init stand-in of its ``smoke`` architecture)."""
    facts = cfg.weights[name]
    smoke = _smoke(cfg)
    if smoke is None:
        spec = json.dumps(facts, sort_keys=True)
        return ["data", "weights", "--dir", weights_dir(cfg), "--spec", spec, name]
    out = f"{weights_dir(cfg)}/{name}"
    return ["data", "smoke-weights", "--arch", facts["smoke"], "--seed", str(smoke["seed"]),
            "--out", out]  # fmt: skip


def step_weights(cfg: WorkflowConfig, method: str, step: str) -> list[str]:
    """The declared weights files a step's templates name as ``{weights_dir}/NAME``."""
    doc = cfg.methods[method]
    return named_weights(doc["steps"][step], doc.get("weights", {}))


# ---- steps -----------------------------------------------------------------------------------


def python(cfg: WorkflowConfig) -> str:
    """The interpreter of steps (``executor.<kind>.python``), for the ``{python}`` placeholder."""
    executor = cfg.settings["executor"]
    return executor[executor["kind"]]["python"]


def flags(cfg: WorkflowConfig, method: str, variant: str, dataset: str | None = None) -> list[str]:
    """The variant's add-on flags for ``method`` on ``dataset`` as argv items
    (:func:`hfpl.workflow.variants.flag_items`)."""
    return flag_items(cfg.variants[variant], method, dataset)


def _values(cfg: WorkflowConfig, run: Run, step: str) -> dict[str, Any]:
    steps = cfg.methods[run.method]["steps"]
    # one abspath per run, not one per step: step names are plain (no '/', '..')
    run_root = _abs(run_dir(cfg, run, ""))
    root = _abs(data_root(cfg, run.dataset))
    return {
        "python": python(cfg),
        "run_dir": f"{run_root}/{step}",
        "data_root": root,
        "lists": layout.lists_dir(root, run.method),
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


def step_inputs(cfg: WorkflowConfig, run: Run, step: str) -> list[str]:
    """Snakemake inputs of one step: checkout markers, earlier steps' manifests, the dataset's
    verification stamp, the method's lists folder (if the step uses ``{lists}``), every
    declared weights file the step names, and the method's declared ``inputs`` (real data
    only: smoke data appears with its marker)."""
    spec = cfg.methods[run.method]["steps"][step]
    used = run_templates(spec)
    repos = cfg.repos[run.method]
    inputs = [
        checkout_marker(cfg, repos[k]) for k in sorted(templates.references(used, "checkout"))
    ]
    inputs += [manifest_path(cfg, run, s) for s in sorted(templates.references(used, "step_dir"))]
    inputs.append(verified_stamp(cfg, run.dataset))
    if any(n == "lists" for t in used if t != templates.FLAGS for n, _ in templates.fields(t)):
        inputs.append(lists_dir(cfg, run.dataset, run.method))
    inputs += [f"{weights_dir(cfg)}/{name}" for name in step_weights(cfg, run.method, step)]
    if _smoke(cfg) is None:
        values = _values(cfg, run, step)
        for template in spec.get("inputs", []):
            if not templates.references([template], "step_dir"):
                inputs.append(templates.render(template, values))
    return inputs


def step_resources(cfg: WorkflowConfig, method: str, step: str, dataset: str) -> dict[str, int]:
    """``gpu``, ``mem_mb``, ``runtime`` (minutes) and ``threads`` of a step on ``dataset``
    (:func:`hfpl.workflow.resources.step_resources`: defaults, ``resources``, ``per_dataset``).
    Scheduler requests, not identity: only ``gpu`` reaches the job (how many devices to take)."""
    return resources_of(cfg.methods[method]["steps"][step], dataset)


def gpu_steps(cfg: WorkflowConfig) -> dict[tuple[str, str, str], dict[str, int]]:
    """``(method, step, dataset)`` -> resources of every configured step that asks for a GPU
    (``resources.gpu > 0`` on that dataset), in run order."""
    out = {}
    for method, dataset in dict.fromkeys((r.method, r.dataset) for r in cfg.runs):
        for step in cfg.methods[method]["steps"]:
            res = step_resources(cfg, method, step, dataset)
            if res["gpu"]:
                out[(method, step, dataset)] = res
    return out


def preflight_marker(cfg: WorkflowConfig) -> str:
    """What the ``preflight`` rule writes once ``hfpl preflight`` passed (the checked facts)."""
    return f"{cfg.settings['results_dir']}/preflight.json"


def runs_preflight(cfg: WorkflowConfig, gpus_given: bool) -> bool:
    """Whether the run starts with the ``preflight`` job (config ``preflight``): true (YAML's
    ``on``), false (``off``), or ``auto``: when a configured step asks for a GPU and the
    scheduler gives GPUs (``gpus_given``: Snakemake's ``gpu`` resource is not 0, as
    ``--resources gpu=0`` of the CPU smoke profile sets it)."""
    mode = cfg.settings["preflight"]
    if mode == "auto":
        return gpus_given and bool(gpu_steps(cfg))
    return bool(mode)


def preflight_gpus(cfg: WorkflowConfig) -> int:
    """GPUs the ``preflight`` job asks for: as many as the largest GPU step (at least 1), so
    that it sees a node such as those steps get."""
    return max([1, *(res["gpu"] for res in gpu_steps(cfg).values())])


def executor_options(cfg: WorkflowConfig, method: str, network: bool) -> dict[str, Any]:
    """``make_executor`` options of a step of ``method``: the configured ones with the image
    template filled with the method's ``image``; containers get no ``python`` option (the
    image's interpreter is in the argv already), docker steps that need the network get the
    ``bridge`` network."""
    executor = cfg.settings["executor"]
    kind = executor["kind"]
    options = dict(executor[kind])
    if IMAGE_OPTION in options:
        image = cfg.methods[method].get("image", DEFAULT_IMAGE)
        options[IMAGE_OPTION] = str(options[IMAGE_OPTION]).format(image=image)
    if kind != "local":
        options.pop("python", None)
    if kind == "docker" and network:
        options["network"] = "bridge"
    return options


def step_job(cfg: WorkflowConfig, run: Run, step: str) -> StepJob:
    """Everything the runner needs for one step of one run (see :mod:`.runner`)."""
    spec = cfg.methods[run.method]["steps"][step]
    values = _values(cfg, run, step)
    repos = cfg.repos[run.method]
    used = run_templates(spec)
    checkout_keys = sorted(templates.references(used, "checkout"))
    ro_paths = [values["checkout"][k] for k in checkout_keys]
    ro_paths += [values["data_root"], values["weights_dir"]]
    ro_paths += [values["step_dir"][s] for s in sorted(templates.references(used, "step_dir"))]
    argv = spec["argv"] + ([templates.FLAGS] if _appends_flags(spec) else [])
    return StepJob(
        dataset=run.dataset,
        method=run.method,
        variant=run.variant,
        seed=run.seed,
        step=step,
        argv=tuple(
            templates.render_argv(argv, values, flags(cfg, run.method, run.variant, run.dataset))
        ),
        cwd=templates.render(spec.get("cwd", "{run_dir}"), values),
        env={k: templates.render(str(v), values) for k, v in spec.get("env", {}).items()},
        run_dir=values["run_dir"],
        outputs=tuple(templates.render(o, values) for o in spec.get("outputs", [])),
        gpus=step_resources(cfg, run.method, step, run.dataset)["gpu"],
        executor=cfg.settings["executor"]["kind"],
        executor_options=executor_options(cfg, run.method, bool(spec.get("network", False))),
        gpu_lock_dir=_abs(cfg.settings["gpu_lock_dir"]),
        checkouts={k: _abs(checkout_marker(cfg, repos[k])) for k in checkout_keys},
        read_only=tuple(ro_paths),
        dataset_digest=dataset_digest(cfg, run.dataset),
        reads={s: values["step_dir"][s] for s in sorted(templates.references(used, "step_dir"))},
        did_work=spec.get("did_work", {}),
        weights={name: _weights_digest(cfg, name) for name in step_weights(cfg, run.method, step)},
    )


def _weights_digest(cfg: WorkflowConfig, name: str) -> str:
    """sha256 of a weights file's declared facts (checksums, smoke architecture; with smoke
    data also the stand-in's seed): what the file is, without reading it."""
    smoke = _smoke(cfg)
    facts = {"facts": cfg.weights[name], "smoke_seed": smoke["seed"] if smoke else None}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


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
        templates.render(str(ev["num_classes"]), values),
        "--quiet",
    ]
    if "bg_threshold" in ev:
        argv += ["--bg-threshold", str(ev["bg_threshold"])]
    if "sweep" in ev:
        argv += ["--sweep", ev["sweep"]]
    if "upstream_log" in ev:
        up = ev["upstream_log"]
        # the score file the upstream script wrote, or the step's log
        default_log = layout.log(run_dir(cfg, run, step))
        log = templates.render(up["file"], values) if "file" in up else default_log
        argv += ["--upstream-log", log, "--upstream-regex", up["regex"],
                 "--upstream-convention", up["convention"]]  # fmt: skip
        if "scale" in up:
            argv += ["--upstream-scale", str(up["scale"])]
    return [*argv, "--out", metrics_path(cfg, run, step, evaluation)]


def targets(cfg: WorkflowConfig) -> list[str]:
    """Every step manifest and every evaluation of every run (the tables' inputs)."""
    out = []
    for run in cfg.runs:
        for step, spec in cfg.methods[run.method]["steps"].items():
            out.append(manifest_path(cfg, run, step))
            out += [metrics_path(cfg, run, step, ev) for ev in spec.get("evaluations", {})]
    return out


def identities(cfg: WorkflowConfig) -> list[dict[str, Any]]:
    """``{dataset, method, variant, seed, step, identity}`` of every expected step: the
    :attr:`~hfpl.workflow.jobs.StepJob.identity` the current configuration (and prepared
    dataset) gives it; a ``manifest.json`` with another ``identity`` is stale."""
    return [
        {**vars(run), "step": step, "identity": step_job(cfg, run, step).identity}
        for run in cfg.runs
        for step in cfg.methods[run.method]["steps"]
    ]


def _repo_identity(repo: Repo) -> dict[str, Any]:
    facts = {k: v for k, v in vars(repo).items() if k != "url"}
    return {**facts, "patches": [str(p) for p in repo.patches]}


def resolved(cfg: WorkflowConfig) -> dict[str, Any]:
    """The whole validated configuration as JSON-serialisable data (for ``hfpl tables``), with
    the expected :func:`identities`. Where checkouts are cloned from (``upstream``, each repo's
    URL) is left out: provenance, not identity (a mirror re-runs nothing)."""
    return {
        "settings": {k: v for k, v in cfg.settings.items() if k != "upstream"},
        "methods": cfg.methods,
        "repos": {
            m: {k: _repo_identity(r) for k, r in repos.items()} for m, repos in cfg.repos.items()
        },
        "variants": cfg.variants,
        "runs": [vars(r) for r in cfg.runs],
        "weights": cfg.weights,
        "identities": identities(cfg),
    }
