"""Issue 10's probes: what a new user did on a fresh clone, through real snakemake on the fixture
project, and the outcome each must now have (one line naming the fix, nothing that looks done,
recovery with identical results).

The module's project runs once (tables off: the probes are about steps, not the report); each
test that breaks it restores it and checks that the results are back.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import fixture_project
import pytest
import yaml

from hfpl.workflow.lifeline import WORKFLOW_PID_ENV

ROOT = fixture_project.ROOT
RUNS = Path("results/runs/voc/fixture")
LABEL = Path("data/VOCdevkit/VOC2012/SegmentationClass/2007_000032.png")
CHECKOUT = Path("results/checkouts/hfpl-fixture/cam-net")


def _write(workdir: Path, name: str, text: str) -> str:
    (workdir / name).write_text(text)
    return str(workdir / name)


def _sm(workdir: Path, *args: str, extra: tuple[str, ...] = (), env=None):
    configfiles = (str(workdir / "probe.yaml"), *extra)
    argv = fixture_project.snakemake_argv(workdir, *args, configfiles=configfiles)
    return subprocess.run(argv, cwd=workdir, capture_output=True, text=True, env=env, timeout=240)


def _metrics(workdir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(workdir)): p.read_bytes()
        for p in sorted((workdir / RUNS).glob("*/seed*/*/metrics/*.json"))
    }


def _manifests(workdir: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in (workdir / RUNS).rglob("manifest.json")}


def _error_lines(done: subprocess.CompletedProcess, pattern: str) -> list[str]:
    text = done.stdout + done.stderr
    return [ln for ln in text.splitlines() if re.search(pattern, ln)]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    workdir = fixture_project.make_project(tmp_path_factory.mktemp("probes"))
    _write(workdir, "probe.yaml", "report: {tables: false}\n")
    done = _sm(workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir


# ---- item 2: corrupt inputs ------------------------------------------------------------------


def test_truncated_dataset_file_stops_the_run_and_restoring_it_reruns_its_readers(project):
    before, manifests = _metrics(project), _manifests(project)
    label = project / LABEL
    good = label.read_bytes()
    label.write_bytes(good[: len(good) // 2])
    done = _sm(project)
    assert done.returncode != 0
    assert _error_lines(done, rf"{LABEL.name} has {len(good) // 2} bytes, the manifest {len(good)}")
    assert _manifests(project) == manifests  # nothing ran on the truncated file
    label.write_bytes(good)
    done = _sm(project)
    assert done.returncode == 0, done.stderr[-3000:]
    # verified again, and every reader re-ran (new manifests), with the same numbers
    assert all(_manifests(project)[m] > t for m, t in manifests.items())
    assert _metrics(project) == before


def test_truncated_step_output_is_named_before_the_next_step_reads_it(project):
    before = _metrics(project)
    cams = project / RUNS / "baseline/seed0/cams"
    npy = cams / "cams/2007_000033.npy"
    good = npy.read_bytes()
    npy.write_bytes(good[:40])
    labels = project / RUNS / "baseline/seed0/labels/manifest.json"
    labels.unlink()  # the downstream step runs again (as after any change to it)
    done = _sm(project)
    assert done.returncode != 0
    [line] = _error_lines(done, r"^hfpl workflow: error: input .*2007_000033\.npy")
    assert (
        f"of step fixture/baseline/seed0/labels has 40 bytes, step cams wrote {len(good)}" in line
    )
    assert f"re-run step cams: delete {cams}/manifest.json and run snakemake again" in line
    assert not labels.exists()
    (cams / "manifest.json").unlink()  # the fix the line names
    done = _sm(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert npy.read_bytes() == good and _metrics(project) == before


# ---- item 4: the URL is provenance ------------------------------------------------------------


def test_url_template_typo_or_mirror_reruns_nothing_and_never_deletes_a_checkout(project):
    before = _metrics(project)
    typo = _write(project, "typo.yaml", "upstream: {url_template: 'nowhere/{owner}/{name}'}\n")
    shutil.copytree(project / "upstream", project / "mirror", dirs_exist_ok=True)
    mirror = _write(project, "mirror.yaml", "upstream: {url_template: 'mirror/{owner}/{name}'}\n")
    for override in (typo, mirror):
        done = _sm(project, "-n", extra=(override,))
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Nothing to be done" in done.stdout + done.stderr
    # checkouts made again with the wrong URL: one line, the good tree stays
    [tree] = [p for p in (project / CHECKOUT).iterdir() if p.is_dir()]
    files = sorted(p.name for p in tree.iterdir())
    done = _sm(project, "--forcerun", "checkout", extra=(typo,))
    assert done.returncode != 0
    assert _error_lines(done, r"^hfpl workflow: error: cannot clone nowhere/hfpl-fixture/cam-net")
    assert sorted(p.name for p in tree.iterdir()) == files
    assert not [p for p in (project / CHECKOUT).iterdir() if p.name.startswith(".")]
    # fixed: from the mirror, the same trees and the same results
    done = _sm(project, "--forcerun", "checkout", extra=(mirror,))
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(Path(f"{tree}.json").read_text())["url"] == "mirror/hfpl-fixture/cam-net"
    assert _metrics(project) == before


# ---- item 5: --config values ------------------------------------------------------------------


def test_config_on_the_command_line_takes_numbers_and_booleans(project):
    done = _sm(project, "-n", "--config", "seeds=[0]", "smoke=false")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Nothing to be done" in done.stdout + done.stderr
    done = _sm(project, "-n", "--config", "seeds=[0, 5]", "variants=[baseline]")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "seed5" in done.stdout and "seed1" not in done.stdout
    done = _sm(project, "-n", "--config", "seeds=[zero]")
    assert done.returncode != 0
    assert _error_lines(done, r"^hfpl: configuration error: .*seeds\.0: 'zero' is not of type")


README_EXAMPLES = [
    line.strip()
    for line in (ROOT / "config/README.md").read_text().splitlines()
    if line.startswith("    hfpl workflow validate ")
]


@pytest.mark.parametrize("command", README_EXAMPLES)
def test_config_readme_examples_work_as_written(command: str) -> None:
    argv = [sys.executable, "-m", "hfpl.cli", *shlex.split(command)[1:]]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")


def test_readme_snakemake_example_works_as_written(project) -> None:
    [command] = [
        ln.strip()
        for ln in (ROOT / "config/README.md").read_text().splitlines()
        if ln.startswith("    snakemake -n --config ")
    ]
    done = _sm(project, *shlex.split(command)[1:])
    assert done.returncode == 0, done.stderr[-3000:]


def test_validate_rejects_smoke_data_below_a_methods_minimum() -> None:
    base = ["--configfile", "config/config.yaml", "profiles/smoke/overrides.yaml"]
    for images, message in (
        (4, "data.smoke.images: 4 is too small for config/methods/seam.yaml "
            "(smoke.data.images: 12); set data.smoke.images to at least 12"),
        (2, "data.smoke.images: 2 is less than 3; use 3 or more"),
    ):  # fmt: skip
        argv = [sys.executable, "-m", "hfpl.cli", "workflow", "validate", *base, "--config"]
        argv += ["methods=[seam]", f"data={{smoke: {{images: {images}}}}}"]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1
        assert done.stderr.strip().splitlines() == [
            f"hfpl workflow: error: config/config.yaml + profiles/smoke/overrides.yaml + "
            f"--config: {message}"
        ]


# ---- item 3: a step that did no work ----------------------------------------------------------


def test_step_that_did_no_work_fails_and_leaves_no_manifest(tmp_path) -> None:
    workdir = fixture_project.make_project(tmp_path)
    _write(workdir, "probe.yaml", "report: {tables: false}\nseeds: [0]\nvariants: [baseline]\n")
    method = workdir / "fixture/methods/fixture.yaml"
    doc = yaml.safe_load(method.read_text())
    # the fixture's scripts print `wrote DIR` once: labels did its work, cams "ran 0 iterations"
    doc["steps"]["cams"]["did_work"] = {"log_regex": r"^iter \d+", "min_count": 1}
    doc["steps"]["labels"]["did_work"] = {"log_regex": r"^wrote ", "min_count": 1}
    method.write_text(yaml.safe_dump(doc, sort_keys=False))
    done = _sm(workdir)
    assert done.returncode != 0
    [line] = _error_lines(done, r"^hfpl workflow: error: step fixture/baseline/seed0/cams exited 0")
    assert "did no work: 0 log lines match '^iter \\\\d+', it needs 1" in line
    assert not list((workdir / "results").rglob("manifest.json"))
    doc["steps"]["cams"]["did_work"] = {"log_regex": r"^wrote ", "min_count": 1}
    method.write_text(yaml.safe_dump(doc, sort_keys=False))
    done = _sm(workdir)
    assert done.returncode == 0, done.stderr[-3000:]


# ---- item 7: kill -9 of snakemake -------------------------------------------------------------


def _runners(workdir: Path) -> list[int]:
    """pids of `hfpl workflow run-step` processes (and their steps) of this project."""
    out = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if str(workdir) in cmdline and "snakemake" not in cmdline and state != "Z":
            out.append(int(proc.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigkill_of_snakemake_ends_its_step_and_rerun_recovers(project) -> None:
    before = _metrics(project)
    run_dir = project / RUNS / "isl/seed1/labels"
    (run_dir / "manifest.json").unlink()
    env = {**os.environ, "FIXTURE_SLEEP": "15"}
    env.pop(WORKFLOW_PID_ENV, None)
    argv = fixture_project.snakemake_argv(project, configfiles=(str(project / "probe.yaml"),))
    proc = subprocess.Popen(
        argv, cwd=project, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not ((run_dir / ".tmp").exists() and (run_dir / "labels").exists()):
        assert time.monotonic() < deadline, "the step did not start"
        time.sleep(0.2)
    assert _runners(project)
    os.kill(proc.pid, signal.SIGKILL)  # snakemake only: its job shell and the runner live on
    proc.wait()
    deadline = time.monotonic() + 10
    while _runners(project):
        assert time.monotonic() < deadline, "the step outlived snakemake"
        time.sleep(0.2)
    assert not (run_dir / "manifest.json").exists()  # nothing is left to write it
    assert _sm(project, "--unlock").returncode == 0
    done = _sm(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _metrics(project) == before
