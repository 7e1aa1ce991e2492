"""Run one step of one method x variant x seed, given its :class:`~hfpl.workflow.jobs.StepJob`
and an executor.

The job (built by :func:`hfpl.workflow.plan.step_job`) carries the rendered ``argv``, ``cwd``,
``env``, ``run_dir``, expected ``outputs`` (relative to the run dir), ``gpus``, ``checkouts``
(repo key -> checkout marker), ``read_only`` paths (bound read-only in containers), ``seed``,
the run dirs of the earlier steps it ``reads``, its ``did_work`` declaration and the job's
names. The runner, for as long as the workflow that started it lives
(:func:`hfpl.workflow.lifeline.dies_with_parent`):

1. checks the outputs of the steps it reads against their manifests' sha256 (a truncated or
   edited checkpoint is one line naming the file and the step to re-run, before anything runs),
2. empties the run dir (a rerun starts clean; the rule's log file is kept),
3. takes ``gpus`` device ids from the lock-based allocator and sets ``CUDA_VISIBLE_DEVICES``
   (``""`` for CPU steps, so that they never touch a GPU another job holds),
4. probes the step interpreter's versions and environment recipe, runs ``argv`` through the
   executor with the output streamed to the log, a private ``TMPDIR`` inside the run dir and
   ``PYTHONHASHSEED=seed``,
5. checks the exit status, the declared outputs and ``did_work`` (enough matching log lines:
   a training step that ran zero iterations exits 0 too), and only then writes
   ``manifest.json`` atomically, with the job's ``identity``, the ``dataset_digest`` and the
   sha256 of every output. A failure raises :class:`StepError` and leaves no manifest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfpl import __version__
from hfpl.io import sha256_file, write_json_atomic
from hfpl.workflow import layout, manifest, recipe
from hfpl.workflow.executors import Bind, Executor
from hfpl.workflow.gpus import allocate_gpus, cuda_visible_devices
from hfpl.workflow.jobs import StepJob
from hfpl.workflow.lifeline import dies_with_parent


class StepError(RuntimeError):
    """The step failed or did not produce its declared outputs."""


def _clean(run_dir: Path, keep: Path) -> None:
    """Remove everything in ``run_dir`` but ``keep`` (leftovers of a failed or killed run)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for entry in run_dir.iterdir():
        if entry.resolve() == keep.resolve():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _probe(executor: Executor, python: str, tmp: Path, binds: list, env: dict) -> dict[str, Any]:
    """:data:`~hfpl.workflow.manifest.PROBE` in the step's interpreter: versions and recipe."""
    out = tmp / "probe.json"
    argv = [python, "-c", manifest.PROBE, str(out)]
    code = executor.run(argv, cwd=tmp, env=env, binds=binds, log=tmp / "probe.log", gpus=0)
    if code != 0 or not out.exists():
        return {"error": f"probe exited with {code}: {(tmp / 'probe.log').read_text()[-300:]}"}
    info = json.loads(out.read_text())
    return {**info, "recipe": recipe.parse(info["recipe"])}


def output_digests(run_dir: Path, outputs: tuple[str, ...]) -> dict[str, list]:
    """``{relpath: [size, sha256]}`` of each declared output below ``run_dir``: the file, or
    every file inside a declared folder (paths relative to ``run_dir``, sorted)."""
    files = []
    for out in outputs:
        path = run_dir / out
        if path.is_dir():
            files += [Path(d) / n for d, _, names in os.walk(path) for n in names]
        else:
            files.append(path)
    return {
        f.relative_to(run_dir).as_posix(): [f.stat().st_size, sha256_file(f)] for f in sorted(files)
    }


def check_reads(job: StepJob) -> None:
    """The outputs of the earlier steps ``job`` reads are what their manifests recorded; else
    StepError naming the first missing, truncated or changed file and the step to re-run."""
    for step, step_dir in job.reads.items():
        path = Path(layout.manifest(step_dir))
        recorded = json.loads(path.read_text()).get("outputs", {})
        for rel, (size, digest) in recorded.items():
            file = Path(step_dir) / rel
            if not file.is_file():
                problem = "is missing"
            elif file.stat().st_size != size:
                problem = f"has {file.stat().st_size} bytes, step {step} wrote {size}"
            elif sha256_file(file) != digest:
                problem = f"changed since step {step} wrote it"
            else:
                continue
            raise StepError(
                f"input {file} of step {job.name} {problem}; re-run step {step}: delete {path} "
                "and run snakemake again"
            )


def _did_work(job: StepJob, log: Path, offset: int) -> None:
    """The step's log (what this run appended) has ``did_work.min_count`` lines matching
    ``did_work.log_regex``; else StepError."""
    if not job.did_work:
        return
    with open(log, "rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    regex, needed = job.did_work["log_regex"], job.did_work.get("min_count", 1)
    found = len(re.findall(regex, text, re.M))
    if found < needed:
        raise StepError(
            f"step {job.name} exited 0 but did no work: {found} log lines match {regex!r}, "
            f"it needs {needed} (too little data for one batch? fewer images than the batch "
            f"size?); see {log}"
        )


def run_step(job: StepJob, executor: Executor, log: Path) -> dict[str, Any]:
    """Run ``job`` (see module doc) for as long as the workflow that started it lives; return
    the manifest written to the run dir.

    Paths are bound at the same location inside containers, so the argv needs no translation.
    """
    with dies_with_parent():
        return _run(job, executor, Path(log))


def _run(job: StepJob, executor: Executor, log: Path) -> dict[str, Any]:
    run_dir = Path(job.run_dir)
    (run_dir / layout.MANIFEST).unlink(missing_ok=True)  # whatever fails below, nothing is done
    check_reads(job)
    _clean(run_dir, keep=log)
    tmp = run_dir / ".tmp"
    tmp.mkdir()
    binds = [Bind(Path(p), Path(p), True) for p in job.read_only]
    binds.append(Bind(run_dir, run_dir, False))
    repos = {key: json.loads(Path(m).read_text()) for key, m in job.checkouts.items()}
    seed = str(job.seed)
    argv = list(job.argv)
    with allocate_gpus(job.gpus, Path(job.gpu_lock_dir)) as gpu_ids:
        env = {
            **job.env,
            "CUDA_VISIBLE_DEVICES": cuda_visible_devices(gpu_ids),
            "TMPDIR": str(tmp),
            "PYTHONHASHSEED": seed,
            "HFPL_SEED": seed,
        }
        environment = _probe(executor, argv[0], tmp, binds, env)
        offset = log.stat().st_size if log.exists() else 0
        start, t0 = _now(), time.monotonic()
        code = executor.run(argv, cwd=Path(job.cwd), env=env, binds=binds, log=log, gpus=job.gpus)
        end, duration = _now(), time.monotonic() - t0
    if code != 0:
        raise StepError(f"step {job.name} failed with exit status {code}; see {log}")
    missing = [o for o in job.outputs if not (run_dir / o).exists()]
    if missing:
        raise StepError(
            f"step {job.name} exited 0 but did not write {missing} in {run_dir}; see {log}"
        )
    _did_work(job, log, offset)
    shutil.rmtree(tmp)
    data = {
        "dataset": job.dataset,
        "method": job.method,
        "variant": job.variant,
        "seed": job.seed,
        "step": job.step,
        "identity": job.identity,
        "dataset_digest": job.dataset_digest,
        "argv": argv,
        "cwd": job.cwd,
        "env": dict(job.env),
        "repos": repos,
        "executor": executor.describe(),
        "environment": environment,
        "host": manifest.host(gpu_ids),
        "start": start,
        "end": end,
        "duration_s": round(duration, 3),
        "exit_status": code,
        "hfpl_version": __version__,
        "outputs": output_digests(run_dir, job.outputs),
    }
    write_json_atomic(run_dir / layout.MANIFEST, data, default=str)
    return data
