"""Per-dataset differences: `dataset_params` ({param[NAME]} by dataset) and `per_method`
entries `method@dataset` (flag values of one method on one dataset)."""

from __future__ import annotations

from pathlib import Path

import fixture_project
import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import ConfigError, Run, load_workflow_config, variant_params

SCHEMAS = fixture_project.ROOT / "workflow" / "schemas"


def test_dataset_entry_over_default_and_variant_params_beside() -> None:
    doc = {
        "dataset_params": {"default": {"root": "voc", "n": 21}, "coco": {"root": "coco", "n": 81}},
        "variant_params": {"isl*": {"lo": 1}, "default": {"lo": 4}},
    }
    assert variant_params(doc, "isl", "coco") == {"root": "coco", "n": "81", "lo": "1"}
    assert variant_params(doc, "baseline", "voc") == {"root": "voc", "n": "21", "lo": "4"}
    assert variant_params(doc, "baseline") == {"root": "voc", "n": "21", "lo": "4"}


def _two_datasets(workdir: Path, dataset_params: dict) -> dict:
    """Fixture method on voc + coco with ``{data_root}/{param[list]}`` as the cams list and
    ``{param[n]}`` as cam_train's num_classes; isl has a `fixture@coco` flag value."""
    path = workdir / "fixture/methods/fixture.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["datasets"] = ["voc", "coco"]
    doc["dataset_params"] = dataset_params
    doc["steps"]["cams"]["argv"][5] = "{data_root}/{param[list]}"
    doc["steps"]["cams"]["evaluations"]["cam_train"]["num_classes"] = "{param[n]}"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    exp_path = workdir / "fixture/experiments.yaml"
    exp = yaml.safe_load(exp_path.read_text())
    exp["variants"]["isl"]["per_method"]["fixture@coco"] = {"--hfpl-isl-weight": 0.2}
    exp_path.write_text(yaml.safe_dump(exp, sort_keys=False))
    config = yaml.safe_load((fixture_project.HERE / "config.yaml").read_text())
    config["data"]["roots"]["coco"] = "data-coco"
    return {
        **config,
        "datasets": ["voc", "coco"],
        "variants": ["baseline", "isl", "isl_lambda_0.2"],
    }


def test_per_dataset_argv_num_classes_and_flags(workdir: Path) -> None:
    table = {"default": {"list": "voc.txt", "n": 21}, "coco": {"list": "coco.txt", "n": 81}}
    cfg = load_workflow_config(_two_datasets(workdir, table), SCHEMAS)
    for dataset, n, isl in [("voc", "21", "1.0"), ("coco", "81", "0.2")]:
        run = Run(dataset, "fixture", "isl", 0)
        job = plan.step_job(cfg, run, "cams")
        root = str(Path(plan.data_root(cfg, dataset)).resolve())
        assert job.argv[5] == f"{root}/{dataset}.txt"
        assert job.argv[-2:] == ("--hfpl-isl-weight", isl)
        ev = plan.evaluation_argv(cfg, run, "cams", "cam_train")
        assert ev[ev.index("--num-classes") + 1] == n
    # a sweep of isl overrides the swept flag everywhere, the `@coco` value included
    assert plan.flags(cfg, "fixture", "isl_lambda_0.2", "coco") == ["--hfpl-isl-weight", "0.2"]
    assert plan.flags(cfg, "fixture", "baseline", "coco") == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"voc": {"list": "a", "n": 21}}, "no value of ['list', 'n'] for variant 'baseline'"),
        ({"default": {"list": "a", "n": 21, "bg": 1}}, "['bg'] defined in both variant_params"),
    ],
)
def test_errors(workdir: Path, table: dict, message: str) -> None:
    config = _two_datasets(workdir, table)
    if "bg" in table.get("default", {}):
        path = workdir / "fixture/methods/fixture.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["variant_params"] = {"default": {"bg": 2}}
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        load_workflow_config(config, SCHEMAS)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_method_in_at_key(workdir: Path) -> None:
    config = _two_datasets(workdir, {"default": {"list": "a", "n": 21}})
    exp_path = workdir / "fixture/experiments.yaml"
    exp = yaml.safe_load(exp_path.read_text())
    exp["variants"]["isl"]["per_method"]["nope@coco"] = {"--hfpl-isl-weight": 0.2}
    exp_path.write_text(yaml.safe_dump(exp, sort_keys=False))
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        load_workflow_config(config, SCHEMAS)
