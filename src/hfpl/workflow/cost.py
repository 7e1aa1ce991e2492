"""What a reproduction costs before anything runs: jobs and GPU-hours per table/figure target.

Per step and dataset, a method YAML declares ``resources`` (the SLURM request) and ``estimate``
(``gpu_hours`` of one run of the step, with its source beside the number):
:mod:`hfpl.workflow.resources`.

A target (a key of ``config/tables.yaml``'s ``tables`` or ``figures``) needs, per row's method,
the runs of its dataset x variants x seeds and, per run, the step holding its evaluation (the
method's ``final_protocol`` one too) and every step that one reads (``{step_dir[...]}``):
Table 1 (CAMs on train) needs SEAM's train_cam and infer_cam_train only. A job's GPU-hours are,
in this order: the mean of what the manifests of finished runs recorded (``duration_s`` x GPU
count, GPU steps that ran on GPUs only), the YAML estimate, or ``runtime`` x ``gpu`` (the
request: an upper bound).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfpl.workflow import templates
from hfpl.workflow.params import run_templates
from hfpl.workflow.resources import step_estimate, step_resources

SOURCES = ("measured", "estimate", "request", "cpu")  # where a job's GPU-hours came from


def reads(spec: Mapping[str, Any]) -> set[str]:
    """The earlier steps whose run dirs a step's templates name (``{step_dir[STEP]}``)."""
    return templates.references(run_templates(dict(spec)), "step_dir")


def needed_steps(method: Mapping[str, Any], evaluations: Iterable[str]) -> list[str]:
    """The steps (in the method's order) that ``evaluations`` need: each evaluation's step and,
    transitively, every step it reads. An evaluation no step declares is a ValueError."""
    steps = method["steps"]
    owner = {ev: name for name, s in steps.items() for ev in s.get("evaluations", {})}
    todo = []
    for ev in evaluations:
        if ev not in owner:
            raise ValueError(f"no step declares evaluation {ev!r} (evaluations: {sorted(owner)})")
        todo.append(owner[ev])
    needed: set[str] = set()
    while todo:
        step = todo.pop()
        if step not in needed:
            needed.add(step)
            todo += sorted(reads(steps[step]))
    return [s for s in steps if s in needed]


@dataclass(frozen=True)
class Job:
    """One step of one run a target needs."""

    dataset: str
    method: str
    variant: str
    seed: int
    step: str


@dataclass
class Cost:
    """A target's jobs with their GPU-hours and where each number came from.

    ``skipped``: rows/variants that cannot be planned (method not in config/methods, variant
    not in the experiments, a study figure), each with why."""

    target: str
    jobs: dict[Job, tuple[float, str]] = field(default_factory=dict)  # -> (GPU-hours, source)
    skipped: list[str] = field(default_factory=list)

    @property
    def gpu_hours(self) -> float:
        return sum(h for h, _ in self.jobs.values())

    @property
    def gpu_jobs(self) -> int:
        return sum(1 for h, _ in self.jobs.values() if h > 0)

    def by_source(self) -> dict[str, int]:
        return {s: sum(1 for _, src in self.jobs.values() if src == s) for s in SOURCES}


def target_variants(entry: Mapping[str, Any]) -> list[str]:
    """The variants a table (``variants``) or figure (``from_variant``/``to_variant``, the
    series of its ``panels``) shows."""
    out = list(entry.get("variants", []))
    out += [entry[k] for k in ("from_variant", "to_variant") if k in entry]
    for panel in entry.get("panels", []):
        for series in panel.get("series", []):
            out += list(series.get("variants", {}))
    return list(dict.fromkeys(out))


def targets(tables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every table and figure of ``config/tables.yaml`` by key."""
    return {**tables.get("tables", {}), **tables.get("figures", {})}


def measured_hours(runs_dir: Path) -> dict[tuple[str, str, str], list[float]]:
    """GPU-hours that finished GPU steps recorded, by (dataset, method, step): ``duration_s`` x
    the GPU ids the step held, from every ``manifest.json`` below ``runs_dir`` (steps that ran
    without a GPU, e.g. CPU smoke runs, are left out)."""
    out: dict[tuple[str, str, str], list[float]] = {}
    for path in sorted(Path(runs_dir).glob("*/*/*/*/*/manifest.json")):
        try:
            data = json.loads(path.read_text())
            gpus = len(data.get("host", {}).get("gpu_ids") or [])
            key = (data["dataset"], data["method"], data["step"])
            hours = float(data["duration_s"]) / 3600 * gpus
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if gpus:
            out.setdefault(key, []).append(hours)
    return out


def job_hours(
    spec: Mapping[str, Any], job: Job, measured: Mapping[tuple[str, str, str], list[float]]
) -> tuple[float, str]:
    """(GPU-hours, source) of one job: measured mean, else the estimate, else the request."""
    res = step_resources(spec, job.dataset)
    if not res["gpu"]:
        return 0.0, "cpu"
    seen = measured.get((job.dataset, job.method, job.step))
    if seen:
        return sum(seen) / len(seen), "measured"
    est = step_estimate(spec, job.dataset)
    if "gpu_hours" in est:
        return float(est["gpu_hours"]), "estimate"
    return res["runtime"] / 60 * res["gpu"], "request"


def target_cost(
    name: str,
    entry: Mapping[str, Any],
    methods: Mapping[str, Mapping[str, Any]],
    variants: Iterable[str],
    default_seeds: list[int],
    rows: Mapping[str, Mapping[str, Any]],
    measured: Mapping[tuple[str, str, str], list[float]],
) -> Cost:
    """The :class:`Cost` of one table/figure ``entry`` of config/tables.yaml.

    ``methods``: method name -> document of the configured methods (config ``methods``);
    ``variants``: the defined variant names; ``rows``: tables.yaml's ``rows``."""
    cost = Cost(name)
    if entry.get("study"):
        cost.skipped.append("study figure: `hfpl tables --study` computes it (CPU, no runs)")
        return cost
    known = set(variants)
    wanted = target_variants(entry)
    for v in wanted:
        if v not in known:
            cost.skipped.append(f"variant {v}: not in the experiments")
    seeds = entry.get("seeds", default_seeds)
    for row in entry.get("rows", []):
        method = rows.get(row, {}).get("method", row)
        if method not in methods:
            cost.skipped.append(f"row {row}: {method} is not a configured method (`methods`)")
            continue
        doc = methods[method]
        ev = entry.get("evaluation_by_row", {}).get(row, entry["evaluation"])
        evs = list(dict.fromkeys([ev, doc.get("final_protocol", {}).get(ev, ev)]))
        if entry["dataset"] not in doc.get("datasets", ["voc"]):
            cost.skipped.append(f"row {row}: {method} does not run on {entry['dataset']}")
            continue
        for step in needed_steps(doc, evs):
            for variant in (v for v in wanted if v in known):
                for seed in seeds:
                    job = Job(entry["dataset"], method, variant, seed, step)
                    cost.jobs[job] = job_hours(doc["steps"][step], job, measured)
    return cost


def total(costs: Iterable[Cost]) -> Cost:
    """All targets together: a job two targets share is counted once."""
    out = Cost("all")
    for cost in costs:
        out.jobs.update(cost.jobs)
    return out


def render(costs: list[Cost]) -> str:
    """The preview as a plain-text table (one line per target, then the distinct total)."""
    lines = [f"{'target':<14} {'jobs':>6} {'GPU jobs':>9} {'GPU-hours':>10}  from"]
    rows = costs + ([total(costs)] if len(costs) > 1 else [])
    for cost in rows:
        src = ", ".join(f"{s} {n}" for s, n in cost.by_source().items() if n)
        lines.append(f"{cost.target:<14} {len(cost.jobs):>6} {cost.gpu_jobs:>9} "
                     f"{cost.gpu_hours:>10.1f}  {src or '-'}")  # fmt: skip
    for cost in costs:
        steps: dict[str, list[str]] = {}
        for job in cost.jobs:
            steps.setdefault(f"{job.dataset}/{job.method}", [])
            if job.step not in steps[f"{job.dataset}/{job.method}"]:
                steps[f"{job.dataset}/{job.method}"].append(job.step)
        for key, names in steps.items():
            lines.append(f"  {cost.target}: {key}: {', '.join(names)}")
        lines += [f"  {cost.target}: skipped {why}" for why in cost.skipped]
    lines.append(
        "GPU-hours: measured = mean of the manifests' duration x GPUs; estimate = the method "
        "YAML's estimate.gpu_hours; request = resources.runtime x gpu (an upper bound); cpu = "
        "no GPU"
    )
    return "\n".join(lines)
