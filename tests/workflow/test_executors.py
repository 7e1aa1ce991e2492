"""Executors: local subprocess, Docker against a REAL daemon (never a mock), Apptainer argv."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from hfpl.workflow.executors import (
    ApptainerExecutor,
    Bind,
    ExecutorError,
    make_executor,
)

REPO = Path(__file__).resolve().parents[2]
BASE_IMAGE = os.environ.get("HFPL_DOCKER_BASE", "local/bookworm:base")


def run(executor, argv, tmp_path, **kw):
    kw.setdefault("cwd", tmp_path)
    kw.setdefault("env", {})
    kw.setdefault("binds", [])
    kw.setdefault("log", tmp_path / "log.txt")
    kw.setdefault("gpus", 0)
    return executor.run(argv, **kw)


# ---------------------------------------------------------------- local


def test_local_exit_code_env_cwd_and_log(tmp_path, capfd):
    ex = make_executor("local")
    code = run(
        ex,
        ["sh", "-c", 'echo "out $HFPL_X $(pwd)"; echo err >&2; exit 3'],
        tmp_path,
        env={"HFPL_X": "42"},
    )
    assert code == 3
    log = (tmp_path / "log.txt").read_text()
    assert f"out 42 {tmp_path}" in log and "err" in log
    assert "out 42" in capfd.readouterr().out  # also streamed to our stdout


def test_local_argv_is_not_a_shell_string(tmp_path):
    # a value with shell syntax reaches the program verbatim
    code = run(make_executor("local"), ["printf", "%s", "$(echo hi); rm -rf x"], tmp_path)
    assert code == 0
    assert (tmp_path / "log.txt").read_text() == "$(echo hi); rm -rf x"


def _assert_log_streamed_while_running(ex, tmp_path):
    """The first line is in the log before the process ends (not written at exit)."""
    log = tmp_path / "log.txt"
    t = threading.Thread(
        target=run, args=(ex, ["sh", "-c", "echo first; sleep 2; echo second"], tmp_path)
    )
    t.start()
    seen_first_while_running = False
    while t.is_alive():
        if log.exists() and "first" in log.read_text():
            seen_first_while_running = "second" not in log.read_text()
            break
        time.sleep(0.05)
    t.join()
    assert seen_first_while_running
    assert log.read_text().split() == ["first", "second"]


def test_log_is_streamed_while_running(tmp_path):
    _assert_log_streamed_while_running(make_executor("local"), tmp_path)


def test_local_refuses_remapped_binds_and_missing_program(tmp_path):
    ex = make_executor("local")
    with pytest.raises(ValueError, match="cannot remap"):
        run(ex, ["true"], tmp_path, binds=[Bind(tmp_path, Path("/data"), True)])
    assert run(ex, ["true"], tmp_path, binds=[Bind(tmp_path, tmp_path, True)]) == 0
    with pytest.raises(ExecutorError, match="no-such-program-hfpl"):
        run(ex, ["no-such-program-hfpl"], tmp_path)
    with pytest.raises(ValueError, match="argv"):
        run(ex, "echo hi", tmp_path)


def test_local_describe_hashes_pip_freeze():
    desc = make_executor("local").describe()
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, check=True
    ).stdout
    import hashlib

    assert desc["executor"] == "local" and desc["image"] == "local"
    assert desc["pip_freeze_sha256"] == hashlib.sha256(freeze).hexdigest()


def test_make_executor_errors():
    with pytest.raises(ValueError, match="unknown executor 'podman'.*apptainer, docker, local"):
        make_executor("podman")
    with pytest.raises(ValueError, match="bad options for the docker executor"):
        make_executor("docker")  # image missing


# ---------------------------------------------------------------- apptainer


def test_apptainer_command(tmp_path):
    ex = make_executor("apptainer", image="/images/seam.sif")
    binds = [Bind(Path("/d/voc"), Path("/data"), True), Bind(tmp_path, tmp_path, False)]
    cmd = ex.command(
        ["python", "train.py", "--seed", "1"],
        cwd=tmp_path,
        env={"CUDA_VISIBLE_DEVICES": "2", "A": "b c"},
        binds=binds,
        gpus=1,
    )
    assert cmd == [
        "apptainer", "exec", "--cleanenv", "--nv",
        "--bind", "/d/voc:/data:ro",
        "--bind", f"{tmp_path}:{tmp_path}:rw",
        "--pwd", str(tmp_path),
        "--env", "A=b c",
        "--env", "CUDA_VISIBLE_DEVICES=2",
        "/images/seam.sif", "python", "train.py", "--seed", "1",
    ]  # fmt: skip
    no_gpu = ex.command(["ls"], cwd=tmp_path, env={}, binds=[], gpus=0)
    assert "--nv" not in no_gpu and no_gpu[-2:] == ["/images/seam.sif", "ls"]


def test_apptainer_missing_binary_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    ex = ApptainerExecutor(tmp_path / "x.sif")
    with pytest.raises(ExecutorError, match="'apptainer' not found on PATH.*module load"):
        run(ex, ["ls"], tmp_path)
    assert not (tmp_path / "log.txt").exists()


# ---------------------------------------------------------------- docker (real daemon)


def _daemon_client():
    import docker

    try:
        client = docker.from_env()
        client.ping()
        return client
    except docker.errors.DockerException:
        return None


@pytest.fixture(scope="module")
def docker_image():
    """A real daemon and the local base image; started with .ci/docker-up.sh if needed."""
    pytest.importorskip("docker")
    client = _daemon_client()
    has_image = False
    if client is not None:
        has_image = bool(client.images.list(name=BASE_IMAGE))
    if client is None or not has_image:
        subprocess.run(["bash", str(REPO / ".ci" / "docker-up.sh")], check=False, timeout=600)
        client = _daemon_client()
    if client is None:
        pytest.skip("no Docker daemon can be started here (.ci/docker-up.sh)")
    if not client.images.list(name=BASE_IMAGE):
        pytest.skip(f"{BASE_IMAGE} could not be built (.ci/docker-up.sh)")
    return client


def _containers_with(client, token):
    return [c for c in client.containers.list(all=True) if token in " ".join(c.attrs["Args"])]


@pytest.mark.docker
def test_docker_uid_gid_env_cwd_caps_and_exit_code(docker_image, tmp_path, monkeypatch, capfd):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # writable by the uid the container runs as
    # run as a uid:gid other than root's, so the check means something when tests run as root
    monkeypatch.setattr(os, "getuid", lambda: 4321)
    monkeypatch.setattr(os, "getgid", lambda: 8765)
    token = uuid.uuid4().hex
    ex = make_executor("docker", image=BASE_IMAGE)
    script = (
        f"echo {token} > f.txt; id -u; id -g; pwd; echo $HFPL_X; grep CapEff /proc/self/status; "
        "echo to-stderr >&2; exit 5"
    )
    code = run(
        ex,
        ["sh", "-c", script],
        tmp_path,
        cwd=out,
        env={"HFPL_X": "hello"},
        binds=[Bind(out, out, read_only=False)],
        log=tmp_path / "log.txt",
    )
    assert code == 5
    produced = out / "f.txt"
    assert produced.read_text().strip() == token
    st = produced.stat()
    assert (st.st_uid, st.st_gid) == (4321, 8765)
    log = (tmp_path / "log.txt").read_text().split("\n")
    # stdout in order (stderr lines may interleave anywhere)
    assert [line for line in log if line != "to-stderr"][:4] == ["4321", "8765", str(out), "hello"]
    # no capabilities at all (cap_drop=ALL); stdout/stderr order across streams is not fixed
    assert "CapEff:\t0000000000000000" in log
    assert "to-stderr" in log
    assert "to-stderr" in capfd.readouterr().out
    assert _containers_with(docker_image, token) == []  # removed


@pytest.mark.docker
def test_docker_user_name_and_shared_memory(docker_image, tmp_path, monkeypatch):
    # a uid without an /etc/passwd entry in the image still has a name (getpass.getuser()) and a
    # writable HOME (the step's TMPDIR), and
    # /dev/shm is large enough for DataLoader workers (Docker's default is 64 MB)
    monkeypatch.setattr(os, "getuid", lambda: 4321)
    ex = make_executor("docker", image=BASE_IMAGE, shm_size="1g")
    script = "echo USER=$USER LOGNAME=$LOGNAME HOME=$HOME; df -k /dev/shm"
    code = run(ex, ["sh", "-c", script], tmp_path, env={"TMPDIR": "/step-tmp"})
    assert code == 0
    log = (tmp_path / "log.txt").read_text().splitlines()
    assert log[0] == "USER=hfpl LOGNAME=hfpl HOME=/step-tmp"
    assert int(log[-1].split()[1]) == 1024 * 1024  # 1 GiB in KiB


@pytest.mark.docker
def test_docker_readonly_data_and_no_network(docker_image, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "img.txt").write_text("pixels")
    ex = make_executor("docker", image=BASE_IMAGE)
    script = (
        "cat /data/img.txt; echo; echo NET: $(ls /sys/class/net); "
        "if echo x > /data/new.txt; then echo WRITE-OK; else echo WRITE-FAILED; fi"
    )
    code = run(ex, ["sh", "-c", script], tmp_path, binds=[Bind(data, Path("/data"), True)])
    assert code == 0
    log = (tmp_path / "log.txt").read_text()
    assert "pixels" in log
    assert "Read-only file system" in log and "WRITE-FAILED" in log
    assert not (data / "new.txt").exists()
    # only the loopback interface exists: the step has no network (one line, whatever the
    # interleaving with stderr)
    assert "NET: lo\n" in log


@pytest.mark.docker
def test_docker_log_streamed_while_running(docker_image, tmp_path):
    _assert_log_streamed_while_running(make_executor("docker", image=BASE_IMAGE), tmp_path)


@pytest.mark.docker
def test_docker_gpu_request_without_gpu(docker_image, tmp_path):
    token = uuid.uuid4().hex
    ex = make_executor("docker", image=BASE_IMAGE)
    with pytest.raises(ExecutorError, match="failed to start.*NVIDIA Container Toolkit"):
        run(ex, ["echo", token], tmp_path, env={"CUDA_VISIBLE_DEVICES": "1"}, gpus=1)
    assert _containers_with(docker_image, token) == []  # no leftover container


@pytest.mark.docker
def test_docker_missing_image_and_describe(docker_image, tmp_path):
    ex = make_executor("docker", image="hfpl/no-such-image:0", build_hint="make image-seam")
    with pytest.raises(ExecutorError, match="not found; build it with: make image-seam"):
        run(ex, ["true"], tmp_path)
    desc = make_executor("docker", image=BASE_IMAGE).describe()
    assert desc["executor"] == "docker" and desc["image"] == BASE_IMAGE
    assert desc["image_id"] == docker_image.images.get(BASE_IMAGE).id
    assert desc["image_id"].startswith("sha256:")


def test_docker_missing_daemon_is_one_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    ex = make_executor("docker", image=BASE_IMAGE)
    with pytest.raises(ExecutorError, match="cannot reach the Docker daemon.*start dockerd"):
        run(ex, ["true"], tmp_path)
    assert not (tmp_path / "log.txt").exists()


# ---------------------------------------------------------------- cancellation (SIGTERM)

CANCEL_SCRIPT = """
import sys
from pathlib import Path
from hfpl.workflow.executors import make_executor
kind, image, tmp = sys.argv[1:4]
ex = make_executor(kind, image=image) if kind == "docker" else make_executor(kind)
ex.run(sys.argv[4:], cwd=Path(tmp), env={}, binds=[], log=Path(tmp) / "log.txt", gpus=0)
"""


def _cancel(kind, tmp_path, argv):
    """Start a step in a child Python, SIGTERM it once it runs; return its exit code."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-c", CANCEL_SCRIPT, kind, BASE_IMAGE, str(tmp_path), *argv]
    )
    log = tmp_path / "log.txt"
    deadline = time.monotonic() + 30
    while not (log.exists() and "started" in log.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=20)


def test_local_sigterm_stops_the_step(tmp_path):
    code = _cancel("local", tmp_path, ["sh", "-c", "echo $$ > pid; echo started; exec sleep 60"])
    assert code == 128 + 15
    step_pid = int((tmp_path / "pid").read_text())
    assert not Path(f"/proc/{step_pid}").exists()  # killed and reaped, not left running


@pytest.mark.docker
def test_docker_sigterm_removes_the_container(docker_image, tmp_path):
    token = uuid.uuid4().hex
    code = _cancel("docker", tmp_path, ["sh", "-c", f"echo started; sleep 60; echo {token}"])
    assert code == 128 + 15
    assert _containers_with(docker_image, token) == []
