"""config/methods/pmm.yaml (CI-safe, no upstream code): it validates full and smoke, the row's
variants carry the paper's flags (no per-method factor), and golden argv of the eleven steps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hfpl.metrics.upstream import read_upstream_j
from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
ISL_FSL = ["--hfpl-isl-weight", "0.2", "--hfpl-isl-samples", "10",
           "--hfpl-fsl-weight", "1.0", "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5",
           "--hfpl-posterior", "binomial"]  # fmt: skip
V = "{D}/VOCdevkit/VOC2012"
L = "{D}/lists/pmm"
CFG = "{MM}/configs/pspnet_wsss/pspnet_wres38-d8_20k_voc12aug"


def _run(step: str, stage: str) -> list[str]:
    out = f"{{O}}/{step}"
    return [
        "python3", "{PMM}/run.py", stage, "--voc12_root", V,
        "--cls_label", f"{L}/voc12/cls_labels.npy", "--train_list", f"{L}/voc12/train_aug.txt",
        "--val_list", f"{L}/voc12/val.txt", "--gt_dir", f"{V}/SegmentationClass",
        "--train_res_dir", out, "--test_res_dir", out, "--log_dir", out,
    ]  # fmt: skip


MC = ["--mc_network", "network.resnet38_SEAM", "--mc_session_name", "voc12_wr38_mc"]
TRAIN_OPTS = ["model.pretrained={W}/res38d.pth", f"data.train.data_root={V}",
              f"data.train.split={L}/mmseg/trainaug.txt", f"data.val.data_root={V}",
              f"data.val.split={L}/mmseg/val.txt", "data.samples_per_gpu=16"]  # fmt: skip


def _mmseg_train(step: str, config: str, labels: str) -> list[str]:
    return ["python3", "{MM}/tools/train.py", config, "--work-dir", f"{{O}}/{step}",
            "--seed", "3", "--deterministic", "--launcher", "none", "--options", *TRAIN_OPTS,
            f"data.train.ann_dir={labels}"]  # fmt: skip


def _test(step: str, crf: str) -> list[str]:
    return ["python3", "{MM}/tools/test.py", f"{CFG}.py", "{O}/train_final/iter_20000.pth",
            "--eval", "mIoU", "--launcher", "none", "--options", f"data.test.data_root={V}",
            f"data.test.split={L}/mmseg/val.txt", f"test_cfg.crf={crf}",
            f"test_cfg.pred_output_path={{O}}/{step}/pred"]  # fmt: skip


GOLDEN = {
    "train_ms": [*_run("train_ms", "--train_multi_scale"), "--weights", "{W}/resnet38_SEAM.pth",
                 "--seed", "3", "{FLAGS}"],
    "rough_masks": [*_run("rough_masks", "--gen_mask_for_multi_crop"),
                    "--ms_checkpoint", "{O}/train_ms/voc12_wr38.pth"],
    "train_mc": [*_run("train_mc", "--train_multi_crop"), *MC, "--mc_weights",
                 "{W}/resnet38_SEAM.pth", "--mc_heatmap_root",
                 "{O}/rough_masks/voc12_wr38/train_mask", "--mc_batch_size", "16",
                 "--mc_max_epoches", "20", "--seed", "3", "{FLAGS}"],
    "cam_val": [*_run("cam_val", "--eval"), *MC, "--mc_checkpoint",
                "{O}/train_mc/voc12_wr38_mc.pth"],
    "pseudo_labels": [*_run("pseudo_labels", "--gen_seg_mask"), *MC, "--mc_checkpoint",
                      "{O}/train_mc/voc12_wr38_mc.pth"],
    "train_pus": _mmseg_train("train_pus", f"{CFG}_pus.py",
                              "{O}/pseudo_labels/voc12_wr38_mc/ppmg"),
    "pick_best": ["python3", "{MM}/tools/pick_best_pth.py", "{O}/train_pus",
                  "{O}/pick_best/best.pth"],
    "cyclic_masks": ["python3", "{MM}/tools/test.py", f"{CFG}_cp.py", "{O}/pick_best/best.pth",
                     "--format-only", "--launcher", "none", "--options",
                     f"data.test.data_root={V}", f"data.test.split={L}/mmseg/trainaug.txt",
                     "test_cfg.pred_output_path={O}/cyclic_masks/cyclic_mask"],
    "train_final": _mmseg_train("train_final", f"{CFG}.py", "{O}/cyclic_masks/cyclic_mask"),
    "test_final": _test("test_final", "False"),
    "test_final_crf": _test("test_final_crf", "True"),
}  # fmt: skip
MMSEG_STEPS = {"train_pus", "cyclic_masks", "train_final", "test_final", "test_final_crf"}


def _load(variants: list[str], **override) -> object:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(methods=["pmm"], variants=variants, seeds=[3], **override)
    config["executor"]["local"]["python"] = "python3"
    return load_workflow_config(config, SCHEMAS)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the method's patch folders are relative to the workdir


def _values(cfg, variant: str) -> dict[str, str]:
    repos = cfg.repos["pmm"]
    return {
        "O": f"{ROOT}/results/runs/voc/pmm/{variant}/seed3", "D": f"{ROOT}/data/voc",
        "W": f"{ROOT}/data/weights",
        "PMM": os.path.abspath(plan.checkout_dir(cfg, repos["PMM"])),
        "MM": os.path.abspath(plan.checkout_dir(cfg, repos["WSSS_MMSeg"])),
    }  # fmt: skip


@pytest.mark.parametrize(("variant", "flags"), [("baseline", []), ("isl_fsl", ISL_FSL)])
def test_golden_argv(variant: str, flags: list[str]) -> None:
    cfg = _load([variant])
    values = _values(cfg, variant)
    assert list(cfg.methods["pmm"]["steps"]) == list(GOLDEN)
    for step, items in GOLDEN.items():
        expected = []
        for item in items:
            expected += flags if item == "{FLAGS}" else [item.format(**values)]
        job = plan.step_job(cfg, Run("voc", "pmm", variant, 3), step)
        assert list(job.argv) == expected, step
        # mmseg is imported from the checkout (upstream: PYTHONPATH in tools/dist_train.sh)
        assert dict(job.env) == ({"PYTHONPATH": values["MM"]} if step in MMSEG_STEPS else {})


def test_smoke_argv_only_appends_and_shrinks() -> None:
    """Smoke = the full argv + shrinking options (a later value wins), except the iteration
    number in the checkpoint names of the mmseg steps."""
    full, smoke = _load(["isl_fsl"]), _load(["isl_fsl"], smoke=True)
    run = Run("voc", "pmm", "isl_fsl", 3)
    for step in GOLDEN:
        long = [a.replace("iter_20000", "iter_2") for a in plan.step_job(full, run, step).argv]
        short = list(plan.step_job(smoke, run, step).argv)
        assert short[: len(long)] == long, step
    ms = list(plan.step_job(smoke, run, "train_ms").argv)
    assert ms[ms.index("--lr") + 1] == "0.0001" and ms[ms.index("--crop_size") + 1] == "64"


def test_evaluations_and_protocol() -> None:
    """CAMs on val (Table 1's PMM row, PMM's own protocol) with PMM's threshold curve, PPMG
    pseudo-labels on train, finals on val; the tables read the CRF final."""
    method = _load(["baseline"]).methods["pmm"]
    evaluations = {
        name: (step, spec["format"], spec.get("sweep"))
        for step, body in method["steps"].items()
        for name, spec in body.get("evaluations", {}).items()
    }
    assert evaluations == {
        "cam_val": ("cam_val", "cam-dict", "0.05:0.19:0.01"),
        "ppmg_val": ("cam_val", "label-png", None),
        "pseudo_train": ("pseudo_labels", "label-png", None),
        "final_val": ("test_final", "label-png", None),
        "final_val_crf": ("test_final_crf", "label-png", None),
    }
    assert method["final_protocol"] == {"final_val": "final_val_crf"}
    tables = yaml.safe_load((ROOT / "config" / "tables.yaml").read_text())
    assert tables["rows"]["pmm_r38"]["method"] == "pmm"
    assert tables["tables"]["table1"]["evaluation_by_row"]["pmm_r38"] == "cam_val"


def test_row_variants_have_the_paper_flags() -> None:
    """PMM takes the plain flags (Sec. 5.1: weight 1, no 0.1 factor): no per_method entry."""
    cfg = _load(["baseline"])
    for name in ("baseline", "isl", "fsl", "isl_fsl"):
        assert "pmm" not in cfg.variants[name].get("per_method", {}), name
    assert cfg.variants["isl_fsl"]["flags"]["--hfpl-fsl-weight"] == 1.0


# log lines as PMM's run.py --eval (curve, then pipeline/evaluation.py's PPMG score) and mmseg's
# --eval mIoU print them (shapes read from the smoke's step logs)
PMM_LOG = """\
5/20 background score: 0.050\tmIoU: 11.941%
15/20 background score: 0.150\tmIoU: 12.708%
19/20 background score: 0.190\tmIoU: 12.313%
          0: 42.976%
         12:  0.000%
======================================================
       mIoU:  2.920%
"""
MMSEG_LOG = """\
Class                  IoU        Acc
aeroplane             8.90     100.00
Summary:
Scope                 mIoU       mAcc       aAcc
global               15.50      20.00      77.51
"""


def test_upstream_numbers_are_read_beside_ours(tmp_path) -> None:
    """Each evaluation with an upstream evaluator names the number that evaluator printed for
    the same predictions, in its convention (PMM: classes with GT; mmseg: nanmean)."""
    method = _load(["baseline"]).methods["pmm"]
    ups = {
        name: spec["upstream_log"]
        for body in method["steps"].values()
        for name, spec in body.get("evaluations", {}).items()
        if "upstream_log" in spec
    }
    assert set(ups) == {"cam_val", "ppmg_val", "final_val", "final_val_crf"}
    (tmp_path / "pmm.log").write_text(PMM_LOG)
    (tmp_path / "mmseg.log").write_text(MMSEG_LOG)
    read = {
        "cam_val": read_upstream_j(tmp_path / "pmm.log", ups["cam_val"]["regex"], 0.15),
        "ppmg_val": read_upstream_j(tmp_path / "pmm.log", ups["ppmg_val"]["regex"], None),
        "final_val": read_upstream_j(tmp_path / "mmseg.log", ups["final_val"]["regex"], None),
    }
    assert {k: (v["J"], v["t"]) for k, v in read.items()} == {
        "cam_val": (12.708, 0.15), "ppmg_val": (2.92, None), "final_val": (15.5, None)
    }  # fmt: skip
    assert ups["final_val_crf"] == ups["final_val"]
    conventions = {k: v["convention"] for k, v in ups.items()}
    assert conventions == {"cam_val": "gt", "ppmg_val": "gt", "final_val": "present",
                           "final_val_crf": "present"}  # fmt: skip
