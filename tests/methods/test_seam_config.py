"""config/methods/seam.yaml (CI-safe, no upstream code): it validates, the row's variants exist
with the paper's flags, and golden argv of every step on VOC for baseline, fsl, isl_fsl and
multinomial_isl (COCO: test_seam_coco_config.py, with the same `golden`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
R38 = "ilsvrc-cls_rna-a1_cls1000_ep-0001.params"
# per dataset: SEAM image root, list folder, train/val lists, foreground classes; codebase root,
# dataset class, year, train/val lists, iterations (VOC: upstream's values; COCO: Table 3, the
# authors' config_coco2014.py)
DATASETS = {
    "voc": dict(
        images="{D}/VOCdevkit/VOC2012", lists="{D}/lists/seam/voc12", train="train_aug.txt",
        val="val.txt", nc="20", cb_root="{D}/VOCdevkit", cb_name="VOCDataset", cb_year="2012",
        cb_train="{D}/lists/seam/codebase/ImageSets/Segmentation/trainaug.txt",
        cb_val="{D}/VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt", iters="20000",
    ),
    "coco": dict(
        images="{D}/coco", lists="{D}/lists/seam/coco", train="train2014.txt",
        val="val2014.txt", nc="80", cb_root="{D}/coco", cb_name="COCODataset", cb_year="2014",
        cb_train="{D}/lists/seam/codebase/train2014.txt",
        cb_val="{D}/coco/ImageSets/val2014.txt",
        iters="200000",
    ),
}  # fmt: skip


def _codebase(p: dict[str, str]) -> list[str]:
    classes = str(int(p["nc"]) + 1)
    return [
        "--cfg", f"DATA_NAME={p['cb_name']}", "--cfg", f"DATA_YEAR={p['cb_year']}",
        "--cfg", f"MODEL_NUM_CLASSES={classes}",
    ]  # fmt: skip


def _test(p: dict[str, str], name: str, crf: bool) -> list[str]:
    ckpt = f"{{O}}/train_final/model/deeplabv1_resnet38_{p['cb_name']}_itr{p['iters']}_all.pth"
    return [
        "python3", "{codebase}/experiment/seamv1-pseudovoc/test.py",
        "--cfg", f"DATA_ROOT={p['cb_root']}", "--cfg", "TEST_PERIOD=val", *_codebase(p),
        "--cfg", f"DATA_LIST={p['cb_val']}",
        "--cfg", f"TEST_CKPT={ckpt}", "--cfg", f"TEST_SAVE_DIR={{O}}/{name}/pred",
        "--cfg", f"TEST_CRF={crf}", "--cfg", f"MODEL_SAVE_DIR={{O}}/{name}/model",
        "--cfg", f"LOG_DIR={{O}}/{name}/tblog", "--cfg", f"LOG_FILE={{O}}/{name}/logfile.txt",
        "--cfg", "GPUS=1", "--cfg", "MODEL_BACKBONE_PRETRAIN=False",
    ]  # fmt: skip


def golden(dataset: str) -> dict[str, list[str]]:
    """Every step's full argv on ``dataset``: {O} run root, {D} data root, {W} weights,
    {SEAM}/{codebase} checkouts, {LO}/{HI} CRF alphas, {EP} CAM epochs; the variant's add-on
    flags follow train_cam's argv."""
    p = DATASETS[dataset]
    data, lists, nc = ["--voc12_root", p["images"]], p["lists"], ["--num_classes", p["nc"]]
    labels = ["--cls_labels", f"{lists}/cls_labels.npy", *nc]
    return {
        "train_cam": [
            "python3", "{SEAM}/train_SEAM.py", "--weights", f"{{W}}/{R38}", *data,
            "--train_list", f"{lists}/{p['train']}", *labels,
            "--session_name", "{O}/train_cam/cam", "--tblog_dir", "{O}/train_cam/tblog",
            "--max_epoches", "{EP}", "--seed", "3",
        ],
        "infer_cam_train": [
            "python3", "{SEAM}/infer_SEAM.py", "--weights", "{O}/train_cam/cam.pth", *data,
            "--infer_list", f"{lists}/{p['train']}", *labels,
            "--out_cam", "{O}/infer_cam_train/cam", "--out_crf", "{O}/infer_cam_train/crf",
            "--crf_alphas", "{LO}", "{HI}",
        ],
        "infer_cam_val": [
            "python3", "{SEAM}/infer_SEAM.py", "--weights", "{O}/train_cam/cam.pth", *data,
            "--infer_list", f"{lists}/{p['val']}", *labels,
            "--out_cam", "{O}/infer_cam_val/cam",
        ],
        "train_aff": [
            "python3", "{SEAM}/train_aff.py", "--weights", f"{{W}}/{R38}", *data,
            "--train_list", f"{lists}/{p['train']}",
            "--la_crf_dir", "{O}/infer_cam_train/crf_{LO}.0",
            "--ha_crf_dir", "{O}/infer_cam_train/crf_{HI}.0",
            "--session_name", "{O}/train_aff/aff", "--seed", "3",
        ],
        "infer_aff_train": [
            "python3", "{SEAM}/infer_aff.py", "--weights", "{O}/train_aff/aff.pth", *data,
            "--infer_list", f"{lists}/{p['train']}", *nc,
            "--cam_dir", "{O}/infer_cam_train/cam", "--out_rw", "{O}/infer_aff_train/rw",
        ],
        "infer_aff_val": [
            "python3", "{SEAM}/infer_aff.py", "--weights", "{O}/train_aff/aff.pth", *data,
            "--infer_list", f"{lists}/{p['val']}", *nc,
            "--cam_dir", "{O}/infer_cam_val/cam", "--out_rw", "{O}/infer_aff_val/rw",
        ],
        "train_final": [
            "python3", "{codebase}/experiment/seamv1-pseudovoc/train.py", "--seed", "3",
            "--cfg", f"DATA_ROOT={p['cb_root']}", *_codebase(p),
            "--cfg", f"DATA_LIST={p['cb_train']}", "--cfg", f"TRAIN_ITERATION={p['iters']}",
            "--cfg", "DATA_PSEUDO_GT={O}/infer_aff_train/rw",
            "--cfg", f"MODEL_BACKBONE_PRETRAIN={{W}}/{R38}",
            "--cfg", "MODEL_SAVE_DIR={O}/train_final/model",
            "--cfg", "LOG_DIR={O}/train_final/tblog",
            "--cfg", "LOG_FILE={O}/train_final/logfile.txt", "--cfg", "GPUS=1",
        ],
        "test_final": _test(p, "test_final", crf=False),
        "test_final_crf": _test(p, "test_final_crf", crf=True),
    }  # fmt: skip


VARIANTS = {
    "baseline": ("4", "24", []),
    "fsl": (
        "1", "24",
        ["--hfpl-fsl-weight", "1.0", "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5",
         "--hfpl-posterior", "binomial"],
    ),
    "isl_fsl": (
        "1", "24",
        ["--hfpl-isl-weight", "0.2", "--hfpl-isl-samples", "10", "--hfpl-fsl-weight", "1.0",
         "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5", "--hfpl-posterior", "binomial"],
    ),
    "multinomial_isl": (
        "2", "4",
        ["--hfpl-isl-weight", "0.6", "--hfpl-isl-samples", "10",
         "--hfpl-posterior", "multinomial"],
    ),
}  # fmt: skip


def _load(variants: list[str], **override) -> object:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(methods=["seam"], variants=variants, seeds=[3], **override)
    config["executor"]["local"]["python"] = "python3"
    return load_workflow_config(config, SCHEMAS)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the method's patch folders are relative to the workdir


def check_golden(cfg, dataset: str, variant: str, root: str, expect: dict[str, object]) -> None:
    """Every step's argv of (dataset, seam, variant, seed 3) equals ``golden(dataset)`` filled
    with ``expect`` (LO, HI, EP, flags: the variant's add-on flags)."""
    values = {
        "O": f"{ROOT}/results/runs/{dataset}/seam/{variant}/seed3",
        "D": root,
        "W": f"{ROOT}/data/weights",
        **{k: v for k, v in expect.items() if k != "flags"},
        **{k: os.path.abspath(plan.checkout_dir(cfg, r)) for k, r in cfg.repos["seam"].items()},
    }
    steps = golden(dataset)
    assert list(cfg.methods["seam"]["steps"]) == list(steps)
    run = Run(dataset, "seam", variant, 3)
    for step, items in steps.items():
        expected = [item.format(**values) for item in items]
        expected += expect["flags"] if step == "train_cam" else []
        assert list(plan.step_job(cfg, run, step).argv) == expected, step
    outputs = plan.step_job(cfg, run, "infer_cam_train").outputs
    assert list(outputs) == ["cam", f"crf_{expect['LO']}.0", f"crf_{expect['HI']}.0"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_golden_argv(variant: str) -> None:
    cfg = _load([variant])
    lo, hi, flags = VARIANTS[variant]
    expect = {"LO": lo, "HI": hi, "EP": "8", "flags": flags}
    check_golden(cfg, "voc", variant, f"{ROOT}/data/voc", expect)


def test_every_variant_validates_with_its_crf_alphas() -> None:
    """seam.yaml against the schema, full and smoke, for every variant of experiments.yaml."""
    experiments = yaml.safe_load((ROOT / "config" / "experiments.yaml").read_text())
    cfg = _load(["baseline"])
    names = sorted(cfg.variants)
    for smoke in (False, True):
        cfg = _load(names, smoke=smoke)
        for variant in names:
            argv = plan.step_job(cfg, Run("voc", "seam", variant, 0), "infer_cam_train").argv
            i = argv.index("--crf_alphas")
            expected = (
                ["4", "24"] if variant in ("baseline", "baseline_ep16")  # upstream SEAM
                else ["2", "4"] if variant.startswith("multinomial_")  # Table 4
                else ["1", "24"]  # every binomial add-on variant (Secs. 5.1, 5.5)
            )  # fmt: skip
            assert list(argv[i + 1 : i + 3]) == expected, variant
    assert set(experiments["variants"]) <= set(names)


def test_row_variants_have_the_paper_flags() -> None:
    cfg = _load(["baseline"])
    flags = {
        name: {**v["flags"], **v["per_method"].get("seam", {})} for name, v in cfg.variants.items()
    }
    isl = {"--hfpl-isl-weight": 0.2, "--hfpl-isl-samples": 10, "--hfpl-posterior": "binomial"}
    fsl = {"--hfpl-fsl-weight": 1.0, "--hfpl-fsl-mu": 2.5, "--hfpl-fsl-sigma": 5}
    assert flags["baseline"] == {}
    assert flags["isl"] == isl
    assert flags["fsl"] == {**fsl, "--hfpl-posterior": "binomial"}
    assert flags["isl_fsl"] == {**isl, **fsl}
    assert flags["multinomial_isl"] == {
        **isl,
        "--hfpl-isl-weight": 0.6,
        "--hfpl-posterior": "multinomial",
    }
    assert flags["multinomial_fsl"] == {**fsl, "--hfpl-posterior": "multinomial"}
    for n in (1, 5, 10, 50, 100):  # Table 5: lambda = 1, no FSL
        assert flags[f"isl_samples_{n}"] == {
            **isl,
            "--hfpl-isl-weight": 1.0,
            "--hfpl-isl-samples": n,
        }
    for i in range(0, 11, 2):  # Fig. 6: lambda 0, 0.2, ..., 1 with and without FSL
        lam = i / 10
        assert flags[f"isl_lambda_{lam}"] == {**isl, "--hfpl-isl-weight": lam}
        assert flags[f"isl_lambda_{lam}_fsl"] == {**isl, **fsl, "--hfpl-isl-weight": lam}
    # SEAM's FSL gating is the add-on patch's default (min-max, SEAM's max_norm): no variant
    # overrides it but Sec. 5.5's ablation, g on the posterior b
    gated = {name for name, f in flags.items() if "--hfpl-fsl-gating" in f}
    assert gated == {"fsl_gating_b"}
    assert flags["fsl_gating_b"] == {
        **fsl, "--hfpl-posterior": "binomial", "--hfpl-fsl-gating": "binomial"
    }  # fmt: skip
    patch = (ROOT / "patches" / "SEAM" / "0004-hfpl.patch").read_text()
    assert "+    parser.set_defaults(hfpl_fsl_gating='minmax')" in patch
