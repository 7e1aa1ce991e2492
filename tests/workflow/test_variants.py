"""hfpl.workflow.variants: sweep expansion, the one sweep naming rule, per-method flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfpl.workflow.schema import ConfigError
from hfpl.workflow.variants import expand_sweeps, flag_items, sweep_names

EXPERIMENTS = {
    "variants": {
        "baseline": {"flags": {}},
        "isl": {
            "flags": {"--w": 0.2, "--n": 10},
            "per_method": {"m": {"--w": 0.02, "--s": 0.1}, "m@coco": {"--n": 5}},
        },
    },
    "sweeps": {
        "lam": {"base": "isl", "flag": "--w", "values": [0.0, 1.0], "name": "isl_w_{value}",
                "flags": {"--extra": 1}},
    },
}  # fmt: skip


def test_sweep_variants_inherit_base_and_override_the_swept_flag() -> None:
    variants = expand_sweeps(EXPERIMENTS, Path("e.yaml"))
    assert sweep_names(EXPERIMENTS["sweeps"]["lam"]) == ["isl_w_0.0", "isl_w_1.0"]
    assert set(variants) == {"baseline", "isl", "isl_w_0.0", "isl_w_1.0"}
    swept = variants["isl_w_1.0"]
    assert swept["flags"] == {"--w": 1.0, "--n": 10, "--extra": 1}
    # the sweep value wins over a per-method value of the swept flag; other per-method values stay
    assert swept["per_method"] == {"m": {"--s": 0.1}, "m@coco": {"--n": 5}}


def test_flag_items_layer_method_and_dataset_values() -> None:
    isl = expand_sweeps(EXPERIMENTS, Path("e.yaml"))["isl"]
    assert flag_items(isl, "other") == ["--w", "0.2", "--n", "10"]
    assert flag_items(isl, "m", "voc") == ["--w", "0.02", "--n", "10", "--s", "0.1"]
    assert flag_items(isl, "m", "coco") == ["--w", "0.02", "--n", "5", "--s", "0.1"]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"base": "nope", "flag": "--w", "values": [1], "name": "x_{value}"}, "unknown variant"),
        ({"base": "isl", "flag": "--w", "values": [1], "name": "baseline"}, "already exists"),
    ],
)
def test_bad_sweeps_are_one_line_config_errors(sweep: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        expand_sweeps({**EXPERIMENTS, "sweeps": {"s": sweep}}, Path("e.yaml"))
    assert "\n" not in str(err.value) and str(err.value).startswith("e.yaml: sweeps.s")
