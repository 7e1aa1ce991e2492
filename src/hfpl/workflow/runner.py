"""Run one step of one method x variant x seed, given its :class:`~hfpl.workflow.jobs.StepJob`
and an executor.

The job (built by :func:`hfpl.workflow.plan.step_job`) carries the rendered ``argv``, ``cwd``,
``env``, ``run_dir``, expected ``outputs`` (relative to the run dir), ``gpus``, ``checkouts``
(repo key -> checkout marker), ``read_only`` paths (bound read-only in containers), ``seed``
and the job's names. The runner:

1. empties the run dir (a rerun starts clean; the rule's log file is kept),
2. takes ``gpus`` device ids from the lock-based allocator and sets ``CUDA_VISIBLE_DEVICES``
   (``""`` for CPU steps, so that they never touch a GPU another job holds),
3. probes the step interpreter's versions, runs ``argv`` through the executor with the output
   streamed to the log, a private ``TMPDIR`` inside the run dir and ``PYTHONHASHSEED=seed``,
4. checks the exit status and the declared outputs, and only then writes ``manifest.json``
   atomically. A failure raises :class:`StepError` and leaves no manifest.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfpl import __version__
from hfpl.io import write_json_atomic
from hfpl.workflow import layout, manifest
from hfpl.workflow.executors import Bind, Executor
from hfpl.workflow.gpus import allocate_gpus, cuda_visible_devices
from hfpl.workflow.jobs import StepJob


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
    out = tmp / "probe.json"
    argv = [python, "-c", manifest.PROBE, str(out)]
    code = executor.run(argv, cwd=tmp, env=env, binds=binds, log=tmp / "probe.log", gpus=0)
    if code != 0 or not out.exists():
        return {"error": f"probe exited with {code}: {(tmp / 'probe.log').read_text()[-300:]}"}
    return json.loads(out.read_text())


def run_step(job: StepJob, executor: Executor, log: Path) -> dict[str, Any]:
    """Run ``job`` (see module doc); return the manifest written to the run dir.

    Paths are bound at the same location inside containers, so the argv needs no translation.
    """
    run_dir, log = Path(job.run_dir), Path(log)
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
    shutil.rmtree(tmp)
    data = {
        "dataset": job.dataset,
        "method": job.method,
        "variant": job.variant,
        "seed": job.seed,
        "step": job.step,
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
    }
    write_json_atomic(run_dir / layout.MANIFEST, data, default=str)
    return data
