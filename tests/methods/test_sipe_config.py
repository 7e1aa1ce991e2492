"""config/methods/sipe.yaml (CI-safe, no upstream code): it validates, full and smoke, and every
step's argv is the golden one for each row variant (baseline, isl, fsl, isl_fsl); the two
finals read the same pseudo-labels and the tables read each row's own final evaluation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
VOC, L, W = "{D}/VOCdevkit/VOC2012", "{D}/lists/sipe", "{W}"
R50 = ["--pretrained", f"{W}/resnet50-19c8e357.pth"]
DATA = ["--voc12_root", VOC]
TRAINAUG = f"{L}/data/trainaug_voc.txt"
CLS = ["--cls_labels", f"{L}/data/cls_labels_voc.npy"]
CB = "{codebase}/experiment/seamv1-pseudovoc"
CBD = [
    "--cfg", "DATA_ROOT={D}/VOCdevkit", "--cfg", "DATA_NAME=VOCDataset", "--cfg", "DATA_YEAR=2012",
    "--cfg", "MODEL_NUM_CLASSES=21",
]  # fmt: skip
DLC = ["-c", "{deeplab}/configs/voc12.yaml"]
MODEL = "models/voc12/deeplabv2_resnet101_msc/train_aug/checkpoint_final.pth"
FEAT = "features/voc12/deeplabv2_resnet101_msc/val"


R38_CKPT = "deeplabv1_resnet38_VOCDataset_itr20000_all.pth"


def _cb_test(name: str, crf: str) -> list[str]:
    return [
        "python3", f"{CB}/test.py", *CBD, "--cfg", "TEST_PERIOD=val",
        "--cfg", f"DATA_LIST={VOC}/ImageSets/Segmentation/val.txt",
        "--cfg", f"TEST_CKPT={{O}}/train_final_r38/model/{R38_CKPT}",
        "--cfg", f"TEST_SAVE_DIR={{O}}/{name}/pred", "--cfg", f"TEST_CRF={crf}",
        "--cfg", f"MODEL_SAVE_DIR={{O}}/{name}/model", "--cfg", f"LOG_DIR={{O}}/{name}/tblog",
        "--cfg", f"LOG_FILE={{O}}/{name}/logfile.txt", "--cfg", "GPUS=1",
        "--cfg", "MODEL_BACKBONE_PRETRAIN=False",
    ]  # fmt: skip


def _dl(name: str) -> list[str]:
    return ["--set", f"EXP.OUTPUT_DIR={{O}}/{name}", "--set", "DATASET.ROOT={D}/VOCdevkit"]


GOLDEN = {
    "train_cam": [
        "python3", "{SIPE}/train_resnet50_SIPE.py", "--session_name", "{O}/train_cam/sipe",
        "--dataset_root", VOC, "--train_list", TRAINAUG, "--val_list", f"{L}/data/train_voc.txt",
        *CLS, *R50, "--seed", "3",
    ],
    "make_cam": [
        "python3", "{SIPE}/make_cam.py", "--session_name", "{O}/make_cam",
        "--ckpt", "{O}/train_cam/sipe/ckpt/final.pth", "--infer_list", TRAINAUG, *DATA, *CLS,
        *R50, "--visualize", "False",
    ],
    "cam2ir": [
        "python3", "{SIPE}/cam2ir.py", "--session_name", "{O}/cam2ir",
        "--cam_out_dir", "{O}/make_cam/npy", "--infer_list", TRAINAUG, *DATA,
    ],
    "train_irn": [
        "python3", "{SIPE}/train_irn.py", "--session_name", "{O}/train_irn",
        "--ir_label_out_dir", "{O}/cam2ir/ir_label", "--train_list", TRAINAUG,
        "--infer_list", f"{L}/data/train_voc.txt", *DATA, *R50, "--seed", "3",
    ],
    "make_seg_labels": [
        "python3", "{SIPE}/make_seg_labels.py", "--session_name", "{O}/make_seg_labels",
        "--cam_out_dir", "{O}/make_cam/npy", "--irn_weights_path", "{O}/train_irn/ckpt/irn.pth",
        "--infer_list", TRAINAUG, *DATA, *CLS, *R50,
    ],
    "train_final_r38": [
        "python3", f"{CB}/train.py", "--seed", "3", *CBD,
        "--cfg", f"DATA_LIST={L}/codebase/ImageSets/Segmentation/trainaug.txt",
        "--cfg", "TRAIN_ITERATION=20000",
        "--cfg", "DATA_PSEUDO_GT={O}/make_seg_labels/pseudo_label",
        "--cfg", f"MODEL_BACKBONE_PRETRAIN={W}/ilsvrc-cls_rna-a1_cls1000_ep-0001.params",
        "--cfg", "MODEL_SAVE_DIR={O}/train_final_r38/model",
        "--cfg", "LOG_DIR={O}/train_final_r38/tblog",
        "--cfg", "LOG_FILE={O}/train_final_r38/logfile.txt", "--cfg", "GPUS=1",
    ],
    "test_final_r38": _cb_test("test_final_r38", "False"),
    "test_final_r38_crf": _cb_test("test_final_r38_crf", "True"),
    "train_final_r101": [
        "python3", "{deeplab}/main.py", "train", *DLC, "--seed", "3", *_dl("train_final_r101"),
        "--set", f"DATASET.LIST={L}/deeplab/train_aug.txt",
        "--set", "DATASET.LABEL_DIR={O}/make_seg_labels/pseudo_label",
        "--set", f"MODEL.INIT_MODEL={W}/deeplabv1_resnet101-coco.pth",
    ],
    "test_final_r101": [
        "python3", "{deeplab}/main.py", "test", *DLC, "-m", f"{{O}}/train_final_r101/{MODEL}",
        *_dl("test_final_r101"), "--set", f"DATASET.LIST={L}/deeplab/val.txt",
    ],
    "crf_final_r101": [
        "python3", "{deeplab}/main.py", "crf", *DLC, "-j", "8", *_dl("crf_final_r101"),
        "--set", f"DATASET.LIST={L}/deeplab/val.txt",
        "--set", f"CRF.LOGIT_DIR={{O}}/test_final_r101/{FEAT}/logit",
    ],
}  # fmt: skip

ISL = ["--hfpl-isl-weight", "0.2", "--hfpl-isl-samples", "10"]
FSL = ["--hfpl-fsl-weight", "0.1", "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5"]
POST = ["--hfpl-posterior", "binomial"]
# the variant's flags after train_cam's argv: experiments.yaml flags, then per_method sipe
FLAGS = {
    "baseline": [],
    "isl": [*ISL, *POST, "--hfpl-isl-scale", "0.1"],
    "fsl": [*FSL, *POST, "--hfpl-fsl-upsample", "2"],
    "isl_fsl": [*ISL, *FSL, *POST, "--hfpl-isl-scale", "0.1", "--hfpl-fsl-upsample", "2"],
}


def _load(variants: list[str], **override) -> object:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(methods=["sipe"], variants=variants, seeds=[3], **override)
    config["executor"]["local"]["python"] = "python3"
    return load_workflow_config(config, SCHEMAS)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the method's patch folders are relative to the workdir


@pytest.mark.parametrize("variant", sorted(FLAGS))
def test_golden_argv(variant: str) -> None:
    cfg = _load([variant])
    values = {
        "O": f"{ROOT}/results/runs/voc/sipe/{variant}/seed3",
        "D": f"{ROOT}/data/voc",
        "W": f"{ROOT}/data/weights",
        **{k: os.path.abspath(plan.checkout_dir(cfg, r)) for k, r in cfg.repos["sipe"].items()},
    }
    assert list(cfg.methods["sipe"]["steps"]) == list(GOLDEN)
    run = Run("voc", "sipe", variant, 3)
    for step, items in GOLDEN.items():
        expected = [item.format(**values) for item in items]
        expected += FLAGS[variant] if step == "train_cam" else []
        assert list(plan.step_job(cfg, run, step).argv) == expected, step


def test_smoke_argv_only_appends_shrinking_options() -> None:
    full, smoke = _load(["isl_fsl"]), _load(["isl_fsl"], smoke=True)
    run = Run("voc", "sipe", "isl_fsl", 3)
    for step in GOLDEN:
        a = list(plan.step_job(full, run, step).argv)
        b = list(plan.step_job(smoke, run, step).argv)
        assert b[: len(a)] == a and len(b) > len(a), step


def test_both_finals_read_the_same_pseudo_labels_and_tables_read_their_own_final() -> None:
    cfg = _load(["baseline"])
    run = Run("voc", "sipe", "baseline", 3)
    pseudo = f"{ROOT}/results/runs/voc/sipe/baseline/seed3/make_seg_labels/pseudo_label"
    assert f"DATA_PSEUDO_GT={pseudo}" in plan.step_job(cfg, run, "train_final_r38").argv
    assert f"DATASET.LABEL_DIR={pseudo}" in plan.step_job(cfg, run, "train_final_r101").argv
    tables = yaml.safe_load((ROOT / "config" / "tables.yaml").read_text())
    assert tables["rows"]["sipe_r38"]["method"] == tables["rows"]["sipe_r101"]["method"] == "sipe"
    for key in ("table2", "table6", "table7"):
        by_row = tables["tables"][key]["evaluation_by_row"]
        assert by_row["sipe_r38"] == "final_val_r38" and by_row["sipe_r101"] == "final_val_r101"
    evaluations = {
        name: step.get("evaluations", {}) for name, step in cfg.methods["sipe"]["steps"].items()
    }
    assert "final_val_r38_crf" in evaluations["test_final_r38_crf"]  # the codebase default TEST_CRF
    assert "final_val_r101_crf" in evaluations["crf_final_r101"]  # deeplab v2 protocol: CRF
    assert evaluations["make_cam"]["cam_train"]["format"] == "keys-is-cam-npy"
