"""hfpl.workflow.jobs: the typed handovers round-trip through JSON and refuse malformed jobs."""

from __future__ import annotations

import dataclasses

import pytest

from hfpl.workflow.jobs import CheckoutJob, StepJob

STEP = {
    "dataset": "voc", "method": "m", "variant": "v", "seed": 3, "step": "train",
    "argv": ["python", "train.py", "--seed", "3"], "cwd": "/r/train", "env": {"A": "1"},
    "run_dir": "/r/train", "outputs": ["model.pth"], "gpus": 1, "executor": "docker",
    "gpu_lock_dir": "/r/locks", "executor_options": {"image": "hfpl/m:latest"},
    "checkouts": {"A": "/c/a.json"}, "read_only": ["/data"],
}  # fmt: skip
CHECKOUT = {
    "commit": "a" * 40, "patches": ["patches/a/0001.patch"],
    "sparse_exclude": ["/big"], "dest": "results/checkouts/a", "marker": "results/checkouts/a.json",
}  # fmt: skip


@pytest.mark.parametrize(("cls", "fields"), [(StepJob, STEP), (CheckoutJob, CHECKOUT)])
def test_json_round_trip_is_exact_and_canonical(cls, fields) -> None:
    job = cls(**fields)
    assert cls.from_json(job.to_json()) == job
    assert job.to_json() == cls(**dict(reversed(fields.items()))).to_json()  # key order free
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.commit = "x"  # type: ignore[misc]


def test_step_job_reads_by_attribute() -> None:
    job = StepJob(**STEP)
    assert job.argv == ("python", "train.py", "--seed", "3")  # lists become tuples
    assert job.name == "m/v/seed3/train"
    assert job.executor_options == {"image": "hfpl/m:latest"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"argv": []}, "argv must not be empty"),
        ({"argv": ["python", 3]}, "argv must hold strings"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"gpus": "1"}, "gpus must be an int >= 0"),
        ({"run_dir": "results/r"}, "run_dir must be an absolute path"),
        ({"outputs": ["../escape"]}, "outputs must be relative to the run dir"),
        ({"env": {"A": 1}}, "env values must hold strings"),
    ],
)
def test_malformed_step_job(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StepJob(**{**STEP, **change})


def test_malformed_checkout_job_and_json() -> None:
    with pytest.raises(ValueError, match="full 40-hex SHA"):
        CheckoutJob(**{**CHECKOUT, "commit": "abc"})
    with pytest.raises(ValueError, match="must differ"):
        CheckoutJob(**{**CHECKOUT, "marker": CHECKOUT["dest"]})
    with pytest.raises(ValueError, match=r"not a CheckoutJob \(keys .*'colour'"):
        CheckoutJob.from_json(CheckoutJob(**CHECKOUT).to_json()[:-1] + ', "colour": 1}')
    with pytest.raises(ValueError):
        StepJob.from_json("{not json")
