"""hfpl.workflow.cost and `hfpl plan`: jobs and GPU-hours per target, before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hfpl.cli import main
from hfpl.workflow import cost
from hfpl.workflow.resources import step_estimate, step_resources

REPO = Path(__file__).resolve().parents[2]

# a three-step method: train -> infer (evaluation "cams") -> final (evaluation "final"),
# plus a side step nothing reads
METHOD = {
    "datasets": ["voc", "coco"],
    "steps": {
        "train": {
            "argv": ["train.py"],
            "resources": {"gpu": 2, "runtime": 600},
            "estimate": {"gpu_hours": 3.0, "gpu_mem_mb": 20000},
            "per_dataset": {
                "coco": {"resources": {"runtime": 4800}, "estimate": {"gpu_hours": 24.0}}
            },
        },  # fmt: skip
        "infer": {
            "argv": ["infer.py", "{step_dir[train]}/model.pth"],
            "resources": {"gpu": 1, "runtime": 120},
            "evaluations": {"cams": {}},
        },
        "side": {"argv": ["side.py", "{step_dir[train]}/x"], "resources": {"gpu": 1}},
        "final": {
            "argv": ["final.py", "{step_dir[infer]}/cam", "{step_dir[train]}/m"],
            "resources": {"gpu": 0},
            "evaluations": {"final": {}, "final_crf": {}},
        },
    },
    "final_protocol": {"final": "final_crf"},
}


def test_resources_and_estimate_per_dataset():
    train = METHOD["steps"]["train"]
    assert step_resources(train, "voc") == {"gpu": 2, "mem_mb": 4000, "runtime": 600,
                                                 "threads": 1}  # fmt: skip
    assert step_resources(train, "coco")["runtime"] == 4800
    assert step_resources(train, "coco")["gpu"] == 2  # the rest of resources stays
    assert step_estimate(train, "voc") == {"gpu_hours": 3.0, "gpu_mem_mb": 20000}
    assert step_estimate(train, "coco") == {"gpu_hours": 24.0, "gpu_mem_mb": 20000}


def test_needed_steps_follow_step_dir_references():
    assert cost.needed_steps(METHOD, ["cams"]) == ["train", "infer"]
    assert cost.needed_steps(METHOD, ["final"]) == ["train", "infer", "final"]
    with pytest.raises(ValueError, match="no step declares evaluation 'nope'"):
        cost.needed_steps(METHOD, ["nope"])


def test_target_cost_counts_jobs_and_hours():
    entry = {"dataset": "voc", "rows": ["m_r38", "other"], "variants": ["a", "b", "missing"],
             "evaluation": "cams", "seeds": [0, 1]}  # fmt: skip
    rows = {"m_r38": {"method": "m"}}
    c = cost.target_cost("t1", entry, {"m": METHOD}, ["a", "b"], [0], rows, {})
    assert len(c.jobs) == 2 * 2 * 2  # steps x variants x seeds
    # train: the estimate (3.0); infer: no estimate -> the request 120 min x 1 GPU
    assert c.gpu_hours == pytest.approx(4 * 3.0 + 4 * 2.0)
    assert c.by_source() == {"measured": 0, "estimate": 4, "request": 4, "cpu": 0}
    assert c.skipped == ["variant missing: not in the experiments",
                         "row other: other is not a configured method (`methods`)"]  # fmt: skip


def test_measured_durations_win_and_cpu_runs_are_left_out(tmp_path):
    runs = tmp_path / "runs"
    for seed, gpu_ids, duration in ((0, [0, 1], 3600.0), (1, [2, 3], 7200.0), (2, [], 5.0)):
        d = runs / "voc" / "m" / "a" / f"seed{seed}" / "train"
        d.mkdir(parents=True)
        manifest = {"dataset": "voc", "method": "m", "step": "train", "duration_s": duration,
                    "host": {"gpu_ids": gpu_ids}}  # fmt: skip
        (d / "manifest.json").write_text(json.dumps(manifest))
    measured = cost.measured_hours(runs)
    assert measured == {("voc", "m", "train"): [2.0, 4.0]}
    entry = {"dataset": "voc", "rows": ["m"], "variants": ["a"], "evaluation": "cams"}
    c = cost.target_cost("t", entry, {"m": METHOD}, ["a"], [0], {}, measured)
    assert c.jobs[cost.Job("voc", "m", "a", 0, "train")] == (3.0, "measured")


def test_total_counts_shared_jobs_once_and_render():
    entry = {"dataset": "voc", "rows": ["m"], "variants": ["a"], "evaluation": "cams"}
    final = {**entry, "evaluation": "final"}
    a = cost.target_cost("cams", entry, {"m": METHOD}, ["a"], [0], {}, {})
    b = cost.target_cost("final", final, {"m": METHOD}, ["a"], [0], {}, {})
    assert len(cost.total([a, b]).jobs) == 3  # train + infer shared
    text = cost.render([a, b])
    assert "final: voc/m: train, infer, final" in text
    assert b.jobs[cost.Job("voc", "m", "a", 0, "final")] == (0.0, "cpu")
    assert text.splitlines()[3].split()[:4] == ["all", "3", "2", "5.0"]


def test_study_figure_has_no_jobs():
    c = cost.target_cost("fig7", {"study": True}, {}, [], [0], {}, {})
    assert not c.jobs and "study figure" in c.skipped[0]


def test_targets_and_variants_of_figures():
    tables = yaml.safe_load((REPO / "config" / "tables.yaml").read_text())
    known = cost.targets(tables)
    assert {"table1", "fig1", "fig6"} <= set(known)
    assert cost.target_variants(known["fig1"]) == ["baseline", "isl_fsl"]
    assert "isl_lambda_0.0_fsl" in cost.target_variants(known["fig6"])


def test_hfpl_plan_table1_needs_the_cam_steps_only(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main(["plan", "table1"]) == 0
    out = capsys.readouterr().out
    assert "table1: voc/seam: train_cam, infer_cam_train\n" in out
    assert "train_final" not in out
    assert main(["plan", "table1", "table3"]) == 0
    assert "table3: coco/seam: " in capsys.readouterr().out


def test_hfpl_plan_unknown_target_is_one_line(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main(["plan", "table99"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown target 'table99'" in err and "table1" in err


def test_hfpl_plan_on_the_real_configuration(monkeypatch, capsys, tmp_path):
    """Every table and figure of config/tables.yaml, planned on config/config.yaml (no finished
    runs: results_dir is empty): each GPU job's hours come from an estimate in config/methods
    (none falls back to the request), and Table 3's from SEAM's COCO estimates (per_dataset)."""
    monkeypatch.chdir(REPO)
    assert main(["plan", "--config", f"results_dir={tmp_path}"]) == 0
    out = capsys.readouterr().out
    tables = yaml.safe_load((REPO / "config/tables.yaml").read_text())
    names = [*cost.targets(tables), "all"]
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()[0] in names}
    assert list(rows) == names
    assert [line for line in rows.values() if "request" in line or "measured" in line] == []
    seam = yaml.safe_load((REPO / "config/methods/seam.yaml").read_text())
    steps = ["train_cam", "infer_cam_train", "train_aff", "infer_aff_train", "train_final",
             "test_final", "test_final_crf"]  # fmt: skip
    coco = sum(step_estimate(seam["steps"][s], "coco")["gpu_hours"] for s in steps)
    voc = sum(step_estimate(seam["steps"][s], "voc")["gpu_hours"] for s in steps)
    assert coco > 5 * voc
    # table3: those steps x 2 variants x 3 seeds, all on a GPU
    assert rows["table3"].split()[1:4] == ["42", "42", f"{6 * coco:.1f}"]
