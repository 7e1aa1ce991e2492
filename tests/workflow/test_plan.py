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
