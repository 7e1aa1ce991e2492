"""Executors: run one step's argv locally, in a Docker container, or in an Apptainer image.

All executors share one call::

    code = make_executor("docker", image="hfpl/seam:latest").run(
        ["python", "train.py", "--seed", "0"], cwd=run_dir, env={"CUDA_VISIBLE_DEVICES": "1"},
        binds=[Bind(data, data, read_only=True), Bind(run_dir, run_dir, read_only=False)],
        log=run_dir / "log.txt", gpus=1)

``argv`` is a list (never a shell string); output (stdout + stderr merged) is streamed to ``log``
and to this process's stdout; the exit code is returned. Binding every host path at the same
path inside the container keeps argv identical across executors, which is what the local
executor requires (it cannot remap paths). ``describe()`` returns the provenance of the software
environment for the run's ``manifest.json``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from hfpl.io import sha256_file, write_text_atomic
from hfpl.workflow.lifeline import child_dies_with_us

__all__ = [
    "ApptainerExecutor",
    "Bind",
    "DockerExecutor",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "make_executor",
]


class ExecutorError(RuntimeError):
    """The environment cannot run the step (no daemon, no image, no GPU, no binary...).

    The message names the fix.
    """


@dataclass(frozen=True)
class Bind:
    """A host path made visible at ``container`` inside the step's environment."""

    host: Path
    container: Path
    read_only: bool = True


class Executor(ABC):
    """Runs one argv in some environment; see the module docstring."""

    @abstractmethod
    def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        binds: list[Bind],
        log: Path,
        gpus: int,
    ) -> int:
        """Run ``argv`` in ``cwd`` with ``env`` added; stream output to ``log``; return exit code.

        ``gpus`` is the number of GPUs the step needs; which ones is given by
        ``env["CUDA_VISIBLE_DEVICES"]`` (set by :func:`hfpl.workflow.gpus.allocate_gpus`).
        """

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Provenance of the environment (JSON-serialisable) for ``manifest.json``."""


def _check_argv(argv: list[str]) -> None:
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError(f"argv must be a non-empty list of strings, got {argv!r}")


def _tee(chunks: Iterable[bytes], log: BinaryIO) -> None:
    """Copy output chunks to the log file and to our stdout as they arrive."""
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    for chunk in chunks:
        log.write(chunk)
        log.flush()
        if out is not None:
            out.write(chunk)
            out.flush()
        else:  # stdout replaced by a text stream (e.g. pytest capture)
            sys.stdout.write(chunk.decode(errors="replace"))


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Turn SIGTERM (Snakemake cancelling a job) into SystemExit, so ``finally`` clauses run.

    Python's default SIGTERM action ends the process without cleanup, which would leave the
    step's process or container running. Signal handlers can only be set in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_process(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> int:
    """Run a host process (no shell), merging stderr into stdout, teeing to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        try:
            # own process group (killed as a whole below), killed if this process dies
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=child_dies_with_us,
            )  # fmt: skip
        except FileNotFoundError as err:
            raise ExecutorError(
                f"cannot run {argv[0]!r}: {err.strerror}; install it or fix the step's argv"
            ) from err
        assert proc.stdout is not None
        try:
            with _sigterm_exits():
                _tee(iter(lambda: proc.stdout.read1(65536), b""), fh)
        except BaseException:
            # we were interrupted (SIGTERM, the workflow died): do not leave the step running
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        code = proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # what the step left running in its group
        return code


# the folders on an interpreter's sys.path with their mtimes (the disk cache key below)
_SYS_PATH_STATE = (
    "import json, os, sys\n"
    "print(json.dumps([[p, os.stat(p).st_mtime_ns] for p in sys.path if os.path.isdir(p)]))"
)


def _freeze_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hfpl" / "pip-freeze"


@functools.cache
def _pip_freeze_sha256(python: str) -> str:
    """sha256 of ``pip freeze --all`` of the given interpreter.

    ``pip freeze`` takes ~0.6 s and each workflow job is a new process, so the hash is cached
    per process and on disk (``$XDG_CACHE_HOME/hfpl/pip-freeze/``), keyed by the interpreter and
    the mtimes of the folders on its ``sys.path``: installing, upgrading or removing a package
    adds or deletes a ``*.dist-info`` folder there, which changes the key.
    """
    state = subprocess.run([python, "-c", _SYS_PATH_STATE], capture_output=True, check=True).stdout
    cached = _freeze_cache_dir() / hashlib.sha256(os.fsencode(python) + b"\0" + state).hexdigest()
    try:
        digest = cached.read_text().strip()
        if len(digest) == 64:
            return digest
    except OSError:
        pass
    out = subprocess.run(
        [python, "-m", "pip", "freeze", "--all"], capture_output=True, check=True
    ).stdout
    digest = hashlib.sha256(out).hexdigest()
    # temp + rename: concurrent jobs never read a partial file; without a writable cache
    # folder the hash is computed each time
    with contextlib.suppress(OSError):
        write_text_atomic(cached, digest + "\n")
    return digest


class LocalExecutor(Executor):
    """Runs the step as a subprocess of this process, on the host."""

    def __init__(self, python: str | None = None) -> None:
        # the interpreter whose packages the steps use (for the pip freeze hash)
        self.python = python or sys.executable

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        binds: list[Bind],
        log: Path,
        gpus: int,
    ) -> int:
        _check_argv(argv)
        remapped = [b for b in binds if Path(b.host).resolve() != Path(b.container).resolve()]
        if remapped:
            raise ValueError(
                f"the local executor cannot remap paths ({remapped[0].host} -> "
                f"{remapped[0].container}); bind host paths at the same container path"
            )
        return _run_process(argv, Path(cwd), {**os.environ, **env}, Path(log))

    def describe(self) -> dict[str, Any]:
        return {
            "executor": "local",
            "image": "local",
            "python": self.python,
            "pip_freeze_sha256": _pip_freeze_sha256(self.python),
        }


CONTAINER_USER = "hfpl"  # USER / LOGNAME inside containers, unless the step's env sets them


class DockerExecutor(Executor):
    """Runs the step in a fresh container of ``image`` via the Docker SDK.

    The container runs as the invoking uid:gid, without capabilities or privilege escalation,
    without network unless ``network`` names a Docker network mode (e.g. ``"bridge"`` for steps
    that download), and is always removed afterwards. ``shm_size``: the container's /dev/shm
    (Docker's default of 64 MB is too small for PyTorch DataLoader workers, which pass batches
    through shared memory: "unable to allocate shared memory(shm)"); tmpfs, used only as needed.
    """

    def __init__(
        self,
        image: str,
        *,
        network: str = "none",
        shm_size: str = "8g",
        build_hint: str | None = None,
    ):
        self.image = image
        self.network = network
        self.shm_size = shm_size
        # how to build the image, quoted in the "image missing" error
        self.build_hint = build_hint or f"docker build --network host -t {image} containers/..."
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import docker

            try:
                client = docker.from_env()
                client.ping()
            except docker.errors.DockerException as err:
                raise ExecutorError(
                    f"cannot reach the Docker daemon ({err}); start dockerd "
                    "(e.g. `.ci/docker-up.sh`, see docs/executors.md) or set DOCKER_HOST"
                ) from err
            self._client = client
        return self._client

    def _image(self):
        import docker

        try:
            return self.client.images.get(self.image)
        except docker.errors.ImageNotFound as err:
            raise ExecutorError(
                f"Docker image {self.image!r} not found; build it with: {self.build_hint}"
            ) from err

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        binds: list[Bind],
        log: Path,
        gpus: int,
    ) -> int:
        import docker
        from docker.types import DeviceRequest

        _check_argv(argv)
        image = self._image()
        # the invoking uid has no /etc/passwd entry in the image: getpass.getuser() (mmcv's
        # logger) raises KeyError without a name in the environment, and HOME would be an
        # unwritable "/" (matplotlib's cache): the step's TMPDIR stands in
        home = env.get("TMPDIR", "/tmp")
        env = {"USER": CONTAINER_USER, "LOGNAME": CONTAINER_USER, "HOME": home, **env}
        device_requests = []
        if gpus > 0:
            visible = env.get("CUDA_VISIBLE_DEVICES")
            if visible:
                ids = visible.split(",")
                request = DeviceRequest(device_ids=ids, capabilities=[["gpu"]])
                # inside, the container sees only the requested devices, numbered from 0
                env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(len(ids)))
            else:
                request = DeviceRequest(count=gpus, capabilities=[["gpu"]])
            device_requests.append(request)
        volumes = {
            str(b.host): {"bind": str(b.container), "mode": "ro" if b.read_only else "rw"}
            for b in binds
        }
        container = self.client.containers.create(
            image.id,
            argv,
            working_dir=str(cwd),
            environment=env,
            user=f"{os.getuid()}:{os.getgid()}",
            volumes=volumes,
            network_mode=self.network,
            shm_size=self.shm_size,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            device_requests=device_requests,
            labels={"hfpl": "step"},
        )
        try:
            try:
                container.start()
            except docker.errors.APIError as err:
                hint = (
                    "install the NVIDIA Container Toolkit and restart dockerd, or run on a GPU "
                    "machine"
                    if gpus > 0
                    else "check the image and the bind paths"
                )
                raise ExecutorError(
                    f"container for {argv[0]!r} in {self.image!r} failed to start "
                    f"({err.explanation or err}); {hint}"
                ) from err
            log = Path(log)
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as fh, _sigterm_exits():
                _tee(container.logs(stream=True, follow=True), fh)
                return int(container.wait()["StatusCode"])
        finally:
            # a failed start leaves a created container behind; always remove it ourselves
            container.remove(force=True)

    def describe(self) -> dict[str, Any]:
        image = self._image()
        return {
            "executor": "docker",
            "image": self.image,
            "image_id": image.id,
            "repo_digests": image.attrs.get("RepoDigests", []),
        }


@functools.cache
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    """sha256 of a file, cached per (path, mtime, size): SIF images are gigabytes."""
    return sha256_file(path)


class ApptainerExecutor(Executor):
    """Runs the step with ``apptainer exec`` (clusters; ``singularity`` works via ``binary``).

    The host environment is not passed in (``--cleanenv``); ``env`` is set with ``--env``.
    ``--nv`` exposes the host's NVIDIA driver when the step needs GPUs; the allocator's
    ``CUDA_VISIBLE_DEVICES`` then selects the devices.
    """

    def __init__(self, image: str | Path, *, binary: str = "apptainer"):
        self.image = Path(image)
        self.binary = binary

    def command(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], binds: list[Bind], gpus: int
    ) -> list[str]:
        """The full ``apptainer exec ...`` argv for one step."""
        _check_argv(argv)
        cmd = [self.binary, "exec", "--cleanenv"]
        if gpus > 0:
            cmd.append("--nv")
        for b in binds:
            cmd += ["--bind", f"{b.host}:{b.container}:{'ro' if b.read_only else 'rw'}"]
        cmd += ["--pwd", str(cwd)]
        for key, value in sorted(env.items()):
            cmd += ["--env", f"{key}={value}"]
        return [*cmd, str(self.image), *argv]

    def _require_binary(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise ExecutorError(
                f"{self.binary!r} not found on PATH; load it (e.g. `module load apptainer`) or "
                "install Apptainer (https://apptainer.org/docs/admin/main/installation.html), "
                "or choose the local or docker executor"
            )
        return found

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        binds: list[Bind],
        log: Path,
        gpus: int,
    ) -> int:
        self._require_binary()
        if not self.image.is_file():
            raise ExecutorError(
                f"Apptainer image {self.image} not found; build it with "
                f"`apptainer build {self.image} containers/<image>/<image>.def`"
            )
        cmd = self.command(argv, cwd=cwd, env=env, binds=binds, gpus=gpus)
        # the host process only launches apptainer; --pwd sets the step's directory inside
        return _run_process(cmd, Path.cwd(), dict(os.environ), Path(log))

    def describe(self) -> dict[str, Any]:
        stat = self.image.stat()
        return {
            "executor": "apptainer",
            "image": str(self.image),
            "image_sha256": _file_sha256(str(self.image.resolve()), stat.st_mtime_ns, stat.st_size),
        }


_KINDS = {"local": LocalExecutor, "docker": DockerExecutor, "apptainer": ApptainerExecutor}


def make_executor(kind: str, **options: Any) -> Executor:
    """Build the executor ``kind`` (local | docker | apptainer) with its options.

    local: ``python`` (interpreter for the pip-freeze hash). docker: ``image`` (required),
    ``network`` (Docker network mode, default ``"none"``), ``shm_size`` (default ``"8g"``),
    ``build_hint``. apptainer: ``image``
    (path of the .sif, required), ``binary`` (default ``apptainer``).
    """
    try:
        cls = _KINDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown executor {kind!r}; choose one of {', '.join(sorted(_KINDS))}"
        ) from None
    try:
        return cls(**options)
    except TypeError as err:
        raise ValueError(f"bad options for the {kind} executor: {err}") from None
