"""hfpl.workflow.plan on the fixture method: data paths per dataset, what a step waits for, the
executor options per method image, evaluation arguments and the checkout job."""

from __future__ import annotations

import os
from pathlib import Path

import fixture_project
import pytest
import yaml

from hfpl.data.layout import MARKER
from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config

SCHEMAS = fixture_project.ROOT / "workflow" / "schemas"
RUN = Run("voc", "fixture", "isl", 1)
R50 = {"smoke": "torchvision-resnet50", "urls": [], "loading": "model zoo"}


def _cfg(workdir: Path, method: dict | None = None, **override):
    path = workdir / "fixture/methods/fixture.yaml"
    doc = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**doc, **(method or {})}))
    config = yaml.safe_load((fixture_project.HERE / "config.yaml").read_text())
    return load_workflow_config({**config, **override}, SCHEMAS)


def test_data_roots_real_and_smoke(workdir: Path) -> None:
    cfg = _cfg(workdir)
    assert plan.data_root(cfg, "voc") == "data" and plan.weights_dir(cfg) == "data/weights"
    assert plan.dataset_marker(cfg, "voc") == f"data/{MARKER}"
    assert plan.dataset_args(cfg, "voc") == ["data", "voc", "--root", "data"]
    smoke = _cfg(workdir, smoke=True, data={"smoke": {"generate": True, "root": "s"}})
    assert plan.data_root(smoke, "voc") == "s/voc" and plan.weights_dir(smoke) == "s/weights"
    args = ["smoke-data", "--dataset", "voc", "--out", "s/voc", "--images", "8", "--size", "64"]
    assert plan.dataset_args(smoke, "voc") == [*args, "--seed", "0"]


def test_step_waits_for_its_lists_and_named_weights_only(workdir: Path) -> None:
    method = yaml.safe_load((fixture_project.HERE / "methods/fixture.yaml").read_text())
    method["steps"]["cams"]["argv"] += ["--init", "{weights_dir}/r50.pth", "--l", "{lists}/a"]
    method["lists"] = {"voc": [{"path": "a", "format": "id-per-line", "split": "train"}]}
    method["weights"] = {"r50.pth": R50, "unused.pth": R50}
    cfg = _cfg(workdir, method)
    cams, labels = plan.step_inputs(cfg, RUN, "cams"), plan.step_inputs(cfg, RUN, "labels")
    stamp = plan.verified_stamp(cfg, "voc")  # after `hfpl data verify` of the dataset
    assert {stamp, "data/lists/fixture", "data/weights/r50.pth"} <= set(cams)
    assert "data/weights/unused.pth" not in cams
    assert stamp in labels and "data/lists/fixture" not in labels
    assert plan.manifest_path(cfg, RUN, "cams") in labels
    assert plan.lists_targets(cfg) == [("voc", "fixture")]
    argv = plan.step_job(cfg, RUN, "cams").argv
    assert argv[argv.index("--l") + 1] == os.path.abspath("data/lists/fixture/a")
    assert plan.weights_args(cfg, "r50.pth")[:4] == ["data", "weights", "--dir", "data/weights"]


@pytest.mark.parametrize(
    ("kind", "image", "expected"),
    [
        ("docker", "seglayer", {"image": "hfpl/seglayer:latest", "network": "bridge"}),
        ("docker", None, {"image": "hfpl/base:latest", "network": "bridge"}),
        ("apptainer", "seglayer", {"image": "containers/seglayer.sif"}),
    ],
)
def test_executor_options_per_method_image(workdir: Path, kind, image, expected) -> None:
    executor = {
        "kind": kind,
        "docker": {"image": "hfpl/{image}:latest"},
        "apptainer": {"image": "containers/{image}.sif"},
    }
    cfg = _cfg(workdir, {"image": image} if image else {}, executor=executor)
    assert plan.executor_options(cfg, "fixture", network=True) == expected
    job = plan.step_job(cfg, RUN, "cams")
    assert job.executor == kind and job.executor_options["image"] == expected["image"]


def test_local_executor_keeps_python(workdir: Path) -> None:
    cfg = _cfg(workdir)
    assert plan.executor_options(cfg, "fixture", network=True) == {"python": plan.python(cfg)}


def test_evaluation_argv_and_checkout_job(workdir: Path) -> None:
    cfg = _cfg(workdir)
    argv = plan.evaluation_argv(cfg, RUN, "labels", "pseudo_train")
    assert argv[argv.index("--format") + 1] == "label-png"
    assert argv[argv.index("--num-classes") + 1] == "21"
    assert argv[-2:] == ["--out", plan.metrics_path(cfg, RUN, "labels", "pseudo_train")]
    repo = cfg.repos["fixture"]["CAM"]
    job = plan.checkout_job(cfg, repo.checkout_id)
    assert (job.commit, job.dest) == (repo.commit, plan.checkout_dir(cfg, repo))
    # the URL is provenance, not identity: it reaches the job through the environment
    assert "url" not in job.to_json() and plan.checkout_urls(cfg)[job.dest] == repo.url
    assert job.patches == tuple(str(p) for p in repo.patches)
    assert job.sparse_exclude == ("/README.md",)


# the fixture method on VOC and COCO, its CAM step a GPU step that asks for more on COCO
PER_DATASET = {
    "datasets": ["voc", "coco"],
    "steps": {
        "cams": {"resources": {"gpu": 1, "mem_mb": 500, "runtime": 5},
                 "estimate": {"gpu_hours": 1.0, "gpu_mem_mb": 8000},
                 "per_dataset": {"coco": {"resources": {"gpu": 2, "runtime": 90},
                                          "estimate": {"gpu_hours": 8.0}}}},
    },
}  # fmt: skip
COCO = {"datasets": ["voc", "coco"], "data": {"roots": {"voc": "data", "coco": "data-coco"}}}


def _per_dataset(workdir: Path, change: dict | None = None, **override):
    method = yaml.safe_load((fixture_project.HERE / "methods/fixture.yaml").read_text())
    cams = {**method["steps"]["cams"], **PER_DATASET["steps"]["cams"], **(change or {})}
    steps = {**method["steps"], "cams": cams}
    return _cfg(workdir, {"datasets": PER_DATASET["datasets"], "steps": steps}, **COCO, **override)


def test_resources_per_step_and_dataset(workdir: Path) -> None:
    cfg = _per_dataset(workdir)
    coco = Run("coco", "fixture", "isl", 1)
    assert plan.step_resources(cfg, "fixture", "cams", "voc") == {
        "gpu": 1, "mem_mb": 500, "runtime": 5, "threads": 1}  # fmt: skip
    assert plan.step_resources(cfg, "fixture", "cams", "coco") == {
        "gpu": 2, "mem_mb": 500, "runtime": 90, "threads": 1}  # fmt: skip
    assert plan.step_job(cfg, RUN, "cams").gpus == 1
    assert plan.step_job(cfg, coco, "cams").gpus == 2
    assert list(plan.gpu_steps(cfg)) == [("fixture", "cams", "voc"), ("fixture", "cams", "coco")]
    assert plan.preflight_gpus(cfg) == 2


def test_resources_and_estimates_are_not_the_identity(workdir: Path) -> None:
    """A new estimate or request changes neither the job Snakemake sees nor its identity (no
    finished run goes stale); only the GPU count reaches the job, and not its identity."""
    runs = [RUN, Run("coco", "fixture", "isl", 1)]
    before = {r: plan.step_job(_per_dataset(workdir), r, "cams") for r in runs}
    changes = [
        {"estimate": {"gpu_hours": 99.0, "gpu_mem_mb": 1}},
        {"per_dataset": {"coco": {"resources": {"gpu": 2}, "estimate": {"gpu_hours": 0.5}}}},
        {"resources": {"gpu": 1, "mem_mb": 64000, "runtime": 2000, "threads": 8}},
    ]
    for change in changes:
        cfg = _per_dataset(workdir, change)
        for run in runs:
            assert plan.step_job(cfg, run, "cams").to_json() == before[run].to_json(), change
    cfg = _per_dataset(workdir, {"per_dataset": {}})
    after = plan.step_job(cfg, runs[1], "cams")
    assert after.gpus == 1 and after.identity == before[runs[1]].identity


def test_preflight_runs_for_gpu_steps_where_gpus_are_given(workdir: Path) -> None:
    cpu = _cfg(workdir)
    assert plan.gpu_steps(cpu) == {} and plan.preflight_gpus(cpu) == 1
    assert not plan.runs_preflight(cpu, gpus_given=True)
    assert plan.runs_preflight(_cfg(workdir, preflight=True), gpus_given=False)
    gpu = _per_dataset(workdir)
    assert plan.runs_preflight(gpu, gpus_given=True)
    assert not plan.runs_preflight(gpu, gpus_given=False)  # --resources gpu=0
    assert not plan.runs_preflight(_per_dataset(workdir, preflight=False), gpus_given=True)
    assert plan.preflight_marker(gpu) == "results/preflight.json"


def test_a_smoke_step_drops_the_per_dataset_requests(workdir: Path) -> None:
    """The smoke override of a step is a small CPU job on every dataset: COCO's paper-sized
    request (``per_dataset``) does not come back over the override's ``resources``."""
    cfg = _per_dataset(workdir, smoke=True)
    assert plan.step_resources(cfg, "fixture", "cams", "coco")["gpu"] == 2  # cams: no override
    path = workdir / "fixture/methods/fixture.yaml"
    method = yaml.safe_load(path.read_text())
    method["smoke"]["steps"]["cams"] = {"resources": {"gpu": 0, "runtime": 5}}
    path.write_text(yaml.safe_dump(method))
    cfg = _per_dataset(workdir, smoke=True)
    assert plan.step_resources(cfg, "fixture", "cams", "coco")["gpu"] == 0
    assert plan.gpu_steps(cfg) == {}


def test_estimates_of_the_real_methods_are_not_the_identity(tmp_path, monkeypatch) -> None:
    """Every estimate of config/methods changed (and COCO's per_dataset dropped): each expected
    step identity of the real configuration stays, so no finished run goes stale."""
    root = fixture_project.ROOT
    monkeypatch.chdir(root)
    config = {**yaml.safe_load((root / "config/config.yaml").read_text()), "seeds": [0]}
    before = plan.identities(load_workflow_config(config, SCHEMAS))
    for path in (root / "config/methods").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for step in doc["steps"].values():
            step.pop("per_dataset", None)
            if "estimate" in step:
                step["estimate"] = {"gpu_hours": 123.0, "gpu_mem_mb": 1}
        (tmp_path / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    cfg = load_workflow_config({**config, "methods_dir": str(tmp_path)}, SCHEMAS)
    assert any("estimate" in s for m in cfg.methods.values() for s in m["steps"].values())
    assert plan.identities(cfg) == before
