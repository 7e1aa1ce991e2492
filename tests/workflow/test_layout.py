"""hfpl.workflow.layout: the one run/checkout layout, and parsing it back."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from hfpl.workflow import layout


def test_run_paths() -> None:
    step = layout.run_dir("results/runs", "voc", "m", "isl", 2, "cams")
    assert step == "results/runs/voc/m/isl/seed2/cams"
    assert layout.manifest(step) == f"{step}/manifest.json"
    assert layout.log(step) == f"{step}/log.txt"
    assert layout.metrics(step, "cam_train") == f"{step}/metrics/cam_train.json"
    # the rules' wildcard pattern is the same function over the wildcard names
    pattern = layout.run_dir("R", "{dataset}", "{method}", "{variant}", "{seed}", "{step}")
    assert pattern == "R/{dataset}/{method}/{variant}/seed{seed}/{step}"


def test_metrics_paths_parse_back(tmp_path) -> None:
    runs = tmp_path / "runs"
    path = runs / layout.metrics(layout.run_dir(".", "coco", "m", "v", 11, "s"), "e")
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    (found,) = runs.glob(layout.METRICS_GLOB)
    run, evaluation = layout.parse_metrics(found.relative_to(runs))
    assert run == layout.RunStep("coco", "m", "v", 11, "s") and evaluation == "e"
    with pytest.raises(ValueError, match="'s11' is not seed<N>"):
        layout.parse_metrics(PurePath("coco/m/v/s11/s/metrics/e.json"))


def test_checkout_and_lists_paths() -> None:
    key = "o/n/" + "a" * 40 + "-" + "b" * 16
    assert layout.checkout_dir("results/checkouts", key) == f"results/checkouts/{key}"
    assert layout.checkout_marker("c", key) == f"c/{key}.json"
    assert layout.lists_dir("/data/voc", "m") == "/data/voc/lists/m"
