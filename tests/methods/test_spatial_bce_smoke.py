"""The Spatial-BCE rows' smoke on the real upstream code (marker `upstream`, ~10 min, 2 cores).

Needs ``HFPL_UPSTREAM_DIR`` (a folder of ``<owner>+<name>/repo`` git copies) and
``HFPL_UPSTREAM_PYTHON`` (an interpreter with torch, torchvision, pydensecrf2, hfpl and
containers/sbce/requirements.txt, randaugment fixed by containers/sbce/fix_randaugment.py);
skipped otherwise.

Runs ``snakemake --workflow-profile profiles/smoke`` with ``profiles/smoke/spatial-bce.yaml``
(the three phases, IRN steps 4-6, both finals; isl_fsl x seed 0, CPU) into a temporary results
dir and checks every step's manifest, the add-on flags in all three phases, the phase chaining,
that the checkout stays clean, the converted CAMs and every evaluation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
PHASES = [
    f"{s}_p{k}" for k in (1, 2, 3) for s in ("train", "cam", "crf", "fg") if (s, k) != ("fg", 3)
]
STEPS = [
    *PHASES, "cam_to_irn", "ir_label", "train_irn", "sem_seg", "train_final_r38",
    "test_final_r38", "test_final_r38_crf", "train_final_r101", "test_final_r101", "crf_final_r101",
]  # fmt: skip
EVALUATIONS = [
    ("crf_p1", "crf_train_p1"), ("crf_p2", "crf_train_p2"), ("crf_p3", "crf_train_p3"),
    ("cam_p3", "cam_train"), ("cam_p3", "cam_adaptive_train"), ("sem_seg", "pseudo_train"),
    ("test_final_r38", "final_val_r38"), ("test_final_r38_crf", "final_val_r38_crf"),
    ("test_final_r101", "final_val_r101"), ("crf_final_r101", "final_val_r101_crf"),
]  # fmt: skip


def _overrides(tmp_path: Path) -> dict:
    base, python = os.environ.get("HFPL_UPSTREAM_DIR"), os.environ.get("HFPL_UPSTREAM_PYTHON")
    if not base or not python:
        pytest.skip(
            "set HFPL_UPSTREAM_DIR (local <owner>+<name>/repo copies) and "
            "HFPL_UPSTREAM_PYTHON (interpreter with the upstream requirements)"
        )
    for repo in ("allenwu97+Spatial-BCE", "jiwoon-ahn+irn"):
        if not (Path(base) / repo / "repo").is_dir():
            pytest.skip(f"{base}/{repo}/repo missing")
    return {
        "results_dir": str(tmp_path / "results"),
        "checkouts_dir": str(tmp_path / "checkouts"),
        "gpu_lock_dir": str(tmp_path / "gpu-locks"),
        "upstream": {"url_template": f"{base}/{{owner}}+{{name}}/repo"},
        "executor": {"local": {"python": python}},
        "data": {"smoke": {"root": str(tmp_path / "smoke-data")}},
    }


@pytest.mark.upstream
def test_spatial_bce_smoke(tmp_path: Path) -> None:
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump(_overrides(tmp_path)))
    exe = Path(sys.executable).with_name("snakemake")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    argv += ["--cores", "2", "--workflow-profile", "profiles/smoke", "--configfile"]
    argv += ["config/config.yaml", "profiles/smoke/overrides.yaml"]
    argv += ["profiles/smoke/spatial-bce.yaml", str(override)]
    t0 = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    (tmp_path / "snakemake.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    print(f"\nSpatial-BCE smoke wall {time.monotonic() - t0:.0f} s")

    run = tmp_path / "results" / "runs" / "voc" / "spatial-bce" / "isl_fsl" / "seed0"
    for step in STEPS:
        manifest = json.loads((run / step / "manifest.json").read_text())
        assert manifest["exit_status"] == 0, step
        print(f"  {step:20s} {manifest['duration_s']:6.1f} s")
    for k in (1, 2, 3):
        argv = json.loads((run / f"train_p{k}" / "manifest.json").read_text())["argv"]
        for flag, value in (("--hfpl-isl-weight", "0.2"), ("--hfpl-fsl-weight", "1.0")):
            assert argv[argv.index(flag) + 1] == value, (k, flag)
        assert sorted(p.name for p in (run / f"train_p{k}" / f"p{k}").iterdir()) == [
            f"p{k}-voc12-final.pth"  # the final checkpoint only
        ]
        if k > 1:
            assert argv[argv.index("--fg_path") + 1] == str(run / f"fg_p{k - 1}" / "fg.npy")
    for checkout in (tmp_path / "checkouts").glob("*/*/*"):
        if (checkout / ".git").exists():
            status = subprocess.run(
                ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=all"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            # only the applied patches' files: nothing written into the checkout
            assert all(line.startswith(" M") for line in status.splitlines()), status
    converted = np.load(next((run / "cam_to_irn" / "cam").glob("*.npy")), allow_pickle=True).item()
    assert set(converted) == {"keys", "high_res", "cam"} and isinstance(
        converted["cam"], torch.Tensor
    )
    for step, name in EVALUATIONS:
        metrics = json.loads((run / step / "metrics" / f"{name}.json").read_text())
        assert metrics["num_classes"] == 21 and metrics["n_images"] > 0, name
        assert 0 <= metrics["J"] <= 100, name
