"""The paper-sized DAG (benchmarks/bench_dryrun.py times it) has exactly the expected jobs."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import fixture_project as fp
import yaml


def test_paper_sized_dag_job_counts(tmp_path: Path) -> None:
    workdir = fp.make_project(tmp_path)
    override = fp.add_paper_sized_grid(workdir)
    done = fp.snakemake(workdir, "-n", "--quiet", "rules", configfiles=(str(override),))
    assert done.returncode == 0, done.stderr[-3000:]
    counts = {
        rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", done.stdout + done.stderr, re.M)
    }
    # runs: main grid rows x variants x seeds, plus the ablation variants x seeds on one row
    runs = len(fp.PAPER_ROWS) * len(fp.PAPER_VARIANTS) * len(fp.PAPER_SEEDS)
    runs += len(fp.ABLATION) * len(fp.PAPER_SEEDS)
    assert runs == 175
    expected = {
        "step": runs * 9,
        "evaluate": runs * len(fp.NINE_STEPS_EVALUATED),
        # every row pins the same two repos with the same patches: one checkout each, shared
        "checkout": 2,
        # the (prepared) dataset is verified against its manifest before any step reads it
        "verify_data_voc": 1,
        "resolved_config": 1,
        "tables": 1,
        "all": 1,
    }
    expected["total"] = sum(expected.values())
    assert counts == expected


def _jobs(text: str) -> dict[str, dict[str, str]]:
    """Output (or rule name) -> {rule, input, resources, ...} of each job a dry run prints."""
    jobs = {}
    for block in text.split("\nrule ")[1:]:
        rule, _, body = block.partition(":\n")
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, re.M))
        jobs[fields.get("output", rule)] = {"rule": rule, **fields}
    return jobs


def test_gpu_run_starts_with_preflight_and_asks_per_dataset(tmp_path: Path) -> None:
    """A GPU step's request follows its dataset (COCO: per_dataset), GPU steps wait for the
    preflight job, which asks for the largest step's GPUs; a CPU run (--resources gpu=0, as the
    smoke profile) or `preflight: off` plans no preflight and the same jobs otherwise."""
    workdir = fp.make_project(tmp_path)
    fp.write_dataset(workdir / "data-coco")
    path = workdir / "fixture/methods/fixture.yaml"
    method = yaml.safe_load(path.read_text())
    method["datasets"] = ["voc", "coco"]
    method["steps"]["cams"]["resources"] = {"gpu": 1, "mem_mb": 500, "runtime": 5}
    method["steps"]["cams"]["per_dataset"] = {"coco": {"resources": {"gpu": 2, "runtime": 90}}}
    path.write_text(yaml.safe_dump(method))
    override = workdir / "gpu.yaml"
    override.write_text(yaml.safe_dump({
        "datasets": ["voc", "coco"], "seeds": [0], "variants": ["baseline"],
        "data": {"roots": {"voc": "data", "coco": "data-coco"}},
    }))  # fmt: skip
    done = fp.snakemake(workdir, "-n", "-p", configfiles=(str(override),))
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = _jobs(done.stdout)
    marker = "results/preflight.json"
    # snakemake's default tmpdir resource is the system temp dir (TMPDIR: .ci/run sets its own)
    tmp = tempfile.gettempdir()
    assert jobs[marker]["resources"] == f"tmpdir={tmp}, gpu=2, runtime=10"
    cams = {d: jobs[f"results/runs/{d}/fixture/baseline/seed0/cams/manifest.json"]
            for d in ("voc", "coco")}  # fmt: skip
    assert "gpu=1, runtime=5," in cams["voc"]["resources"]
    assert "gpu=2, runtime=90," in cams["coco"]["resources"]
    assert all(marker in job["input"].split(", ") for job in cams.values())
    labels = jobs["results/runs/voc/fixture/baseline/seed0/labels/manifest.json"]
    assert marker not in labels["input"]  # a CPU step does not wait for it
    assert f"preflight --configfile {workdir}/fixture/config.yaml {override} " in done.stdout
    for off in (("--resources", "gpu=0"), ("--config", "preflight=off")):
        cpu = fp.snakemake(workdir, "-n", *off, configfiles=(str(override),))
        assert cpu.returncode == 0, cpu.stderr[-3000:]
        assert set(_jobs(cpu.stdout)) == set(jobs) - {marker}, off
