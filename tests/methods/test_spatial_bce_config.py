"""config/methods/spatial-bce.yaml (CI-safe, no upstream code): it validates, full and smoke,
every step's argv is the golden one for each row variant (baseline, isl, fsl, isl_fsl), the
three phases chain checkpoint and prior, the IRN background threshold is per variant, the smoke
reads the generated prior, and both finals read the same pseudo-labels."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
VOC, L, W = "{D}/VOCdevkit/VOC2012", "{D}/lists/spatial-bce", "{W}"
JPG = f"{VOC}/JPEGImages"
TA = ["--train_list", f"{L}/datasets/train_aug.txt"]
CLS = ["--cls_labels", f"{L}/datasets/cls_labels.npy"]
IRN_TA = f"{L}/irn/train_aug.txt"
PASSES = ("train_cam", "make_cam", "eval_cam", "cam_to_ir_label", "train_irn", "make_ins_seg",
          "eval_ins_seg", "make_sem_seg", "eval_sem_seg")  # fmt: skip
CB = "{codebase}/experiment/seamv1-pseudovoc"
CBD = [
    "--cfg", "DATA_ROOT={D}/VOCdevkit", "--cfg", "DATA_NAME=VOCDataset", "--cfg", "DATA_YEAR=2012",
    "--cfg", "MODEL_NUM_CLASSES=21",
]  # fmt: skip
DLC = ["-c", "{deeplab}/configs/voc12.yaml"]
MODEL = "models/voc12/deeplabv2_resnet101_msc/train_aug/checkpoint_final.pth"
FEAT = "features/voc12/deeplabv2_resnet101_msc/val"
R38_CKPT = "deeplabv1_resnet38_VOCDataset_itr20000_all.pth"
PSEUDO = "{O}/sem_seg/sem_seg"


def _irn(step: str, on: str) -> list[str]:
    passes = [x for p in PASSES for x in (f"--{p}_pass", str(p == on))]
    return [
        "python3", "{irn}/run_sample.py", "--voc12_root", VOC,
        "--cls_labels", f"{L}/irn/cls_labels.npy", "--pretrained", f"{W}/resnet50-19c8e357.pth",
        "--log_name", f"{{O}}/{step}/irn", *passes,
    ]  # fmt: skip


def _train(k: int) -> list[str]:
    pre = (
        f"{W}/voc12_init.pth"
        if k == 1
        else f"{{O}}/train_p{k - 1}/p{k - 1}/p{k - 1}-voc12-final.pth"
    )
    prior = f"{W}/voc12_init.npy" if k == 1 else f"{{O}}/fg_p{k - 1}/fg.npy"
    return [
        "python3", "{SBCE}/train.py", "--session_name", f"p{k}", "--data_dir", JPG, *TA, *CLS,
        "--pretrain", pre, "--fg_path", prior, "--output_dir", f"{{O}}/train_p{k}",
        "--tblog_dir", f"{{O}}/train_p{k}/tblog", "--hide_progress", "--seed", "3",
    ]  # fmt: skip


def _cam(k: int) -> list[str]:
    return [
        "python3", "{SBCE}/make_cam.py", "--session_name", f"p{k}",
        "--output_dir", f"{{O}}/train_p{k}", "--data_dir", JPG, *TA, *CLS,
        "--cam_path", f"{{O}}/cam_p{k}/cam",
        "--adaptive_t", "True", "--adaptive_cam_path", f"{{O}}/cam_p{k}/cam_adaptive",
    ]  # fmt: skip


def _crf(k: int) -> list[str]:
    return [
        "python3", "{SBCE}/make_crf.py", "--data_dir", JPG, *TA,
        "--cam_path", f"{{O}}/cam_p{k}/cam_adaptive", "--crf_path", f"{{O}}/crf_p{k}/crf",
        "--crf_processes", "8",
    ]  # fmt: skip


def _fg(k: int) -> list[str]:
    return ["python3", "{SBCE}/create_fg.py", *TA, "--crf_path", f"{{O}}/crf_p{k}/crf",
            "--fg_out", f"{{O}}/fg_p{k}/fg.npy"]  # fmt: skip


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
    "train_p1": _train(1), "cam_p1": _cam(1), "crf_p1": _crf(1), "fg_p1": _fg(1),
    "train_p2": _train(2), "cam_p2": _cam(2), "crf_p2": _crf(2), "fg_p2": _fg(2),
    "train_p3": _train(3), "cam_p3": _cam(3), "crf_p3": _crf(3),
    "cam_to_irn": [
        "python3", "-m", "hfpl.cli", "convert", "cam-dict-to-high-res", "--cams", "{O}/cam_p3/cam",
        "--list", IRN_TA, "--out", "{O}/cam_to_irn/cam",
    ],
    "ir_label": [
        *_irn("ir_label", "cam_to_ir_label"), "--train_list", IRN_TA,
        "--cam_out_dir", "{O}/cam_to_irn/cam", "--ir_label_out_dir", "{O}/ir_label/ir_label",
        "--conf_fg_thres", "0.60", "--conf_bg_thres", "0.25", "--num_workers", "8",
    ],
    "train_irn": [
        *_irn("train_irn", "train_irn"), "--train_list", IRN_TA, "--infer_list", IRN_TA,
        "--ir_label_out_dir", "{O}/ir_label/ir_label",
        "--irn_weights_name", "{O}/train_irn/res50_irn.pth",
        "--seed", "3", "--num_workers", "8",
    ],
    "sem_seg": [
        *_irn("sem_seg", "make_sem_seg"), "--infer_list", IRN_TA,
        "--cam_out_dir", "{O}/cam_to_irn/cam", "--irn_weights_name", "{O}/train_irn/res50_irn.pth",
        "--sem_seg_out_dir", "{O}/sem_seg/sem_seg",
        "--sem_seg_bg_thres", "{bg}", "--num_workers", "8",
    ],
    "train_final_r38": [
        "python3", f"{CB}/train.py", "--seed", "3", *CBD,
        "--cfg", f"DATA_LIST={L}/codebase/ImageSets/Segmentation/trainaug.txt",
        "--cfg", "TRAIN_ITERATION=20000", "--cfg", f"DATA_PSEUDO_GT={PSEUDO}",
        "--cfg", f"MODEL_BACKBONE_PRETRAIN={W}/ilsvrc-cls_rna-a1_cls1000_ep-0001.params",
        "--cfg", "MODEL_SAVE_DIR={O}/train_final_r38/model",
        "--cfg", "LOG_DIR={O}/train_final_r38/tblog",
        "--cfg", "LOG_FILE={O}/train_final_r38/logfile.txt", "--cfg", "GPUS=1",
    ],
    "test_final_r38": _cb_test("test_final_r38", "False"),
    "test_final_r38_crf": _cb_test("test_final_r38_crf", "True"),
    "train_final_r101": [
        "python3", "{deeplab}/main.py", "train", *DLC, "--seed", "3", *_dl("train_final_r101"),
        "--set", f"DATASET.LIST={L}/deeplab/train_aug.txt", "--set", f"DATASET.LABEL_DIR={PSEUDO}",
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
FSL = ["--hfpl-fsl-weight", "1.0", "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5"]
POST = ["--hfpl-posterior", "binomial"]
# the variant's flags after each phase's train.py argv: experiments.yaml flags, then per_method
FLAGS = {
    "baseline": [],
    "isl": [*ISL, *POST, "--hfpl-isl-scale", "1.0"],
    "fsl": [*FSL, *POST, "--hfpl-fsl-upsample", "1"],
    "isl_fsl": [*ISL, *FSL, *POST, "--hfpl-isl-scale", "1.0", "--hfpl-fsl-upsample", "1"],
}
# IRN make_sem_seg_labels --sem_seg_bg_thres: paper 0.30 (ISL), 0.40 (FSL); ISL+FSL our choice
SEM_SEG_BG = {"baseline": "0.25", "isl": "0.3", "fsl": "0.4", "isl_fsl": "0.4"}


def _load(variants: list[str], **override) -> object:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(methods=["spatial-bce"], variants=variants, seeds=[3], **override)
    config["executor"]["local"]["python"] = "python3"
    return load_workflow_config(config, SCHEMAS)


def _method(cfg) -> dict:
    return cfg.methods["spatial-bce"]


@pytest.fixture(autouse=True)
def _in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the method's patch folders are relative to the workdir


@pytest.mark.parametrize("variant", sorted(FLAGS))
def test_golden_argv(variant: str) -> None:
    cfg = _load([variant])
    values = {
        "O": f"{ROOT}/results/runs/voc/spatial-bce/{variant}/seed3",
        "D": f"{ROOT}/data/voc",
        "W": f"{ROOT}/data/weights",
        "bg": SEM_SEG_BG[variant],
        **{
            k: os.path.abspath(plan.checkout_dir(cfg, r))
            for k, r in cfg.repos["spatial-bce"].items()
        },
    }
    assert list(_method(cfg)["steps"]) == list(GOLDEN)
    run = Run("voc", "spatial-bce", variant, 3)
    for step, items in GOLDEN.items():
        expected = [item.format(**values) for item in items]
        expected += FLAGS[variant] if step.startswith("train_p") else []
        assert list(plan.step_job(cfg, run, step).argv) == expected, step


def test_smoke_argv_only_appends_shrinking_options_and_reads_the_generated_prior() -> None:
    full, smoke = _load(["isl_fsl"]), _load(["isl_fsl"], smoke=True)
    run = Run("voc", "spatial-bce", "isl_fsl", 3)
    drive = f"{ROOT}/data/weights/voc12_init.npy"
    generated = f"{ROOT}/data/voc/lists/spatial-bce/datasets/voc12_init.npy"
    for step in GOLDEN:
        a = list(plan.step_job(full, run, step).argv)
        b = list(plan.step_job(smoke, run, step).argv)
        if step == "train_p1":  # the one replaced item: no manual-only weights file in smoke
            a = [generated if x == drive else x for x in a]
        assert b[: len(a)] == a, step
    smoke_p1 = plan.step_job(smoke, run, "train_p1").argv
    assert drive not in smoke_p1 and drive in plan.step_job(full, run, "train_p1").argv
    prior = {"path": "datasets/voc12_init.npy", "format": "fg-ratio-npy-dict",
             "splits": ["train_aug", "val"]}  # fmt: skip
    assert prior in _method(smoke)["lists"]["voc"]
    assert prior not in _method(full)["lists"]["voc"]  # smoke-only: real runs never write it


def test_real_run_reads_the_drive_prior_as_a_manual_weights_file() -> None:
    weights = _method(_load(["baseline"]))["weights"]
    assert weights["voc12_init.pth"]["urls"] == weights["voc12_init.npy"]["urls"] == []
    assert "1Z3bQibe40XeoXT4QOFWNcDpE4C6fBCxO" in weights["voc12_init.pth"]["manual"]
    assert "allenwu97/Spatial-BCE" in weights["voc12_init.npy"]["manual"]
    assert weights["voc12_init.pth"]["smoke"] == "resnet38-spatial-threshold-heads"
    assert "smoke" not in weights["voc12_init.npy"]  # not a network: no random-init stand-in


def test_evaluations_and_both_finals_read_the_same_pseudo_labels() -> None:
    cfg = _load(["baseline"])
    run = Run("voc", "spatial-bce", "baseline", 3)
    pseudo = f"{ROOT}/results/runs/voc/spatial-bce/baseline/seed3/sem_seg/sem_seg"
    assert f"DATA_PSEUDO_GT={pseudo}" in plan.step_job(cfg, run, "train_final_r38").argv
    assert f"DATASET.LABEL_DIR={pseudo}" in plan.step_job(cfg, run, "train_final_r101").argv
    ev = {name: step.get("evaluations", {}) for name, step in _method(cfg)["steps"].items()}
    cam = ev["cam_p3"]["cam_train"]
    # Table 1: the plain phase-3 maps, background plane swept like upstream eval.py (0.20-0.38)
    assert (cam["format"], cam["sweep"], cam["num_classes"]) == ("cam-dict", "0.2:0.38:0.02", 21)
    assert cam["pred"].endswith("/cam") and cam["list"].endswith("Segmentation/train.txt")
    assert ev["sem_seg"]["pseudo_train"]["format"] == "label-png"
    assert set(ev["test_final_r38"]) == {"final_val_r38"}
    assert set(ev["test_final_r38_crf"]) == {"final_val_r38_crf"}
    assert set(ev["test_final_r101"]) == {"final_val_r101"}
    assert set(ev["crf_final_r101"]) == {"final_val_r101_crf"}
    for k in (1, 2, 3):
        assert ev[f"crf_p{k}"][f"crf_train_p{k}"]["format"] == "label-prob-dict"


def test_weights_shared_with_other_methods_are_declared_identically() -> None:
    ours = _method(_load(["baseline"]))["weights"]
    for other in ("sipe", "seam"):
        theirs = yaml.safe_load((ROOT / "config" / "methods" / f"{other}.yaml").read_text())[
            "weights"
        ]
        for name in set(ours) & set(theirs):
            assert ours[name] == theirs[name], (other, name)
