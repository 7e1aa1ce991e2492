"""The SIPE rows' smoke on the real upstream code (marker `upstream`, ~10 min, 2 CPU cores).

Needs ``HFPL_UPSTREAM_DIR`` (a folder of ``<owner>+<name>/repo`` git copies) and
``HFPL_UPSTREAM_PYTHON`` (an interpreter with the upstream requirements:
``containers/sipe/requirements.txt`` over the base image's: torch, torchvision, pydensecrf2,
opencv, scipy, tensorboardX, omegaconf, click, addict, hfpl); skipped otherwise.

Runs ``snakemake --workflow-profile profiles/smoke`` with ``profiles/smoke/sipe.yaml`` (SIPE
steps 1-6 once, both finals: codebase R38 and deeplab-pytorch R101; baseline and isl_fsl x seed
0, CPU) into a temporary results dir and checks every step's manifest, the add-on flags of
train_cam, that the add-on changes the IS-CAMs, the IS-CAM, pseudo-label and four final
evaluations, and that the smoke table lines of rows sipe_r38 (Tables 1, 2: the CAM and the
codebase CRF evaluations) and sipe_r101 (Table 2: the deeplab-pytorch CRF one) hold them.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REPOS = ("chenqi1126+SIPE", "YudeWang+semantic-segmentation-codebase", "kazuto1011+deeplab-pytorch")
STEPS = [
    "train_cam", "make_cam", "cam2ir", "train_irn", "make_seg_labels",
    "train_final_r38", "test_final_r38", "test_final_r38_crf",
    "train_final_r101", "test_final_r101", "crf_final_r101",
]  # fmt: skip
EVALUATIONS = {
    "make_cam": "cam_train",
    "make_seg_labels": "pseudo_train",
    "test_final_r38": "final_val_r38",
    "test_final_r38_crf": "final_val_r38_crf",
    "test_final_r101": "final_val_r101",
    "crf_final_r101": "final_val_r101_crf",
}
VARIANTS = ("baseline", "isl_fsl")


def _overrides(tmp_path: Path) -> dict:
    base, python = os.environ.get("HFPL_UPSTREAM_DIR"), os.environ.get("HFPL_UPSTREAM_PYTHON")
    if not base or not python:
        pytest.skip(
            "set HFPL_UPSTREAM_DIR (local <owner>+<name>/repo copies) and "
            "HFPL_UPSTREAM_PYTHON (interpreter with the upstream requirements)"
        )
    for name in REPOS:
        if not (Path(base) / name / "repo").is_dir():
            pytest.skip(f"{base}/{name}/repo missing")
    return {
        "results_dir": str(tmp_path / "results"),
        "checkouts_dir": str(tmp_path / "checkouts"),
        "gpu_lock_dir": str(tmp_path / "gpu-locks"),
        "upstream": {"url_template": f"{base}/{{owner}}+{{name}}/repo"},
        "executor": {"local": {"python": python}},
        "data": {"smoke": {"root": str(tmp_path / "smoke-data")}},
        "variants": list(VARIANTS),
        "seeds": [0],
    }


def _table(results: Path, table: str, row: str) -> dict:
    with open(results / "tables" / f"{table}.csv", newline="") as fh:
        return {(r["variant"], r["metric"]): r for r in csv.DictReader(fh) if r["row"] == row}


@pytest.mark.upstream
def test_sipe_smoke(tmp_path: Path) -> None:
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump(_overrides(tmp_path)))
    exe = Path(sys.executable).with_name("snakemake")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    argv += ["--cores", "2", "--workflow-profile", "profiles/smoke", "--configfile"]
    argv += ["config/config.yaml", "profiles/smoke/overrides.yaml"]
    argv += ["profiles/smoke/sipe.yaml", str(override)]
    t0 = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    (tmp_path / "snakemake.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    print(f"\nSIPE smoke wall {time.monotonic() - t0:.0f} s")

    results = tmp_path / "results"
    for variant in VARIANTS:
        run = results / "runs" / "voc" / "sipe" / variant / "seed0"
        for step in STEPS:
            manifest = json.loads((run / step / "manifest.json").read_text())
            assert manifest["exit_status"] == 0, step
            print(f"  {variant:9s} {step:18s} {manifest['duration_s']:6.1f} s")
        argv = json.loads((run / "train_cam" / "manifest.json").read_text())["argv"]
        assert argv[argv.index("--seed") + 1] == "0"
        flags = {"--hfpl-isl-scale": "0.1", "--hfpl-fsl-weight": "0.1", "--hfpl-fsl-upsample": "2"}
        for flag, value in flags.items():
            if variant == "baseline":
                assert flag not in argv, flag
            else:
                assert argv[argv.index(flag) + 1] == value, flag
        r38 = run / "train_final_r38" / "model" / "deeplabv1_resnet38_VOCDataset_itr2_all.pth"
        assert r38.exists()
        saved = yaml.safe_load((run / "train_final_r101" / "config.yaml").read_text())
        pseudo = (run / "make_seg_labels" / "pseudo_label").resolve()
        assert Path(saved["DATASET"]["LABEL_DIR"]).resolve() == pseudo  # the R101 final's labels
        for step, evaluation in EVALUATIONS.items():
            metrics = json.loads((run / step / "metrics" / f"{evaluation}.json").read_text())
            assert metrics["num_classes"] == 21 and metrics["n_images"] > 0, evaluation
            assert 0 <= metrics["J"] <= 100, evaluation

    # random-init smoke CAMs are near-constant (one class wins everywhere, so the metrics of
    # both variants can coincide): the add-on must still change the IS-CAM values
    runs = results / "runs" / "voc" / "sipe"
    cams = [
        np.load(next((runs / v / "seed0" / "make_cam" / "npy").glob("*.npy")), allow_pickle=True)
        for v in VARIANTS
    ]
    assert not np.array_equal(cams[0].item()["IS_CAM"], cams[1].item()["IS_CAM"])

    for table, row, step, evaluation, metrics in (
        ("table1", "sipe_r38", "make_cam", "cam_train", {"J"}),
        ("table2", "sipe_r38", "test_final_r38_crf", "final_val_r38_crf", {"J", "F", "JF"}),
        ("table2", "sipe_r101", "crf_final_r101", "final_val_r101_crf", {"J", "F", "JF"}),
    ):
        cells = _table(results, table, row)
        assert set(cells) == {(v, m) for v in VARIANTS for m in metrics}, (table, row)
        for (variant, metric), cell in cells.items():
            path = runs / variant / "seed0" / step / "metrics" / f"{evaluation}.json"
            value = json.loads(path.read_text())[metric]
            assert int(cell["n"]) == 1, (table, row)
            assert math.isclose(float(cell["mean"]), value, abs_tol=1e-9), (table, row, metric)
