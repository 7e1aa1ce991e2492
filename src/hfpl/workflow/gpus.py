"""File-lock based GPU allocator for several GPU jobs on one machine.

Snakemake's ``--resources gpu=4`` only bounds how many GPU jobs run at once; it does not say
*which* device a job gets. Each GPU job therefore takes ``n`` devices here, holding an exclusive
``fcntl.flock`` on one lock file per device id, and sets ``CUDA_VISIBLE_DEVICES`` to them::

    with allocate_gpus(1, Path("results/.gpu-locks")) as ids:
        env["CUDA_VISIBLE_DEVICES"] = cuda_visible_devices(ids)
        executor.run(..., env=env, gpus=len(ids))

The kernel drops a flock when its process dies (even on SIGKILL), so no stale lock survives a
crashed job. Lock files live in ``lock_dir/<hostname>/`` so that a lock dir on a shared
file system does not make two nodes' GPU 0 collide.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

__all__ = ["allocate_gpus", "available_gpus", "cuda_visible_devices"]

POLL_S = 0.2  # how often a waiting job tries again


def _nvidia_smi_count() -> int | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def _torch_count() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count()


def available_gpus() -> list[int]:
    """The device ids this process may hand out: the integer ids listed in
    ``CUDA_VISIBLE_DEVICES`` (as set by SLURM or the user), else ``nvidia-smi -L``'s count,
    else torch's count."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        entries = [e.strip() for e in visible.split(",") if e.strip()]
        try:
            return [int(e) for e in entries]
        except ValueError:
            raise ValueError(
                f"CUDA_VISIBLE_DEVICES={visible!r} is not a list of integer ids (UUIDs are not "
                "supported); set integer ids"
            ) from None
    count = _nvidia_smi_count()
    return list(range(_torch_count() if count is None else count))


def cuda_visible_devices(ids: list[int]) -> str:
    """The ``CUDA_VISIBLE_DEVICES`` value for the allocated ``ids``."""
    return ",".join(str(i) for i in ids)


def _try_lock(path: Path, stack: ExitStack) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    stack.callback(os.close, fd)  # closing the descriptor releases the lock
    stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
    return True


@contextmanager
def allocate_gpus(n: int, lock_dir: Path) -> Iterator[list[int]]:
    """Hold ``n`` free devices of :func:`available_gpus` for the duration of the ``with``
    block; yield their ids.

    Waits until ``n`` are free at once (all-or-nothing per attempt, so two jobs can never
    deadlock each holding half), trying every :data:`POLL_S` s; ``n == 0`` yields ``[]``
    without locking. More than the machine has is a ``ValueError``.
    """
    if n < 0:
        raise ValueError(f"number of GPUs must be >= 0, got {n}")
    if n == 0:
        yield []
        return
    pool = available_gpus()
    if n > len(pool):
        raise ValueError(
            f"the step needs {n} GPU(s) but only {len(pool)} are available ({pool}); lower its "
            "gpu resource or make more devices visible (CUDA_VISIBLE_DEVICES)"
        )
    host_dir = Path(lock_dir) / socket.gethostname()
    host_dir.mkdir(parents=True, exist_ok=True)
    while True:
        with ExitStack() as stack:
            taken = []
            for device in pool:
                if _try_lock(host_dir / f"gpu{device}.lock", stack):
                    taken.append(device)
                    if len(taken) == n:
                        yield taken
                        return
        # fewer than n free: released what we had (ExitStack), wait and try again
        time.sleep(POLL_S)
