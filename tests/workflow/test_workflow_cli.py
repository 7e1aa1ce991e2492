"""``hfpl workflow``: a malformed job, an unknown executor or too few GPUs is one line, exit 1."""

from __future__ import annotations

import sys

import pytest

from hfpl.cli import main
from hfpl.workflow.jobs import StepJob


def _job(tmp_path, **change) -> str:
    fields = {
        "dataset": "voc", "method": "m", "variant": "v", "seed": 0, "step": "s",
        "argv": [sys.executable, "-c", "pass"], "cwd": str(tmp_path), "env": {},
        "run_dir": str(tmp_path / "run"), "outputs": [], "gpus": 0, "executor": "local",
        "gpu_lock_dir": str(tmp_path / "locks"),
    }  # fmt: skip
    return StepJob(**{**fields, **change}).to_json()


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (lambda t: "{}", "not a StepJob (keys [], expected"),
        (lambda t: _job(t, executor="podman"), "unknown executor 'podman'; choose one of"),
        (lambda t: _job(t, executor_options={"colour": 1}), "bad options for the local executor"),
        (lambda t: _job(t, gpus=3), "the step needs 3 GPU(s) but only 0 are available"),
    ],
)
def test_run_step_errors_are_one_line(tmp_path, monkeypatch, capsys, job, message) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    argv = ["workflow", "run-step", "--job", job(tmp_path), "--log", str(tmp_path / "log.txt")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("hfpl workflow: error: ") and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "run" / "manifest.json").exists()
