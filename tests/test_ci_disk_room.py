"""`.ci/disk-room.sh`: CI's disk phase (a full disk once failed every test of a CI run at once)."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(need_gb: int, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, TMPDIR=str(tmp), DOCKER_HOST="unix:///nonexistent/docker.sock")
    return subprocess.run(
        ["bash", str(REPO / ".ci" / "disk-room.sh"), str(need_gb), str(tmp)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _run_dir(tmp: Path, name: str, pid: int | None) -> Path:
    run = tmp / name
    (run / "tmp").mkdir(parents=True)
    (run / "tmp" / "big").write_bytes(b"x" * 1000)
    if pid is not None:
        (run / "ci.pid").write_text(f"{pid}\n")
    return run


def test_enough_room_touches_nothing(tmp_path):
    dead = _run_dir(tmp_path, "hfpl-ci.dead", pid=None)
    done = _run(0, tmp_path)
    assert done.returncode == 0, done.stderr
    assert dead.is_dir() and done.stdout == "" and done.stderr == ""


def test_short_removes_dead_runs_only_then_fails_in_one_line(tmp_path):
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead = _run_dir(tmp_path, "hfpl-ci.dead", pid=finished.pid)
    old = _run_dir(tmp_path, "hfpl-ci.nopid", pid=None)
    live = _run_dir(tmp_path, "hfpl-ci.live", pid=os.getpid())
    other = _run_dir(tmp_path, "not-ours", pid=None)
    done = _run(10**9, tmp_path)  # no disk has a billion GB free
    assert done.returncode == 1
    assert not dead.exists() and not old.exists()
    assert live.is_dir() and other.is_dir()
    assert f"removed {dead}" in done.stdout and f"removed {old}" in done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith("disk-room: FAILED: only ") and f"GB free under {tmp_path}" in line
    assert "HFPL_CI_MIN_FREE_GB" in line
