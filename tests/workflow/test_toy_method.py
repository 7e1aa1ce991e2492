"""Adding a baseline is one YAML + one patch folder (issue 9; docs/adding-a-method.md).

A copy of the project's ``config/`` gets the toy method ``fixtures/toy/toy.yaml`` in
``config/methods/`` and its patch series in ``patches/toy-cam/``; the toy "upstream" repo is
built as a pinned git repo. Then the project's own Snakefile runs it end to end on generated
smoke data: checkout + patch, smoke dataset, the method's list files (existing formats), the
smoke stand-in of its weights file (an existing architecture), the step, the evaluation with an
existing reader, and the tables. No Python file of the project is added or changed for it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import fixture_project
import numpy as np
import pytest
import yaml

ROOT = fixture_project.ROOT
TOY = fixture_project.HERE / "toy"
RUNS = Path("results/runs/voc/toy")


@pytest.fixture(scope="module")
def toy_project(tmp_path_factory) -> Path:
    """A workdir with a copy of config/ plus the toy method, after one snakemake run."""
    work = tmp_path_factory.mktemp("toy")
    shutil.copytree(ROOT / "config", work / "config")
    shutil.copy(TOY / "toy.yaml", work / "config" / "methods" / "toy.yaml")
    shutil.copytree(TOY / "patches", work / "patches")
    pin = fixture_project.pinned_repo(
        TOY / "upstream" / "toy-cam", work / "upstream" / "hfpl-toy" / "toy-cam"
    )
    assert pin == yaml.safe_load((TOY / "toy.yaml").read_text())["repos"]["toy"]["commit"]
    override = work / "toy-run.yaml"
    override.write_text(yaml.safe_dump({
        "methods": ["toy"], "variants": ["baseline", "isl"], "seeds": [0], "extra_grids": [],
        "smoke": True, "upstream": {"url_template": "upstream/{owner}/{name}"},
        "data": {"smoke": {"generate": True, "images": 3, "size": 32}},
        "executor": {"kind": "local", "local": {"python": sys.executable}},
    }))  # fmt: skip
    argv = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work)]
    argv += ["--cores", "2", "--configfile", "config/config.yaml", str(override)]
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return work


def test_toy_method_runs_end_to_end(toy_project: Path) -> None:
    for variant in ("baseline", "isl"):
        run = toy_project / RUNS / variant / "seed0" / "cams"
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["exit_status"] == 0
        assert manifest["repos"]["toy"]["commit"].startswith("f569d09")
        metrics = json.loads((run / "metrics" / "cam_train.json").read_text())
        assert metrics["n_images"] == 2 and metrics["format"] == "cam-dict"
        assert len(list((run / "cam").glob("*.npy"))) == 2
    isl = json.loads((toy_project / RUNS / "isl/seed0/cams/manifest.json").read_text())
    assert isl["argv"][isl["argv"].index("--hfpl-isl-weight") + 1] == "0.2"
    # the add-on flag reached the patched script: its maps differ from the baseline's
    name = sorted((toy_project / RUNS / "isl/seed0/cams/cam").glob("*.npy"))[0].name
    base, sharp = (
        np.load(toy_project / RUNS / v / "seed0/cams/cam" / name, allow_pickle=True).item()
        for v in ("baseline", "isl")
    )
    assert base.keys() == sharp.keys() and not np.allclose(base[min(base)], sharp[min(sharp)])
    assert (toy_project / "results" / "tables" / "table1.md").exists()


def test_toy_method_files_are_data(toy_project: Path) -> None:
    """What the workflow generated for the toy came from its YAML: lists in the declared formats
    and the weights stand-in of the declared architecture."""
    lists = toy_project / "results/smoke-data/voc/lists/toy/voc12"
    lines = (lists / "train.txt").read_text().split("\n")
    assert lines[0] == "/JPEGImages/2007_000001.jpg /SegmentationClassAug/2007_000001.png"
    labels = np.load(lists / "cls_labels.npy", allow_pickle=True).item()
    assert set(labels) == {"2007_000001", "2007_000002", "2007_000003"}
    assert all(v.shape == (20,) and v.dtype == np.float32 for v in labels.values())
    weights = toy_project / "results/smoke-data/weights/resnet50-19c8e357.pth"
    import torch

    state = torch.load(weights, map_location="cpu")
    assert state["fc.weight"].shape == (1000, 2048) and "layer4.2.conv3.weight" in state
