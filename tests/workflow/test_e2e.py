"""End to end: the real Snakefile on the fixture method (2 variants x 2 seeds), run by snakemake.

The fixture (tests/workflow/fixtures) builds two tiny upstream git repos whose HEAD is broken
(so a checkout of anything but the pin fails), a patch series per repo, and a synthetic dataset.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import fixture_project
import pytest
import yaml

RUNS = Path("results/runs/voc/fixture")
CELLS = [(v, s) for v in ("baseline", "isl") for s in (0, 1)]
STEPS = {"cams": "cam_train", "labels": "pseudo_train"}


def _metrics(workdir: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((workdir / RUNS).glob("*/seed*/*/metrics/*.json")):
        data = json.loads(path.read_text())
        out[str(path.relative_to(workdir))] = {k: data[k] for k in ("J", "F", "JF", "n_images")}
    return out


def _job_counts(workdir: Path, *args: str) -> dict[str, int]:
    """Jobs a dry run would execute, per rule."""
    done = fixture_project.snakemake(workdir, "-n", *args)
    assert done.returncode == 0, done.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", done.stdout + done.stderr, re.M))
    counts.pop("total", None)
    return {rule: int(n) for rule, n in counts.items()}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The fixture project after one complete snakemake run."""
    workdir = fixture_project.make_project(tmp_path_factory.mktemp("e2e"))
    done = fixture_project.snakemake(workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir


def test_full_run_outputs(project: Path) -> None:
    for variant, seed in CELLS:
        for step, evaluation in STEPS.items():
            run_dir = project / RUNS / variant / f"seed{seed}" / step
            manifest = json.loads((run_dir / "manifest.json").read_text())
            assert manifest["exit_status"] == 0 and manifest["seed"] == seed
            assert (run_dir / "log.txt").exists()
            assert not (run_dir / ".tmp").exists()
            metrics = json.loads((run_dir / "metrics" / f"{evaluation}.json").read_text())
            assert metrics["n_images"] == len(fixture_project.IDS)
            assert 0 <= metrics["J"] <= 100
    cams = json.loads((project / RUNS / "isl/seed1/cams/manifest.json").read_text())
    # the variant's per-method flag value and the seed reached the patched script
    assert cams["argv"][-4:] == ["--seed", "1", "--hfpl-isl-weight", "1.0"]
    pins = {r["url"].split("/")[-1]: r for r in cams["repos"].values()}
    assert set(pins) == {"cam-net"}
    assert pins["cam-net"]["patches"][0]["name"] == "0001-seed-and-isl-flags.patch"
    assert cams["executor"]["executor"] == "local" and cams["environment"]["python"]
    labels = json.loads((project / RUNS / "isl/seed1/labels/manifest.json").read_text())
    assert labels["cwd"] == labels["repos"]["SEG"]["path"]  # ran inside the read-only checkout
    # the add-on's sharper CAMs give better pseudo-labels than the baseline (fixture physics)
    metrics = _metrics(project)
    key = "results/runs/voc/fixture/{}/seed0/labels/metrics/pseudo_train.json"
    assert metrics[key.format("isl")]["J"] > metrics[key.format("baseline")]["J"]


def _tables(workdir: Path) -> dict[str, bytes]:
    """The tables' files (not Snakemake's .snakemake_timestamp) and their bytes."""
    tables = (workdir / "results/tables").iterdir()
    return {p.name: p.read_bytes() for p in sorted(tables) if not p.name.startswith(".")}


def test_tables_match_the_metrics(project: Path) -> None:
    """`hfpl tables` (the final rule) = mean/std (ddof=1)/max/n over seeds of the metric JSONs."""
    spec = yaml.safe_load((project / "fixture/tables.yaml").read_text())
    assert set(_tables(project)) == {
        f"{name}.{ext}" for name in spec["tables"] for ext in ("csv", "md", "tex", "html")
    }
    assert (project / "results/figures/fixture_arrows.png").stat().st_size > 0
    for name, table in spec["tables"].items():
        rows = list(csv.DictReader((project / f"results/tables/{name}.csv").open()))
        assert len(rows) == len(table["variants"]) * len(table["metrics"])
        md = (project / f"results/tables/{name}.md").read_text()
        for row in rows:
            values = [
                json.loads(
                    (
                        project / RUNS / row["variant"] / f"seed{seed}"
                        / ("cams" if table["evaluation"] == "cam_train" else "labels")
                        / "metrics" / f"{table['evaluation']}.json"
                    ).read_text()
                )[row["metric"]]
                for seed in (0, 1)
            ]  # fmt: skip
            mean = sum(values) / 2
            std = (sum((v - mean) ** 2 for v in values) / (2 - 1)) ** 0.5
            assert int(row["n"]) == 2 and row["complete"] == "True"
            assert float(row["mean"]) == pytest.approx(mean, abs=1e-9)
            assert float(row["std"]) == pytest.approx(std, abs=1e-9)
            assert float(row["max"]) == pytest.approx(max(values), abs=1e-9)
            assert f"{mean:.1f}" in md
    # the "paper" numbers of the fixture are printed beside ours
    labels = (project / "results/tables/fixture_labels.md").read_text()
    assert "40.0±1.5" in labels and "| 45.0 " in labels


def test_snakemake_report_holds_tables_and_figures(project: Path) -> None:
    done = fixture_project.snakemake(project, "--report", "results/report.html")
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    for name in ("fixture_cams.html", "fixture_labels.html", "fixture_arrows.png"):
        assert f"Adding {name}" in output
    assert (project / "results/report.html").stat().st_size > 0


def test_rerun_does_nothing(project: Path) -> None:
    done = fixture_project.snakemake(project)
    assert done.returncode == 0
    assert "Nothing to be done" in done.stdout + done.stderr


def test_sigkill_mid_step_then_rerun_gives_identical_results(project: Path) -> None:
    before, tables = _metrics(project), _tables(project)
    (project / RUNS / "baseline/seed0/labels/manifest.json").unlink()  # forces a rerun
    env = {**os.environ, "FIXTURE_SLEEP": "30"}
    argv = fixture_project.snakemake_argv(project)
    proc = subprocess.Popen(
        argv, cwd=project, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    run_dir = project / RUNS / "baseline/seed0/labels"
    labels = run_dir / "labels"
    deadline = time.monotonic() + 60
    # .tmp exists only while the runner runs the step (it is made after the old outputs go)
    while not ((run_dir / ".tmp").exists() and labels.exists()) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and the running steps, like `kill -9 -PGID`
    proc.wait()
    assert labels.exists(), "the step did not start"
    assert not (labels.parent / "manifest.json").exists()
    fixture_project.snakemake(project, "--unlock")
    done = fixture_project.snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _metrics(project) == before
    assert _tables(project) == tables


def test_edited_patch_reruns_only_its_dependents(project: Path) -> None:
    patch = project / "fixture/patches/seg-net/0001-background-flag.patch"
    patch.write_text(patch.read_text().replace("default=0.5", "default=0.25"))
    counts = _job_counts(project)
    # one new seg-net checkout, the 4 `labels` steps and their 4 evaluations, the tables (and
    # the resolved config, which names the new tree); no `cams` step
    assert counts == {
        "checkout": 1, "step": 4, "evaluate": 4, "resolved_config": 1, "tables": 1, "all": 1
    }  # fmt: skip


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _override(workdir: Path, text: str) -> tuple[str, ...]:
    (workdir / "override.yaml").write_text(text)
    return (str(workdir / "override.yaml"),)


def _typo(w: Path):
    return _override(w, "metods: [fixture]\n")


def _missing_pin(w: Path):
    _edit(
        w / "fixture/methods/fixture.yaml",
        "    commit: 9e4bb14de2dd847f1094a5e0bc1bd86581ca4245\n",
        "",
    )
    return ()


def _variant_names_unknown_method(w: Path):
    _edit(w / "fixture/experiments.yaml", "      fixture: {", "      fixtrue: {")
    return ()


def _bad_clone_url(w: Path):
    return _override(w, "upstream: {url_template: 'nowhere/{owner}/{name}'}\n")


def _unknown_commit(w: Path):
    _edit(
        w / "fixture/methods/fixture.yaml",
        "9e4bb14de2dd847f1094a5e0bc1bd86581ca4245",
        "deadbeef" * 5,
    )
    return ()


def _patch_does_not_apply(w: Path):
    _edit(w / "fixture/patches/cam-net/0001-seed-and-isl-flags.patch", "-noise = 1.5", "-noise = 9")
    return ()


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            _typo,
            r"override.yaml: top level: unknown key 'metods' \(allowed: .*\); fix the spelling",
        ),
        (_missing_pin, r"fixture.yaml: repos.CAM: missing key 'commit'; add it"),
        (
            _variant_names_unknown_method,
            r"experiments.yaml: variants.isl.per_method: unknown method 'fixtrue'",
        ),
        (_bad_clone_url, r"cannot clone nowhere/hfpl-fixture/.*offline\? wrong upstream.url_temp"),
        (
            _unknown_commit,
            r"commit (deadbeef){5} not found in upstream/hfpl-fixture/cam-net; fix the pin",
        ),
        (
            _patch_does_not_apply,
            r"patch 0001-seed-and-isl-flags.patch does not apply to .*: file make_cams.py, "
            r"hunk @@ -11,10 \+11,13 @@",
        ),
    ],
)
def test_bad_input_gives_one_message_and_no_complete_output(tmp_path, breakage, message) -> None:
    workdir = fixture_project.make_project(tmp_path)
    configfiles = breakage(workdir)
    done = fixture_project.snakemake(workdir, configfiles=configfiles)
    assert done.returncode != 0
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if re.search(message, ln)]
    assert lines, done.stdout + done.stderr
    assert lines[0].startswith(("hfpl: configuration error: ", "hfpl workflow: error: "))
    results = workdir / "results"
    assert not list(results.rglob("manifest.json")) + list(results.rglob("metrics/*.json"))
    # the broken repo has neither marker nor tree nor temporary clone (seg-net may be complete)
    broken = results / "checkouts/hfpl-fixture/cam-net"
    assert not [p for p in broken.glob("*") if p.suffix != ".log"]
