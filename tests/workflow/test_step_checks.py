"""The runner's checks of issue 10: ``did_work``, the outputs of earlier steps (sha256 recorded
in their manifests), the step identity, and the lifeline (a step dies with its workflow)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfpl.workflow.executors import make_executor
from hfpl.workflow.jobs import StepJob
from hfpl.workflow.lifeline import WORKFLOW_PID_ENV
from hfpl.workflow.runner import StepError, run_step

# a "training step": prints one progress line per iteration, then writes its checkpoint
TRAIN = """
import os, sys
for i in range(int(sys.argv[1])):
    print(f"Iter:{i:5d}/{sys.argv[1]:>5}", flush=True)
os.makedirs("ckpt", exist_ok=True)
with open("ckpt/model.pth", "wb") as fh:
    fh.write(b"weights" * 100)
"""


def _job(tmp: Path, step: str, iterations: int, **fields) -> StepJob:
    script = tmp / "train.py"
    script.write_text(TRAIN)
    run_dir = tmp / "runs" / step
    return StepJob(
        dataset="voc", method="m", variant="v", seed=0, step=step,
        argv=(sys.executable, str(script), str(iterations)), cwd=str(run_dir), env={},
        run_dir=str(run_dir), outputs=("ckpt",), gpus=0, executor="local",
        gpu_lock_dir=str(tmp / "locks"), **fields,
    )  # fmt: skip


# `hfpl workflow run-step` without the CLI: the job JSON and the log path as arguments
RUNNER = (
    "import sys; from pathlib import Path; from hfpl.workflow.jobs import StepJob;"
    "from hfpl.workflow.executors import make_executor; from hfpl.workflow.runner import run_step;"
    "run_step(StepJob.from_json(sys.argv[1]), make_executor('local'), Path(sys.argv[2]))"
)
DID_WORK = {"log_regex": r"^Iter: *\d+/ *\d+", "min_count": 2}


def test_zero_iterations_is_no_work_and_leaves_no_manifest(tmp_path: Path) -> None:
    job = _job(tmp_path, "train", 0, did_work=DID_WORK)
    log = Path(job.run_dir) / "log.txt"
    with pytest.raises(StepError, match=r"exited 0 but did no work: 0 log lines match .*needs 2"):
        run_step(job, make_executor("local"), log)
    assert not (Path(job.run_dir) / "manifest.json").exists()
    # earlier runs' lines in the kept log do not count
    log.write_text("Iter:    0/    1\n" * 5)
    with pytest.raises(StepError, match="did no work: 1 log lines"):
        run_step(dataclasses.replace(job, argv=(*job.argv[:2], "1")), make_executor("local"), log)
    manifest = run_step(
        dataclasses.replace(job, argv=(*job.argv[:2], "3")), make_executor("local"), log
    )
    assert manifest["outputs"] == {
        "ckpt/model.pth": [700, __import__("hashlib").sha256(b"weights" * 100).hexdigest()]
    }
    assert manifest["identity"] == dataclasses.replace(job, argv=(*job.argv[:2], "3")).identity


def test_changed_output_of_an_earlier_step_is_named_before_the_step_runs(tmp_path: Path) -> None:
    first = _job(tmp_path, "train", 1)
    run_step(first, make_executor("local"), Path(first.run_dir) / "log.txt")
    second = _job(tmp_path, "infer", 1, reads={"train": first.run_dir})
    log = Path(second.run_dir) / "log.txt"
    run_step(second, make_executor("local"), log)
    ckpt = Path(first.run_dir) / "ckpt/model.pth"
    ckpt.write_bytes(b"weights" * 10)
    with pytest.raises(StepError) as err:
        run_step(second, make_executor("local"), log)
    assert str(err.value) == (
        f"input {ckpt} of step m/v/seed0/infer has 70 bytes, step train wrote 700; re-run step "
        f"train: delete {first.run_dir}/manifest.json and run snakemake again"
    )
    assert not (Path(second.run_dir) / "manifest.json").exists()
    ckpt.write_bytes(b"Weights" * 100)  # same size, other content
    with pytest.raises(StepError, match="changed since step train wrote it"):
        run_step(second, make_executor("local"), log)


def test_identity_is_what_makes_the_result(tmp_path: Path) -> None:
    job = _job(tmp_path, "train", 1, checkouts={"A": "/c/o/n/" + "a" * 40 + "-k.json"})
    same = dataclasses.replace(
        job, gpu_lock_dir="/elsewhere", checkouts={"A": "/x/" + "a" * 40 + "-k.json"}
    )
    assert same.identity == job.identity  # the checkout's commit + tree key, not where it is
    for change in (
        {"argv": (*job.argv, "--lr", "1")},
        {"dataset_digest": "d" * 64},
        {"checkouts": {"A": "/c/o/n/" + "b" * 40 + "-k.json"}},
        {"executor_options": {"image": "hfpl/other:latest"}},
        {"weights": {"init.params": "f" * 64}},
    ):
        assert dataclasses.replace(job, **change).identity != job.identity, change


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_runner_and_step_die_with_the_workflow_process(tmp_path: Path) -> None:
    """A stand-in "snakemake" (a sleeping process) is named by HFPL_WORKFLOW_PID; the runner runs
    a step that sleeps and would then write; killing the stand-in ends runner and step."""
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    job = _job(tmp_path, "train", 1)
    sleeper = tmp_path / "sleep.py"
    sleeper.write_text(
        "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(20)\n"
        "os.makedirs('ckpt', exist_ok=True)\nopen('ckpt/late', 'w').write('x')\n"
    )
    job = dataclasses.replace(job, argv=(sys.executable, str(sleeper)))
    log = Path(job.run_dir) / "log.txt"
    code = RUNNER
    env = {**os.environ, WORKFLOW_PID_ENV: str(stand_in.pid)}
    runner = subprocess.Popen([sys.executable, "-c", code, job.to_json(), str(log)], env=env)
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text().strip().isdigit()):
        assert time.monotonic() < deadline, "the step did not start"
        time.sleep(0.1)
    step_pid = int(log.read_text().strip())
    stand_in.kill()
    stand_in.wait()
    assert runner.wait(timeout=10) != 0
    deadline = time.monotonic() + 5
    while _alive(step_pid):
        assert time.monotonic() < deadline, "the step outlived the workflow"
        time.sleep(0.1)
    assert not (Path(job.run_dir) / "manifest.json").exists()
    assert not (Path(job.run_dir) / "ckpt").exists()


def test_step_dies_with_a_killed_runner(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: SIGKILL of the runner itself takes its step along."""
    job = _job(tmp_path, "train", 1)
    sleeper = tmp_path / "sleep.py"
    sleeper.write_text("import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(30)\n")
    job = dataclasses.replace(job, argv=(sys.executable, str(sleeper)))
    log = Path(job.run_dir) / "log.txt"
    code = RUNNER
    runner = subprocess.Popen([sys.executable, "-c", code, job.to_json(), str(log)])
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text().strip().isdigit()):
        assert time.monotonic() < deadline, "the step did not start"
        time.sleep(0.1)
    step_pid = int(log.read_text().strip())
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 5
    while _alive(step_pid):
        assert time.monotonic() < deadline, "the step outlived its runner"
        time.sleep(0.1)
