"""The MCTformer row's smoke on the real upstream code (marker `upstream`, ~3 min, 2 CPU cores).

Needs ``HFPL_UPSTREAM_DIR`` (a folder of ``<owner>+<name>/repo`` git copies) and
``HFPL_UPSTREAM_PYTHON`` (an interpreter with torch, torchvision, pydensecrf2, opencv, scipy,
timm 0.4.12, scikit-learn and hfpl); skipped otherwise.

Runs ``snakemake --workflow-profile profiles/smoke`` with ``profiles/smoke/mctformer.yaml`` (all
seven steps, isl_fsl x seed 0, CPU) into a temporary results dir and checks every step's
manifest, the add-on flags MCTformer gets (x0.1, x4), the outputs and the four evaluations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STEPS = [
    "train_cam", "infer_cam_train", "train_aff", "infer_aff_train", "train_final", "test_final",
    "test_final_crf",
]  # fmt: skip
EVALUATIONS = {
    "infer_cam_train": "cam_train",
    "infer_aff_train": "pseudo_train",
    "test_final": "final_val",
    "test_final_crf": "final_val_crf",
}


def _overrides(tmp_path: Path) -> dict:
    base, python = os.environ.get("HFPL_UPSTREAM_DIR"), os.environ.get("HFPL_UPSTREAM_PYTHON")
    if not base or not python:
        pytest.skip(
            "set HFPL_UPSTREAM_DIR (local <owner>+<name>/repo copies) and "
            "HFPL_UPSTREAM_PYTHON (interpreter with the upstream requirements)"
        )
    if not (Path(base) / "xulianuwa+MCTformer" / "repo").is_dir():
        pytest.skip(f"{base}/xulianuwa+MCTformer/repo missing")
    return {
        "results_dir": str(tmp_path / "results"),
        "checkouts_dir": str(tmp_path / "checkouts"),
        "gpu_lock_dir": str(tmp_path / "gpu-locks"),
        "upstream": {"url_template": f"{base}/{{owner}}+{{name}}/repo"},
        "executor": {"local": {"python": python}},
        "data": {"smoke": {"root": str(tmp_path / "smoke-data")}},
    }


@pytest.mark.upstream
def test_mctformer_smoke(tmp_path: Path) -> None:
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump(_overrides(tmp_path)))
    exe = Path(sys.executable).with_name("snakemake")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    argv += ["--cores", "2", "--workflow-profile", "profiles/smoke", "--configfile"]
    argv += ["config/config.yaml", "profiles/smoke/overrides.yaml"]
    argv += ["profiles/smoke/mctformer.yaml", str(override)]
    t0 = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    (tmp_path / "snakemake.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    print(f"\nMCTformer smoke wall {time.monotonic() - t0:.0f} s")

    run = tmp_path / "results" / "runs" / "voc" / "mctformer" / "isl_fsl" / "seed0"
    for step in STEPS:
        manifest = json.loads((run / step / "manifest.json").read_text())
        assert manifest["exit_status"] == 0, step
        print(f"  {step:16s} {manifest['duration_s']:6.1f} s")
    argv = json.loads((run / "train_cam" / "manifest.json").read_text())["argv"]
    for flag, value in (("--hfpl-isl-scale", "0.1"), ("--hfpl-fsl-weight", "0.1"),
                        ("--hfpl-fsl-upsample", "4"), ("--input-size", "96")):  # fmt: skip
        assert argv[argv.index(flag) + 1] == value, flag
    assert sorted(p.name for p in (run / "infer_cam_train").glob("crf_*")) == ["crf_1", "crf_12"]
    assert (run / "train_final" / "model" / "model_0.pth").exists()
    for step, name in EVALUATIONS.items():
        metrics = json.loads((run / step / "metrics" / f"{name}.json").read_text())
        assert metrics["num_classes"] == 21 and metrics["n_images"] > 0, name
        assert 0 <= metrics["J"] <= 100, name
