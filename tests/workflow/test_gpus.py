"""GPU allocator: real processes competing for fake device ids (CUDA_VISIBLE_DEVICES, inherited
by the spawned jobs) through file locks."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from hfpl.workflow.gpus import allocate_gpus, available_gpus, cuda_visible_devices

HOLD_S = 0.3


@pytest.fixture(autouse=True)
def _four_devices(monkeypatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")


def _job(lock_dir: str, n: int, out: str, index: int) -> None:
    """One 'GPU job': take n of the 4 fake devices, hold them, record when and which."""
    with allocate_gpus(n, Path(lock_dir)) as ids:
        start = time.monotonic()
        time.sleep(HOLD_S)
        end = time.monotonic()
    Path(out, f"{index}.json").write_text(json.dumps({"ids": ids, "start": start, "end": end}))


def _run_jobs(tmp_path: Path, sizes: list[int]) -> list[dict]:
    ctx = mp.get_context("spawn")  # fresh processes, like Snakemake's jobs
    out = tmp_path / "out"
    out.mkdir()
    procs = [
        ctx.Process(target=_job, args=(str(tmp_path / "locks"), n, str(out), i))
        for i, n in enumerate(sizes)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return [json.loads((out / f"{i}.json").read_text()) for i in range(len(sizes))]


def _max_busy(records: list[dict]) -> int:
    """Most devices held at the same time (sweep over start/end events)."""
    events = sorted(
        [(r["start"], len(r["ids"])) for r in records]
        + [(r["end"], -len(r["ids"])) for r in records]
    )
    busy = peak = 0
    for _, delta in events:
        busy += delta
        peak = max(peak, busy)
    return peak


def _assert_no_collisions(records: list[dict]) -> None:
    for a_i, a in enumerate(records):
        assert len(set(a["ids"])) == len(a["ids"])
        for b in records[a_i + 1 :]:
            overlap = a["start"] < b["end"] and b["start"] < a["end"]
            if overlap:
                assert not set(a["ids"]) & set(b["ids"]), (a, b)


def test_competing_processes_never_share_a_device_and_keep_all_busy(tmp_path):
    records = _run_jobs(tmp_path, [1] * 10)
    _assert_no_collisions(records)
    assert all(len(r["ids"]) == 1 for r in records)
    # 4 devices for 10 one-GPU jobs: at some point all four are busy
    assert _max_busy(records) == 4


def test_multi_gpu_jobs_get_disjoint_sets(tmp_path):
    records = _run_jobs(tmp_path, [2, 2, 1, 3, 2, 1])
    _assert_no_collisions(records)
    assert [len(r["ids"]) for r in records] == [2, 2, 1, 3, 2, 1]
    assert _max_busy(records) <= 4


def _hold_forever(lock_dir: str, ready: str) -> None:
    with allocate_gpus(4, Path(lock_dir)):
        Path(ready).touch()
        time.sleep(60)


def _wait_for_one(lock_dir: str, done: str) -> None:
    with allocate_gpus(1, Path(lock_dir)) as ids:
        Path(done).write_text(json.dumps(ids))


def test_lock_of_a_killed_job_is_released(tmp_path):
    ctx = mp.get_context("spawn")
    ready, done = tmp_path / "ready", tmp_path / "done"
    holder = ctx.Process(target=_hold_forever, args=(str(tmp_path), str(ready)))
    holder.start()
    while not ready.exists():
        time.sleep(0.02)
    waiter = ctx.Process(target=_wait_for_one, args=(str(tmp_path), str(done)))
    waiter.start()
    time.sleep(1.0)
    assert not done.exists()  # every device is held: the waiter waits
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    waiter.join(30)
    assert waiter.exitcode == 0 and json.loads(done.read_text()) == [0]


def test_release_on_exception_and_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    with pytest.raises(RuntimeError), allocate_gpus(1, tmp_path) as ids:
        assert ids == [7]
        raise RuntimeError("step failed")
    with allocate_gpus(1, tmp_path) as ids:
        assert ids == [7]
    with allocate_gpus(0, tmp_path / "unused") as ids:
        assert ids == []
    assert not (tmp_path / "unused").exists()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(ValueError, match="needs 3 GPU.*only 2"), allocate_gpus(3, tmp_path):
        pass


def test_available_gpus_sources(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert available_gpus() == [2, 5]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert available_gpus() == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234abcd")
    with pytest.raises(ValueError, match="integer ids"):
        available_gpus()
    assert cuda_visible_devices([2, 5]) == "2,5"
