"""Config validation (one message naming file, key and fix) and the plan built from it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import fixture_project  # noqa: E402

from hfpl.workflow import plan  # noqa: E402
from hfpl.workflow.config import ConfigError, Run, load_workflow_config  # noqa: E402

SCHEMAS = fixture_project.ROOT / "workflow" / "schemas"


def _config(**override) -> dict:
    config = yaml.safe_load((fixture_project.HERE / "config.yaml").read_text())
    return {**config, **override}


def test_fixture_config_loads_and_expands(workdir: Path) -> None:
    cfg = load_workflow_config(_config(variants=["baseline", "isl_lambda_0.2"]), SCHEMAS)
    assert [(r.variant, r.seed) for r in cfg.runs] == [
        ("baseline", 0), ("baseline", 1), ("isl_lambda_0.2", 0), ("isl_lambda_0.2", 1)
    ]  # fmt: skip
    # the sweep overrides the base's flag, also where the base had a per-method value
    assert plan.flags(cfg, "fixture", "isl_lambda_0.2") == ["--hfpl-isl-weight", "0.2"]
    assert plan.flags(cfg, "fixture", "isl") == ["--hfpl-isl-weight", "1.0"]
    run = Run("voc", "fixture", "isl", 1)
    spec = plan.step_spec(cfg, run, "cams")
    assert spec["argv"][-4:] == ["--seed", "1", "--hfpl-isl-weight", "1.0"]
    assert spec["run_dir"] == os.path.abspath("results/runs/voc/fixture/isl/seed1/cams")
    inputs = plan.step_inputs(cfg, run, "labels")
    assert plan.manifest_path(cfg, run, "cams") in inputs
    assert [i for i in inputs if "checkouts" in i] == [
        plan.checkout_marker(cfg, cfg.repos["fixture"]["SEG"])
    ]


def test_smoke_overrides_merge(workdir: Path) -> None:
    cfg = load_workflow_config(_config(smoke=True), SCHEMAS)
    assert cfg.methods["fixture"]["steps"]["labels"]["argv"][-1] == "0.4"
    assert cfg.methods["fixture"]["steps"]["labels"]["outputs"] == ["labels"]  # kept


def test_tree_key_follows_patch_content(workdir: Path) -> None:
    before = load_workflow_config(_config(), SCHEMAS).repos["fixture"]
    patch = workdir / "fixture/patches/seg-net/0001-background-flag.patch"
    patch.write_text(patch.read_text() + "\n")
    cfg = load_workflow_config(_config(), SCHEMAS)
    assert cfg.repos["fixture"]["SEG"].tree_key != before["SEG"].tree_key
    assert cfg.repos["fixture"]["CAM"].tree_key == before["CAM"].tree_key


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"seeds": "0-4"}, "config: seeds: '0-4' is not of type 'array'"),
        ({"executor": {"kind": "podman"}}, "executor.kind: 'podman' is not one of"),
        ({"variants": ["baseline", "isl_fls"]}, "unknown variant 'isl_fls'; define it in"),
        ({"methods": ["seam"]}, "unknown method 'seam' (no fixture/methods/seam.yaml)"),
        ({"data": {"roots": {}}}, "data.roots.voc: missing; set it to the dataset's root folder"),
        ({"upstream": {"url_template": "x"}}, "upstream.url_template: 'x' does not match"),
    ],
)
def test_config_errors(workdir: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(**override), SCHEMAS)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def _method_error(workdir: Path, old: str, new: str) -> str:
    text = (fixture_project.HERE / "methods" / "fixture.yaml").read_text()
    assert old in text
    (workdir / "fixture/methods/fixture.yaml").write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_workflow_config(_config(), SCHEMAS)
    return str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    outputs: [cams]", "    output: [cams]", "steps.cams: unknown key 'output'"),
        ("e9820066aff934f7af22370dcdb6e05c5e21854c", "e982006", "'e982006' is not a full 40-hex"),
        (
            '"{checkout[CAM]}/make_cams.py"',
            '"{checkout[CMA]}/make_cams.py"',
            "{checkout[CMA]} names no repo",
        ),
        (
            '"{step_dir[cams]}/cams"',
            '"{step_dir[labels]}/cams"',
            "{step_dir[labels]} must name an earlier step",
        ),
        ('"{run_dir}/cams"', '"{rundir}/cams"', "unknown placeholder {rundir}"),
        (
            "fixture/patches/seg-net",
            "fixture/patches/segnet",
            "no *.patch files in fixture/patches/segnet",
        ),
        ("        format: png", "        format: jpg", "format: 'jpg' is not one of"),
    ],
)
def test_method_errors(workdir: Path, old: str, new: str, message: str) -> None:
    assert message in _method_error(workdir, old, new)
