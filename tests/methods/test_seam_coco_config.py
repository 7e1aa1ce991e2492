"""SEAM on COCO (paper Table 3), CI-safe: config/config.yaml validates with its COCO grids, golden
argv of every step for the 8- and 16-epoch variants (FSL x0.2 on COCO), the COCO evaluations (81
classes, val2014/train2014), the smoke profiles' datasets and the smoke data rule's argv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_seam_config import ROOT, SCHEMAS, check_golden  # tests/methods is on pythonpath

from hfpl.workflow import plan
from hfpl.workflow.config import Run, deep_merge, load_workflow_config

ISL_FSL_COCO = [
    "--hfpl-isl-weight", "0.2", "--hfpl-isl-samples", "10", "--hfpl-fsl-weight", "0.2",
    "--hfpl-fsl-mu", "2.5", "--hfpl-fsl-sigma", "5", "--hfpl-posterior", "binomial",
]  # fmt: skip
# variant -> CRF alphas, CAM epochs, add-on flags on COCO
COCO_VARIANTS = {
    "baseline": {"LO": "4", "HI": "24", "EP": "8", "flags": []},
    "isl_fsl": {"LO": "1", "HI": "24", "EP": "8", "flags": ISL_FSL_COCO},
    "baseline_ep16": {"LO": "4", "HI": "24", "EP": "16", "flags": []},
    "isl_fsl_ep16": {"LO": "1", "HI": "24", "EP": "16", "flags": ISL_FSL_COCO},
}


def _settings(*files: str) -> dict:
    settings: dict = {}
    for name in files:
        settings = deep_merge(settings, yaml.safe_load((ROOT / name).read_text()))
    return settings


@pytest.fixture(autouse=True)
def _in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # patch folders and config paths are relative to the workdir


def test_config_runs_table3_grid() -> None:
    cfg = load_workflow_config(_settings("config/config.yaml"), SCHEMAS)
    coco = {(r.variant, r.seed) for r in cfg.runs if r.dataset == "coco"}
    assert {r.method for r in cfg.runs if r.dataset == "coco"} == {"seam"}
    assert coco == {
        *((v, s) for v in ("baseline", "isl_fsl") for s in (0, 1, 2)),
        ("baseline_ep16", 0),
        ("isl_fsl_ep16", 0),
    }
    assert cfg.settings["data"]["roots"]["coco"] == "data/coco"
    # Table 3's grids name exactly these variants and seeds
    tables = yaml.safe_load((ROOT / "config" / "tables.yaml").read_text())["tables"]
    for key in ("table3", "table3_ep16"):
        table = tables[key]
        assert table["dataset"] == "coco" and table["evaluation"] == "final_val"
        assert {(v, s) for v in table["variants"] for s in table["seeds"]} <= coco


@pytest.mark.parametrize("variant", sorted(COCO_VARIANTS))
def test_golden_argv_coco(variant: str) -> None:
    config = _settings("config/config.yaml")
    config.update(methods=["seam"], variants=[variant], seeds=[3], datasets=["coco"])
    config.update(extra_grids=[])
    config["executor"]["local"]["python"] = "python3"
    cfg = load_workflow_config(config, SCHEMAS)
    check_golden(cfg, "coco", variant, f"{ROOT}/data/coco", COCO_VARIANTS[variant])
    # VOC keeps FSL weight 1 for the same variant
    voc = plan.flags(cfg, "seam", variant, "voc")
    assert ("1.0" in voc) == variant.startswith("isl_fsl")


def test_fsl_is_scaled_on_coco_only() -> None:
    cfg = load_workflow_config(_settings("config/config.yaml"), SCHEMAS)
    for name, variant in cfg.variants.items():
        base = variant["flags"].get("--hfpl-fsl-weight", 0)
        coco = dict(zip(*[iter(plan.flags(cfg, "seam", name, "coco"))] * 2, strict=True))
        voc = dict(zip(*[iter(plan.flags(cfg, "seam", name, "voc"))] * 2, strict=True))
        assert float(coco.get("--hfpl-fsl-weight", 0)) == (0.2 if base else 0), name
        assert float(voc.get("--hfpl-fsl-weight", 0)) == base, name


def test_coco_evaluations() -> None:
    config = _settings("config/config.yaml")
    config.update(methods=["seam"], variants=["baseline"], seeds=[0], datasets=["coco"])
    config.update(extra_grids=[])
    cfg = load_workflow_config(config, SCHEMAS)
    run, data = Run("coco", "seam", "baseline", 0), f"{ROOT}/data/coco"
    expected = {
        ("infer_cam_train", "cam_train"): "train2014",
        ("infer_cam_val", "cam_val"): "val2014",
        ("infer_aff_train", "pseudo_train"): "train2014",
        ("infer_aff_val", "rw_val"): "val2014",
        ("test_final", "final_val"): "val2014",
        ("test_final_crf", "final_val_crf"): "val2014",
    }
    for (step, evaluation), split in expected.items():
        argv = plan.evaluation_argv(cfg, run, step, evaluation)
        opts = dict(zip(argv[::2], argv[1::2], strict=False))
        assert opts["--gt"] == f"{data}/coco/SegmentationClass/{split}", evaluation
        assert opts["--list"] == f"{data}/coco/ImageSets/{split}.txt", evaluation
        assert argv[argv.index("--num-classes") + 1] == "81", evaluation


def test_smoke_profiles_and_dataset_args() -> None:
    smoke = ["config/config.yaml", "profiles/smoke/overrides.yaml"]
    # the plain smoke profile runs no COCO; its smoke data is VOC only
    cfg = load_workflow_config(_settings(*smoke), SCHEMAS)
    assert {r.dataset for r in cfg.runs} == {"voc"}
    assert plan.datasets(cfg) == ["voc"]
    assert plan.dataset_args(cfg, "voc") == [
        "smoke-data", "--dataset", "voc", "--out", "results/smoke-data/voc", "--images", "12",
        "--size", "96", "--seed", "0",
    ]  # fmt: skip
    cfg = load_workflow_config(_settings(*smoke, "profiles/smoke/seam-coco.yaml"), SCHEMAS)
    assert {(r.dataset, r.method, r.variant, r.seed) for r in cfg.runs} == {
        ("coco", "seam", "baseline", 0),
        ("coco", "seam", "isl_fsl", 0),
    }
    assert plan.datasets(cfg) == ["coco"]  # smoke data only for the datasets the runs use
    assert plan.dataset_args(cfg, "coco") == [
        "smoke-data", "--dataset", "coco", "--out", "results/smoke-data/coco", "--images", "12",
        "--size", "96", "--seed", "0",
    ]  # fmt: skip


def test_smoke_data_rule_generates_coco(tmp_path: Path) -> None:
    """Dry run of the real workflow with the COCO smoke profile: the smoke data rule's command."""
    override = tmp_path / "override.yaml"
    override.write_text(
        yaml.safe_dump(
            {
                "results_dir": str(tmp_path / "results"),
                "checkouts_dir": str(tmp_path / "checkouts"),
                "gpu_lock_dir": str(tmp_path / "locks"),
                "data": {"smoke": {"root": str(tmp_path / "smoke")}},
            }
        )
    )
    exe = Path(sys.executable).with_name("snakemake")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    argv += ["-n", "-p", "--workflow-profile", "profiles/smoke", "--configfile"]
    argv += ["config/config.yaml", "profiles/smoke/overrides.yaml", "profiles/smoke/seam-coco.yaml"]
    done = subprocess.run([*argv, str(override)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    command = [line for line in done.stdout.splitlines() if " smoke-data " in line]
    assert len(command) == 1, done.stdout[-3000:]
    assert f"--dataset coco --out {tmp_path}/smoke/coco --images 12 --size 96" in command[0]
    assert "/runs/coco/seam/isl_fsl/seed0/test_final_crf" in done.stdout
