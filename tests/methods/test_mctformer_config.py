"""config/methods/mctformer.yaml (CI-safe, no upstream code): it validates, the row's variants
carry the paper's MCTformer flags (ISL and FSL x0.1, FSL on CAMs x4), and golden argv of all
seven steps for baseline, isl, fsl and isl_fsl, full and smoke."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from hfpl.workflow import plan
from hfpl.workflow.config import Run, load_workflow_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
DEIT = "deit_small_patch16_224-cd65a155.pth"
V2 = ["--model", "deit_small_MCTformerV2_patch16_224"]
VOC = "{D}/VOCdevkit/VOC2012"
L = "{D}/lists/mctformer"
SEG = ["--network", "resnet38_seg", "--num_classes", "21"]


def _infer_seg(name: str, crf: str, smoke: list[str]) -> list[str]:
    return [
        "python3", "{MCT}/seg/infer_seg.py", *SEG,
        "--weights", "{O}/train_final/model/model_29.pth",
        "--list_path", f"{L}/voc12/val_id.txt", "--img_path", f"{VOC}/JPEGImages",
        "--gt_path", f"{VOC}/SegmentationClass", "--save_path", f"{{O}}/{name}/pred",
        "--scales", "0.5", "0.75", "1.0", "1.25", "1.5", "--use_crf", crf, *smoke,
    ]  # fmt: skip


def golden(smoke: bool) -> dict[str, list[str]]:
    """Every step's argv: {O} run root, {D} data root, {W} weights dir, {MCT} the checkout;
    {FLAGS} stands for the variant's add-on flags (train_cam only)."""
    labels = ["--label-file-path", f"{L}/voc12/cls_labels.npy"]
    data = ["--img-list", f"{L}/voc12", "--data-path", VOC, *labels]
    seg_smoke = ["--weights", "{O}/train_final/model/model_0.pth", "--scales", "1.0"]
    return {
        "train_cam": [
            "python3", "{MCT}/main.py", *V2, "--batch-size", "64", "--epochs", "60",
            "--data-set", "VOC12", *data, "--finetune", f"{{W}}/{DEIT}",
            "--output_dir", "{O}/train_cam", "--seed", "3", "{FLAGS}",
            *(["--batch-size", "2", "--epochs", "1", "--input-size", "96", "--num_workers", "0"]
              if smoke else []),
        ],
        "infer_cam_train": [
            "python3", "{MCT}/main.py", *V2, "--data-set", "VOC12MS", "--scales", "1.0", *data,
            "--resume", "{O}/train_cam/checkpoint.pth", "--gen_attention_maps",
            "--attention-type", "fused", "--layer-index", "3", "--visualize-cls-attn",
            "--patch-attn-refine", "--cam-npy-dir", "{O}/infer_cam_train/cam",
            "--out-crf", "{O}/infer_cam_train/crf", "--low_alpha", "1", "--high_alpha", "12",
            *(["--num_workers", "0"] if smoke else []),
        ],
        "train_aff": [
            "python3", "{MCT}/psa/train_aff.py", "--weights", "{W}/res38_cls.pth",
            "--voc12_root", VOC, "--train_list", f"{L}/psa/voc12/train_aug.txt",
            "--la_crf_dir", "{O}/infer_cam_train/crf_1",
            "--ha_crf_dir", "{O}/infer_cam_train/crf_12",
            "--session_name", "{O}/train_aff/aff", "--seed", "3",
            *(["--batch_size", "4", "--max_epoches", "1", "--crop_size", "96",
               "--num_workers", "0"] if smoke else []),
        ],
        "infer_aff_train": [
            "python3", "{MCT}/psa/infer_aff.py", "--weights", "{O}/train_aff/aff.pth",
            "--voc12_root", VOC, "--infer_list", f"{L}/psa/voc12/train_aug.txt",
            "--cam_dir", "{O}/infer_cam_train/cam", "--out_rw", "{O}/infer_aff_train/rw",
            *(["--num_workers", "0"] if smoke else []),
        ],
        "train_final": [
            "python3", "{MCT}/seg/train_seg.py", *SEG, "--num_epochs", "30",
            "--batch_size", "4", "--init_weights", "{W}/res38_cls.pth",
            "--list_path", f"{L}/voc12/train_aug_id.txt", "--img_path", f"{VOC}/JPEGImages",
            "--seg_pgt_path", "{O}/infer_aff_train/rw", "--save_path", "{O}/train_final/model",
            "--save_last_only", "--seed", "3",
            *(["--num_epochs", "1", "--batch_size", "2", "--crop_size", "64"] if smoke else []),
        ],
        "test_final": _infer_seg("test_final", "False", seg_smoke if smoke else []),
        "test_final_crf": _infer_seg("test_final_crf", "True", seg_smoke if smoke else []),
    }  # fmt: skip


ISL = ["--hfpl-isl-weight", "0.2", "--hfpl-isl-samples", "10"]
FSL = ["--hfpl-fsl-weight", "0.1", "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5"]
BINOMIAL = ["--hfpl-posterior", "binomial"]
VARIANTS = {
    "baseline": [],
    "isl": [*ISL, *BINOMIAL, "--hfpl-isl-scale", "0.1"],
    "fsl": [*FSL, *BINOMIAL, "--hfpl-fsl-upsample", "4"],
    "isl_fsl": [*ISL, *FSL, *BINOMIAL, "--hfpl-isl-scale", "0.1", "--hfpl-fsl-upsample", "4"],
}


def _load(variants: list[str], **override) -> object:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(methods=["mctformer"], variants=variants, seeds=[3], **override)
    config["executor"]["local"]["python"] = "python3"
    return load_workflow_config(config, SCHEMAS)


@pytest.fixture(autouse=True)
def _in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the method's patch folder is relative to the workdir


@pytest.mark.parametrize("smoke", [False, True], ids=["full", "smoke"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_golden_argv(variant: str, smoke: bool) -> None:
    """smoke: the method's `smoke:` argv (data roots stay config.yaml's here)."""
    cfg = _load([variant], smoke=smoke)
    checkout = plan.checkout_dir(cfg, cfg.repos["mctformer"]["MCTformer"])
    values = {
        "O": f"{ROOT}/results/runs/voc/mctformer/{variant}/seed3",
        "D": f"{ROOT}/data/voc",
        "W": f"{ROOT}/data/weights",
        "MCT": os.path.abspath(checkout),
    }
    steps = golden(smoke)
    assert list(cfg.methods["mctformer"]["steps"]) == list(steps)
    run = Run("voc", "mctformer", variant, 3)
    for step, items in steps.items():
        expected = []
        for item in items:
            expected += VARIANTS[variant] if item == "{FLAGS}" else [item.format(**values)]
        assert list(plan.step_job(cfg, run, step).argv) == expected, step


def test_outputs_and_evaluations() -> None:
    cfg = _load(["baseline"])
    run = Run("voc", "mctformer", "baseline", 0)
    outputs = {
        s: list(plan.step_job(cfg, run, s).outputs) for s in cfg.methods["mctformer"]["steps"]
    }
    assert outputs == {
        "train_cam": ["checkpoint.pth"],
        "infer_cam_train": ["cam", "crf_1", "crf_12"],  # upstream's alphas 1 and 12
        "train_aff": ["aff.pth"],
        "infer_aff_train": ["rw"],
        "train_final": ["model/model_29.pth"],
        "test_final": ["pred"],
        "test_final_crf": ["pred"],
    }
    evaluations = {
        name: (step, ev["format"], Path(ev["list"]).name, ev["num_classes"], ev.get("sweep"))
        for step, spec in cfg.methods["mctformer"]["steps"].items()
        for name, ev in spec.get("evaluations", {}).items()
    }
    assert evaluations == {
        # Table 1: CAMs without CRF on train, best background threshold of the sweep
        "cam_train": ("infer_cam_train", "cam-dict", "train.txt", 21, "0:0.6:0.01"),
        "pseudo_train": ("infer_aff_train", "label-png", "train.txt", 21, None),
        # Tables 2, 6, 7, Fig. 1: the final network on val
        "final_val": ("test_final", "label-png", "val.txt", 21, None),
        "final_val_crf": ("test_final_crf", "label-png", "val.txt", 21, None),
    }


def test_method_facts() -> None:
    """Container layer, lists, weights (DeiT downloadable, res38_cls manual-only) and smoke."""
    method = yaml.safe_load((ROOT / "config" / "methods" / "mctformer.yaml").read_text())
    assert method["image"] == "mctformer" and method["datasets"] == ["voc"]
    assert method["repos"]["MCTformer"]["commit"] == "96065977f38ec07cff3dea7295555d5141502c2d"
    assert {e["path"] for e in method["lists"]["voc"]} == {
        "voc12/train_aug_id.txt", "voc12/val_id.txt", "voc12/cls_labels.npy",
        "psa/voc12/train_aug.txt",
    }  # fmt: skip
    deit, res38 = (method["weights"][n] for n in (DEIT, "res38_cls.pth"))
    assert deit["smoke"] == "deit-small-patch16-224" and deit["sha256_prefix"] == "cd65a155"
    assert deit["urls"] == [f"https://dl.fbaipublicfiles.com/deit/{DEIT}"]
    assert res38["smoke"] == "resnet38-cls20" and res38["urls"] == []
    assert "1xESB7017zlZHqxEWuh1Rb89UhjTGIKOA" in res38["manual"]
    # the container pins upstream's timm (optimizer/scheduler are upstream's by construction)
    requirements = (ROOT / "containers" / "mctformer" / "requirements.txt").read_text()
    assert "timm==0.4.12" in requirements.split()
    # DeiT at 96 px, AffinityNet crop 96 (>= 88): the smoke data may not be smaller
    assert method["smoke"]["data"] == {"images": 12, "size": 96}


def test_row_flags_are_the_papers() -> None:
    """Sec. 5.1: ISL and FSL x0.1 (AdamW), FSL on the CAMs upsampled x4 (14 -> 56)."""
    cfg = _load(["baseline"])
    flags = {
        name: {**v["flags"], **v["per_method"].get("mctformer", {})}
        for name, v in cfg.variants.items()
        if name in VARIANTS
    }
    assert flags["baseline"] == {}
    assert flags["isl"]["--hfpl-isl-scale"] == 0.1 and "--hfpl-fsl-weight" not in flags["isl"]
    assert flags["fsl"]["--hfpl-fsl-weight"] == 0.1 and flags["fsl"]["--hfpl-fsl-upsample"] == 4
    assert "--hfpl-isl-weight" not in flags["fsl"]
    assert {k: flags["isl_fsl"][k] for k in ("--hfpl-isl-scale", "--hfpl-fsl-weight")} == {
        "--hfpl-isl-scale": 0.1,
        "--hfpl-fsl-weight": 0.1,
    }
    # the paper's MCTformer CAM is max-normalised: no variant changes the gating
    assert not any("--hfpl-fsl-gating" in f for f in flags.values())


def test_tables_read_the_mctformer_runs() -> None:
    tables = yaml.safe_load((ROOT / "config" / "tables.yaml").read_text())
    assert tables["rows"]["mctformer_deits"]["method"] == "mctformer"
    for name in ("table1", "table2", "table6", "table7"):
        assert "mctformer_deits" in tables["tables"][name]["rows"], name
