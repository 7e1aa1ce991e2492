"""CI smoke (issue 11): every configured row on the real upstream code, in its container.

One test per ``config/methods/<m>.yaml`` (a new row joins by its YAML alone): ``snakemake
--workflow-profile profiles/smoke`` with methods [m], variants [isl_fsl], seeds [0], all of the
row's steps through the docker executor in ``HFPL_CI_IMAGE`` (a template over the YAML's
``image``, default ``hfpl/{image}:cpu``: what ``make images IMAGE_VARIANT=cpu IMAGE_TAG=cpu``
builds), cloning from the local mirrors in ``HFPL_UPSTREAM_DIR``. The containers run without
network, with the data read-only, as the invoking uid:gid; run as root, the workflow drops to the
unprivileged ``HFPL_CI_UID`` (default 4321; it keeps only CAP_DAC_READ_SEARCH, to read the venv
and checkout wherever root keeps them) so that the containers are non-root too. Checked per row:
every step's manifest (exit 0, the docker executor, the image's id), that the step's outputs
belong to that uid, every evaluation JSON the YAML declares (where it names the upstream
evaluator's printed J, `upstream_log`, that ours agrees with it), and the row's isl_fsl lines in
the smoke tables.

The smoke data (one tree per dataset, sized for the most demanding row), the weight stand-ins and
the checkouts are made once and shared by all rows; each row has its own results dir. The
workflow runs from a copy of the working tree in a temp dir (its own ``.snakemake``).

Needs a Docker daemon with the images and ``HFPL_UPSTREAM_DIR``: skipped without them, except
with ``HFPL_CI=1`` (.ci/run), where their absence fails the test. ``HFPL_CI_TIMINGS``: a file that
gets one ``row<TAB>seconds<TAB>passed|failed<TAB>reason`` line per row (.ci/run prints them at the
end, where CI's log tail shows them; the reason is the failure's first line). A row's workflow runs
at most ``HFPL_CI_ROW_TIMEOUT`` seconds (default 1500; the test's pytest timeout a minute more).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
METHODS = sorted(p.stem for p in (ROOT / "config" / "methods").glob("*.yaml"))
VARIANT, SEED = "isl_fsl", 0
PROFILE = ["config/config.yaml", "profiles/smoke/overrides.yaml"]
IMAGE = os.environ.get("HFPL_CI_IMAGE", "hfpl/{image}:cpu")
ROW_TIMEOUT_S = int(os.environ.get("HFPL_CI_ROW_TIMEOUT", "1500"))

pytestmark = [pytest.mark.upstream, pytest.mark.docker]


def _unavailable(reason: str) -> None:
    """Skip on users' machines; fail in CI, where every row's smoke must run."""
    if os.environ.get("HFPL_CI") == "1":
        pytest.fail(f"CI smoke cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _method(name: str) -> dict:
    return _yaml(ROOT / "config" / "methods" / f"{name}.yaml")


def _smoke_data() -> dict[str, int]:
    """Smoke data size every row runs on: the profile's, raised to each row's ``smoke.data``."""
    size = dict(_yaml(ROOT / PROFILE[1])["data"]["smoke"])
    for name in METHODS:
        need = _method(name).get("smoke", {}).get("data", {})
        for key in ("images", "size"):
            size[key] = max(size[key], need.get(key, 0))
    return {"images": size["images"], "size": size["size"]}


def _docker():
    import docker

    try:
        client = docker.from_env()
        client.ping()
        return client
    except docker.errors.DockerException as err:
        _unavailable(f"no Docker daemon ({err}); start one with .ci/docker-up.sh")


def _copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked + untracked, not ignored) copied to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():  # a tracked file deleted in the working tree is listed too
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


class Ci:
    """The shared state of one CI smoke session (see the module doc)."""

    def __init__(self, work: Path, upstream: Path, uid: int, gid: int, prefix: list[str]):
        self.work, self.upstream, self.uid, self.gid, self.prefix = work, upstream, uid, gid, prefix
        self.tree = work / "tree"
        self.env = dict(os.environ)
        # the workflow imports hfpl from the same snapshot as its Snakefile and config
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(self.tree / "src"), os.environ.get("PYTHONPATH")])
        )
        if prefix:  # an unprivileged identity needs its own home (and trusts the mirrors)
            home = work / "home"
            home.mkdir()
            (home / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")
            # getpass.getuser() reads LOGNAME first: the uid need not be in /etc/passwd
            self.env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), LOGNAME="hfpl-ci")
            self.env["USER"] = "hfpl-ci"

    def settings(self, method: str, results: Path) -> dict:
        config = _yaml(ROOT / PROFILE[0])
        datasets = [d for d in config["datasets"] if d in _method(method).get("datasets", ["voc"])]
        assert datasets, f"{method} runs none of the smoke datasets {config['datasets']}"
        return {
            "methods": [method],
            "variants": [VARIANT],
            "seeds": [SEED],
            "datasets": datasets,
            "extra_grids": [],
            "results_dir": str(results),
            "checkouts_dir": str(self.work / "checkouts"),
            "gpu_lock_dir": str(self.work / "gpu-locks"),
            "upstream": {"url_template": f"{self.upstream}/{{owner}}+{{name}}/repo"},
            "data": {"smoke": {"root": str(self.work / "smoke-data"), **_smoke_data()}},
            "executor": {"kind": "docker", "docker": {"image": IMAGE}},
        }

    def snakemake(self, method: str, results: Path) -> subprocess.CompletedProcess:
        override = self.work / f"{method}.yaml"
        override.write_text(yaml.safe_dump(self.settings(method, results)))
        os.chown(override, self.uid, self.gid)
        exe = Path(sys.executable).with_name("snakemake")
        argv = [*self.prefix, str(exe), "--cores", "2", "--workflow-profile", "profiles/smoke"]
        argv += ["--configfile", *PROFILE, str(override)]  # --configfile takes every later word
        return subprocess.run(
            argv, cwd=self.tree, env=self.env, capture_output=True, text=True,
            timeout=ROW_TIMEOUT_S,
        )  # fmt: skip


@pytest.fixture(scope="session")
def ci() -> Ci:
    base = os.environ.get("HFPL_UPSTREAM_DIR")
    if not base or not Path(base).is_dir():
        _unavailable("set HFPL_UPSTREAM_DIR to a folder of <owner>+<name>/repo upstream copies")
    _docker()
    uid, gid, prefix = os.getuid(), os.getgid(), []
    if uid == 0:  # containers run as the invoking uid: never as root
        uid = gid = int(os.environ.get("HFPL_CI_UID", "4321"))
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        sock = Path(host.removeprefix("unix://"))
        # the daemon's socket group, so the unprivileged workflow may talk to it
        groups = f"--groups={sock.stat().st_gid}" if sock.exists() else "--clear-groups"
        # read access to the venv and checkout wherever root keeps them (e.g. a 0700 home);
        # writes stay the uid's, and the containers get no capabilities at all
        caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", groups, *caps, "--"]
    work = Path(tempfile.mkdtemp(prefix="hfpl-ci-smoke-"))
    work.chmod(0o755)
    state = Ci(work, Path(base).resolve(), uid, gid, prefix)
    _copy_tree(state.tree)
    if prefix:
        for path in [work, *work.rglob("*")]:
            os.lchown(path, uid, gid)
    yield state
    if os.environ.get("HFPL_CI_KEEP") != "1":
        shutil.rmtree(work, ignore_errors=True)


def _record(method: str, seconds: float, status: str, reason: str = "") -> None:
    path = os.environ.get("HFPL_CI_TIMINGS")
    if path:
        reason = " ".join(reason.split())[:300]  # one line: the TSV's last field
        with open(path, "a") as fh:
            fh.write(f"{method}\t{seconds:.0f}\t{status}\t{reason}\n")


@pytest.mark.timeout(ROW_TIMEOUT_S + 60)
@pytest.mark.parametrize("method", METHODS)
def test_ci_smoke(ci: Ci, method: str) -> None:
    spec = _method(method)
    image = IMAGE.format(image=spec.get("image", "base"))
    import docker

    try:
        image_id = _docker().images.get(image).id
    except docker.errors.ImageNotFound:
        _unavailable(
            f"image {image} missing; build it: make images IMAGE_VARIANT=cpu IMAGE_TAG=cpu"
        )
    for repo in spec["repos"].values():
        if not (ci.upstream / f"{repo['owner']}+{repo['name']}" / "repo").is_dir():
            _unavailable(f"no {repo['owner']}+{repo['name']}/repo under {ci.upstream}")

    results = ci.work / f"results-{method}"
    t0, status, reason = time.monotonic(), "failed", ""
    try:
        done = ci.snakemake(method, results)
        output = done.stdout + done.stderr
        log = ci.work / f"{method}.log"
        log.write_text(output)
        errors = [ln for ln in output.splitlines() if re.search("error|exception", ln, re.I)][:5]
        reason = errors[0] if errors else output.strip().rsplit("\n", 1)[-1]
        assert done.returncode == 0, (
            f"{method} CI smoke failed; first errors: {errors}; tail:\n{output[-4000:]}\n"
            f"(whole log: {log}, kept with HFPL_CI_KEEP=1)"
        )
        reason = ""
        _check_row(ci, method, spec, image, image_id, results)
        status = "passed"
    except BaseException as err:  # pytest's Failed and timeouts too
        reason = reason or f"{type(err).__name__}: {err}"
        raise
    finally:
        _record(method, time.monotonic() - t0, status, reason)


def _check_row(ci: Ci, method: str, spec: dict, image: str, image_id: str, results: Path) -> None:
    datasets = ci.settings(method, results)["datasets"]
    for dataset in datasets:
        run = results / "runs" / dataset / method / VARIANT / f"seed{SEED}"
        for step, step_spec in spec["steps"].items():
            step_dir = run / step
            manifest = json.loads((step_dir / "manifest.json").read_text())
            assert manifest["exit_status"] == 0, step
            executor = manifest["executor"]
            assert executor["executor"] == "docker" and executor["image"] == image, step
            assert executor["image_id"] == image_id, step
            made = [p for p in step_dir.rglob("*") if p.is_file()]
            assert made, step
            assert ci.uid != 0 and all(p.stat().st_uid == ci.uid for p in made), step
            for evaluation, ev_spec in step_spec.get("evaluations", {}).items():
                metrics = json.loads((step_dir / "metrics" / f"{evaluation}.json").read_text())
                assert metrics["n_images"] > 0 and metrics["num_classes"] > 1, evaluation
                assert 0 <= metrics["J"] <= 100, evaluation
                if "upstream_log" in ev_spec:  # the upstream evaluator printed the same J
                    up = metrics["upstream"]
                    assert up["agrees"], f"{evaluation}: ours - upstream = {up['difference']}"
    _check_tables(method, datasets, results)


def _check_tables(method: str, datasets: list[str], results: Path) -> None:
    """The row's isl_fsl cells of every table of its datasets that lists it: one run each."""
    tables = _yaml(ROOT / "config" / "tables.yaml")
    rows = {k for k, r in tables["rows"].items() if r.get("method", k) == method}
    seen = 0
    for key, table in tables["tables"].items():
        listed = rows & set(table["rows"])
        if table["dataset"] not in datasets or VARIANT not in table["variants"] or not listed:
            continue
        if SEED not in table.get("seeds", tables["seeds"]):
            continue
        with open(results / "tables" / f"{key}.csv", newline="") as fh:
            lines = [r for r in csv.DictReader(fh) if r["row"] in listed]
        cells = {(r["row"], r["metric"]): r for r in lines if r["variant"] == VARIANT}
        assert set(cells) == {(row, m) for row in listed for m in table["metrics"]}, key
        for cell in cells.values():
            assert int(cell["n"]) == 1 and math.isfinite(float(cell["mean"])), (key, cell)
        seen += 1
    assert seen, f"no smoke table lists a row of {method} (config/tables.yaml rows: method)"
