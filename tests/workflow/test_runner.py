"""hfpl.workflow.runner with the real local executor: argv, seed/flags, logs, manifest, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import fixture_project
import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config
from hfpl.workflow.executors import make_executor
from hfpl.workflow.jobs import StepJob
from hfpl.workflow.runner import StepError, run_step

# a "step": records its argv and environment, prints to stdout/stderr, writes `out/`, and exits
# with the status given by the env var STEP_EXIT (writing nothing when WRITE=0)
STEP = """
import json, os, sys
print("hello from the step", flush=True)
print("a warning", file=sys.stderr, flush=True)
if os.environ.get("WRITE", "1") == "1":
    os.makedirs("out", exist_ok=True)
    keys = ("HFPL_SEED", "PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES", "TMPDIR", "EXTRA")
    record = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": {k: os.environ.get(k) for k in keys}}
    with open("out/record.json", "w") as fh:
        json.dump(record, fh)
sys.exit(int(os.environ.get("STEP_EXIT", "0")))
"""


@pytest.fixture(scope="module")
def executor():
    return make_executor("local")


def _job(tmp: Path, *, args: list[str] = (), env: dict | None = None, marker=None) -> StepJob:
    script = tmp / "step.py"
    script.write_text(STEP)
    run_dir = tmp / "results/runs/voc/m/v/seed3/train"
    checkouts = {}
    if marker is not None:
        checkouts = {"A": str(marker)}
    return StepJob(
        dataset="voc", method="m", variant="v", seed=3, step="train",
        argv=(sys.executable, str(script), *args), cwd=str(run_dir),
        env={"EXTRA": "x", **(env or {})}, run_dir=str(run_dir), outputs=("out",),
        gpus=0, executor="local", gpu_lock_dir=str(tmp / "locks"), checkouts=checkouts,
    )  # fmt: skip


def _record(job: StepJob) -> dict:
    return json.loads((Path(job.run_dir) / "out/record.json").read_text())


def test_argv_items_reach_the_program_unsplit_and_unexpanded(tmp_path, executor) -> None:
    args = ["two words", "a; echo injected", "$HOME", "*", "{run_dir}", ""]
    job = _job(tmp_path, args=args)
    log = Path(job.run_dir) / "log.txt"
    manifest = run_step(job, executor, log)
    assert _record(job)["argv"] == args
    assert manifest["argv"] == list(job.argv)
    assert json.loads((Path(job.run_dir) / "manifest.json").read_text()) == manifest


def test_seed_environment_and_private_tmpdir(tmp_path, executor) -> None:
    job = _job(tmp_path)
    run_step(job, executor, Path(job.run_dir) / "log.txt")
    env = _record(job)["env"]
    assert env["HFPL_SEED"] == env["PYTHONHASHSEED"] == "3"
    assert env["CUDA_VISIBLE_DEVICES"] == ""  # a CPU step never sees another job's GPU
    assert env["EXTRA"] == "x"
    assert env["TMPDIR"] == str(Path(job.run_dir) / ".tmp")
    assert not (Path(job.run_dir) / ".tmp").exists()  # removed after success


def test_plan_puts_seed_and_variant_flags_into_the_argv(tmp_path, monkeypatch, executor) -> None:
    """From the fixture method's templates (in a workdir with a space) to the program's argv."""
    workdir = tmp_path / "work dir"
    ignore = shutil.ignore_patterns("upstream", "*.py*")
    shutil.copytree(fixture_project.HERE, workdir / "fixture", ignore=ignore)
    monkeypatch.chdir(workdir)
    config = yaml.safe_load((fixture_project.HERE / "config.yaml").read_text())
    cfg = load_workflow_config(config, fixture_project.ROOT / "workflow/schemas")
    step = plan.step_job(cfg, Run("voc", "fixture", "isl", 1), "cams")
    assert step.argv[-4:] == ("--seed", "1", "--hfpl-isl-weight", "1.0")
    out = os.path.abspath("results/runs/voc/fixture/isl/seed1/cams/cams")
    assert step.argv[step.argv.index("--out") + 1] == out  # one item, space and all
    # run those very arguments through the runner
    ours = _job(tmp_path, args=list(step.argv[2:]))
    run_step(ours, executor, Path(ours.run_dir) / "log.txt")
    assert _record(ours)["argv"] == list(step.argv[2:])


def test_output_is_streamed_to_the_log(tmp_path, executor, capfd) -> None:
    job = _job(tmp_path)
    log = Path(job.run_dir) / "log.txt"
    run_step(job, executor, log)
    text = log.read_text()
    assert "hello from the step" in text and "a warning" in text
    assert "hello from the step" in capfd.readouterr().out  # also shown live by Snakemake


def test_manifest_holds_the_provenance(tmp_path, executor) -> None:
    marker = tmp_path / "checkout.json"
    marker.write_text(json.dumps({"url": "u", "commit": "c" * 40, "patches": []}))
    job = _job(tmp_path, marker=marker)
    run_step(job, executor, Path(job.run_dir) / "log.txt")
    data = json.loads((Path(job.run_dir) / "manifest.json").read_text())
    assert data["exit_status"] == 0 and data["seed"] == 3 and data["step"] == "train"
    assert data["repos"] == {"A": {"url": "u", "commit": "c" * 40, "patches": []}}
    assert data["executor"]["executor"] == "local"
    assert len(data["executor"]["pip_freeze_sha256"]) == 64
    assert data["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert data["environment"]["recipe"] == {}  # the test venv was not built by the recipe
    assert data["host"]["hostname"] and data["host"]["gpu_ids"] == []
    assert data["start"] <= data["end"] and data["duration_s"] >= 0
    # written via a temporary sibling that is gone now
    assert sorted(p.name for p in Path(job.run_dir).iterdir()) == [
        "log.txt", "manifest.json", "out"
    ]  # fmt: skip


def test_failing_step_raises_and_leaves_no_manifest(tmp_path, executor) -> None:
    job = _job(tmp_path)
    log = Path(job.run_dir) / "log.txt"
    run_step(job, executor, log)  # a complete earlier run ...
    job = dataclasses.replace(job, env={**job.env, "STEP_EXIT": "3"})
    with pytest.raises(StepError, match=r"step m/v/seed3/train failed with exit status 3; see .*"):
        run_step(job, executor, log)
    # ... does not survive a failed rerun: nothing looks done
    assert not (Path(job.run_dir) / "manifest.json").exists()
    assert "hello from the step" in log.read_text()


def test_missing_declared_output_is_an_error(tmp_path, executor) -> None:
    job = _job(tmp_path, env={"WRITE": "0"})
    with pytest.raises(StepError, match=r"exited 0 but did not write \['out'\]"):
        run_step(job, executor, Path(job.run_dir) / "log.txt")
    assert not (Path(job.run_dir) / "manifest.json").exists()


def test_leftovers_of_a_killed_run_are_removed_but_the_log_is_kept(tmp_path, executor) -> None:
    job = _job(tmp_path)
    run_dir = Path(job.run_dir)
    (run_dir / ".tmp").mkdir(parents=True)
    (run_dir / "out").mkdir()
    (run_dir / "out/stale.bin").write_bytes(b"half")
    (run_dir / "log.txt").write_text("previous attempt\n")
    run_step(job, executor, run_dir / "log.txt")
    assert not (run_dir / "out/stale.bin").exists()
    assert (run_dir / "log.txt").read_text().startswith("previous attempt\n")


def _pip_freeze_hash(env: dict) -> str:
    """LocalExecutor.describe()'s pip freeze hash, computed in a fresh process (as in a job)."""
    code = "from hfpl.workflow.executors import make_executor as m\n"
    code += "print(m('local').describe()['pip_freeze_sha256'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_pip_freeze_hash_is_cached_across_jobs_until_packages_change(tmp_path) -> None:
    extra = tmp_path / "site"  # a folder on the interpreter's sys.path that we may change
    extra.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(extra)}
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], env=env, capture_output=True, check=True
    ).stdout
    real = hashlib.sha256(freeze).hexdigest()
    assert _pip_freeze_hash(env) == real
    (cached,) = (tmp_path / "cache/hfpl/pip-freeze").iterdir()
    cached.write_text("f" * 64 + "\n")  # proves the next job reads the cache, not pip
    assert _pip_freeze_hash(env) == "f" * 64
    (extra / "new_package.dist-info").mkdir()  # an install changes the folder's mtime
    assert _pip_freeze_hash(env) == real


def test_manifest_records_the_recipe_of_the_step_interpreter(tmp_path, executor) -> None:
    """environment.recipe: the parsed hfpl-recipe.txt of the venv the step's python belongs
    to; not part of the identity (a rebuilt environment makes no run stale)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "hfpl-recipe.txt").write_text(f"base {'0' * 64}\nseam {'1' * 64}\nseam {'2' * 64}\n")
    job = _job(tmp_path)
    job = dataclasses.replace(job, argv=(str(venv / "bin" / "python"), *job.argv[1:]))
    data = run_step(job, executor, Path(job.run_dir) / "log.txt")
    assert data["environment"]["recipe"] == {"base": "0" * 64, "seam": "2" * 64}
    (venv / "hfpl-recipe.txt").write_text(f"base {'3' * 64}\n")
    assert run_step(job, executor, Path(job.run_dir) / "log.txt")["identity"] == data["identity"]
