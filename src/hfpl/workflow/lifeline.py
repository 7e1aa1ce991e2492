"""A step dies with the workflow that started it.

``kill -9`` of Snakemake kills neither its job shells nor the runners below them: without this
module a step would go on and write its checkpoint and ``manifest.json`` into a run dir that a
restarted workflow is cleaning. :func:`dies_with_parent` watches the runner's parent and the
Snakemake process named by :data:`WORKFLOW_PID_ENV` (``workflow/rules/common.smk`` sets it in
every Snakemake process, so a cluster job watches the Snakemake of its own node); when one of
them is gone it sends this process SIGTERM, which the executors turn into cleanup (the step's
process group killed, the container removed) and which leaves no manifest.
:func:`child_dies_with_us` is the ``preexec_fn`` that ties a step's process to the runner
(Linux ``PR_SET_PDEATHSIG``), for a runner that is itself killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import threading
from collections.abc import Callable, Iterator

WORKFLOW_PID_ENV = "HFPL_WORKFLOW_PID"
_PR_SET_PDEATHSIG = 1


def _start_time(pid: int) -> str | None:
    """The start time of a live process (``/proc/<pid>/stat`` field 22), ``None`` when it is
    gone or a zombie; where there is no ``/proc``, ``"?"`` for any live pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    return None if fields[0] in ("Z", "X") else fields[19]


def watched() -> dict[int, str]:
    """pid -> start time of the processes whose death ends the step: the parent and the
    workflow's Snakemake (when :data:`WORKFLOW_PID_ENV` names a live process)."""
    pids = {os.getppid()}
    with contextlib.suppress(ValueError):
        pids.add(int(os.environ.get(WORKFLOW_PID_ENV, "")))
    started = {pid: _start_time(pid) for pid in pids if pid > 1 and pid != os.getpid()}
    return {pid: t for pid, t in started.items() if t is not None}


@contextlib.contextmanager
def dies_with_parent(poll_s: float = 0.5) -> Iterator[None]:
    """While inside, a daemon thread polls the :func:`watched` processes every ``poll_s``
    seconds and sends this process SIGTERM once one of them has died (or its pid was reused)."""
    alive = watched()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(poll_s):
            if any(_start_time(pid) != started for pid, started in alive.items()):
                os.kill(os.getpid(), signal.SIGTERM)
                return

    thread = threading.Thread(target=watch, name="hfpl-lifeline", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if not name or not hasattr(os, "fork"):
        return None
    try:
        return ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()


def child_dies_with_us() -> None:
    """``preexec_fn`` of a step's process: SIGKILL it when the runner dies (Linux; elsewhere
    a no-op, the runner's own cleanup still applies)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
