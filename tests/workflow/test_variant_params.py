"""`variant_params`: per-variant step arguments ({param[NAME]}) chosen by name/pattern, in order."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import fixture_project
import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import (
    ConfigError,
    Run,
    load_workflow_config,
    variant_params,
)

SCHEMAS = fixture_project.ROOT / "workflow" / "schemas"
TABLE = {
    "isl_lambda_0.2": {"lo": 7},
    "multinomial_*": {"lo": 2, "hi": 4},
    "isl*": {"lo": 1},
    "default": {"lo": 4, "hi": 24.0},
}


def _reference(table: dict, variant: str) -> dict[str, str]:
    """Straightforward reading of the rule: scan entries in order, first match over default."""
    out = {k: str(v) for k, v in table.get("default", {}).items()}
    for pattern, values in table.items():
        if pattern != "default" and fnmatch.fnmatchcase(variant, pattern):
            out.update({k: str(v) for k, v in values.items()})
            break
    return out


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("baseline", {"lo": "4", "hi": "24.0"}),
        ("isl_fsl", {"lo": "1", "hi": "24.0"}),
        ("isl_lambda_0.2", {"lo": "7", "hi": "24.0"}),  # the earlier exact name wins
        ("isl_lambda_0.4_fsl", {"lo": "1", "hi": "24.0"}),
        ("multinomial_isl", {"lo": "2", "hi": "4"}),  # before "isl*", and not matched by it
        ("fsl_isl", {"lo": "4", "hi": "24.0"}),  # patterns match the whole name
    ],
)
def test_first_match_over_default(variant: str, expected: dict) -> None:
    assert variant_params({"variant_params": TABLE}, variant) == expected
    assert _reference(TABLE, variant) == expected


def test_no_table_no_params() -> None:
    assert variant_params({}, "baseline") == {}
    assert variant_params({"variant_params": {"isl": {"x": 1}}}, "baseline") == {}


def _with_params(workdir: Path, table: dict, background: str) -> dict:
    """The fixture method with ``table`` and the labels step's --background set to
    ``background``; returns the config of the tests."""
    path = workdir / "fixture/methods/fixture.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["variant_params"] = table
    for steps in (doc["steps"], doc["smoke"]["steps"]):
        steps["labels"]["argv"][-1] = background
    doc["steps"]["labels"]["outputs"] = ["labels", "labels_{param[bg]}"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    config = yaml.safe_load((fixture_project.HERE / "config.yaml").read_text())
    return {**config, "variants": ["baseline", "isl", "isl_lambda_0.2"]}


def test_params_reach_argv_and_outputs(workdir: Path) -> None:
    table = {"isl*": {"bg": 0.3}, "default": {"bg": 0.5}}
    cfg = load_workflow_config(_with_params(workdir, table, "{param[bg]}"), SCHEMAS)
    for variant, value in [("baseline", "0.5"), ("isl", "0.3"), ("isl_lambda_0.2", "0.3")]:
        job = plan.step_job(cfg, Run("voc", "fixture", variant, 0), "labels")
        assert job.argv[-2:] == ("--background", value)
        assert job.outputs == ("labels", f"labels_{value}")


@pytest.mark.parametrize(
    ("table", "background", "message"),
    [
        (
            {"default": {"bg": 0.5}},
            "{param[bgg]}",
            "steps.labels.argv: {param[bgg]} is not defined in variant_params (defined: ['bg'])",
        ),
        (
            {"isl*": {"bg": 0.3}},
            "{param[bg]}",
            "variant_params: no value of ['bg'] for variant 'baseline'; add them to `default`",
        ),
        ({"default": {"b g": 1}}, "0.5", "variant_params.default: 'b g' does not match"),
        ({"default": {"bg": [1]}}, "0.5", "variant_params.default.bg: [1] is not of type"),
    ],
)
def test_param_errors(workdir: Path, table: dict, background: str, message: str) -> None:
    config = _with_params(workdir, table, background)
    with pytest.raises(ConfigError) as err:
        load_workflow_config(config, SCHEMAS)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
