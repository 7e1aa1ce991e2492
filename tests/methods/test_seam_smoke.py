"""The SEAM row's smoke on the real upstream code (marker `upstream`, ~5 min each, 2 CPU cores).

Needs ``HFPL_UPSTREAM_DIR`` (a folder of ``<owner>+<name>/repo`` git copies, e.g. from the
search tool's fetch) and ``HFPL_UPSTREAM_PYTHON`` (an interpreter with the upstream requirements:
torch, torchvision, pydensecrf2, opencv, scipy, tensorboardX, hfpl); skipped otherwise.

Runs ``snakemake --workflow-profile profiles/smoke`` with ``profiles/smoke/seam.yaml`` (all nine
steps, baseline and isl_fsl x seeds 0 and 1, CPU) into a temporary results dir, checks every step's
manifest, the evaluations and the smoke Table 1/2 rows, then reruns the CAM steps of baseline
seed 0 into a second results dir and checks that their metrics are identical.
``test_seam_coco_smoke``: the same with ``profiles/smoke/seam-coco.yaml`` (SEAM on the synthetic
COCO 2014 tree, baseline and isl_fsl x seed 0) and the smoke Table 3 rows.
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

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STEPS = [
    "train_cam", "infer_cam_train", "infer_cam_val", "train_aff", "infer_aff_train",
    "infer_aff_val", "train_final", "test_final", "test_final_crf",
]  # fmt: skip
CAM_METRICS = ["infer_cam_train/metrics/cam_train.json", "infer_cam_val/metrics/cam_val.json"]
CONFIGFILES = ["config/config.yaml", "profiles/smoke/overrides.yaml"]


def _upstream() -> tuple[Path, str]:
    base, python = os.environ.get("HFPL_UPSTREAM_DIR"), os.environ.get("HFPL_UPSTREAM_PYTHON")
    if not base or not python:
        pytest.skip(
            "set HFPL_UPSTREAM_DIR (local <owner>+<name>/repo copies) and "
            "HFPL_UPSTREAM_PYTHON (interpreter with the upstream requirements)"
        )
    for name in ("YudeWang+SEAM", "YudeWang+semantic-segmentation-codebase"):
        if not (Path(base) / name / "repo").is_dir():
            pytest.skip(f"{base}/{name}/repo missing")
    return Path(base), python


def _snakemake(
    tmp: Path, results: str, overrides: dict, *targets: str, profile: str = "seam"
) -> float:
    """Run the smoke with ``profiles/smoke/{profile}.yaml`` and ``overrides`` into
    ``tmp/results``; return the wall time (s)."""
    override = tmp / f"{results}.yaml"
    override.write_text(yaml.safe_dump(overrides))
    exe = Path(sys.executable).with_name("snakemake")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    # targets first: --configfile takes every following word
    argv += [*targets, "--cores", "2", "--workflow-profile", "profiles/smoke"]
    argv += ["--configfile", *CONFIGFILES, f"profiles/smoke/{profile}.yaml", str(override)]
    t0 = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    (tmp / f"{results}.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return wall


def _shared(tmp_path: Path) -> dict:
    """Overrides keeping every output in ``tmp_path``, with the local upstream copies."""
    base, python = _upstream()
    return {
        "checkouts_dir": str(tmp_path / "checkouts"),
        "gpu_lock_dir": str(tmp_path / "gpu-locks"),
        "upstream": {"url_template": f"{base}/{{owner}}+{{name}}/repo"},
        "executor": {"local": {"python": python}},
        "data": {"smoke": {"root": str(tmp_path / "smoke-data")}},
    }


@pytest.mark.upstream
def test_seam_smoke(tmp_path: Path) -> None:
    shared = _shared(tmp_path)
    results = tmp_path / "results"
    wall = _snakemake(tmp_path, "results", {**shared, "results_dir": str(results)})

    durations = {}
    for variant in ("baseline", "isl_fsl"):
        for seed in (0, 1):
            run = results / "runs" / "voc" / "seam" / variant / f"seed{seed}"
            for step in STEPS:
                manifest = json.loads((run / step / "manifest.json").read_text())
                assert manifest["exit_status"] == 0
                durations[step] = durations.get(step, 0.0) + manifest["duration_s"]
            alphas = ("1.0", "24.0") if variant == "isl_fsl" else ("4.0", "24.0")
            assert sorted(p.name for p in (run / "infer_cam_train").glob("crf_*")) == sorted(
                f"crf_{a}" for a in alphas
            )
            for path in (*CAM_METRICS, "test_final/metrics/final_val.json"):
                metrics = json.loads((run / path).read_text())
                assert metrics["n_images"] > 0 and 0 <= metrics["J"] <= 100
    total = sum(durations.values())
    print(f"\nSEAM smoke wall {wall:.0f} s; step shares of the summed step time {total:.0f} s:")
    for step, seconds in durations.items():
        print(f"  {step:16s} {seconds:7.1f} s  {100 * seconds / total:5.1f} %")

    for table, metrics in (("table1", {"J"}), ("table2", {"J", "F", "JF"})):
        with open(results / "tables" / f"{table}.csv", newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["row"] == "seam_r38"]
        cells = {(r["variant"], r["metric"]): r for r in rows}
        assert set(cells) == {(v, m) for v in ("baseline", "isl_fsl") for m in metrics}
        for cell in cells.values():
            assert int(cell["n"]) == 2 and math.isfinite(float(cell["mean"]))

    # same seed, second results dir: identical CAM-step metrics on CPU
    again = tmp_path / "again"
    one_run = {**shared, "results_dir": str(again), "variants": ["baseline"], "seeds": [0]}
    run = "runs/voc/seam/baseline/seed0"
    _snakemake(tmp_path, "again", one_run, *(f"{again}/{run}/{m}" for m in CAM_METRICS))
    for path in CAM_METRICS:
        first = json.loads((results / run / path).read_text())
        second = json.loads((again / run / path).read_text())
        assert first == second, path


@pytest.mark.upstream
def test_seam_coco_smoke(tmp_path: Path) -> None:
    results = tmp_path / "results"
    overrides = {**_shared(tmp_path), "results_dir": str(results)}
    wall = _snakemake(tmp_path, "results", overrides, profile="seam-coco")
    print(f"\nSEAM COCO smoke wall {wall:.0f} s")
    for variant in ("baseline", "isl_fsl"):
        run = results / "runs" / "coco" / "seam" / variant / "seed0"
        for step in STEPS:
            manifest = json.loads((run / step / "manifest.json").read_text())
            assert manifest["exit_status"] == 0
            print(f"  {variant:9s} {step:16s} {manifest['duration_s']:6.1f} s")
        argv = json.loads((run / "train_cam" / "manifest.json").read_text())["argv"]
        assert argv[argv.index("--num_classes") + 1] == "80"
        fsl = argv[argv.index("--hfpl-fsl-weight") + 1] if variant == "isl_fsl" else None
        assert fsl == ("0.2" if variant == "isl_fsl" else None)  # Table 3: FSL x0.2 on COCO
        assert (run / "train_final" / "model/deeplabv1_resnet38_COCODataset_itr2_all.pth").exists()
        for path in (*CAM_METRICS, "test_final/metrics/final_val.json"):
            metrics = json.loads((run / path).read_text())
            assert metrics["num_classes"] == 81 and metrics["n_images"] > 0, path
            assert 0 <= metrics["J"] <= 100
    with open(results / "tables" / "table3.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["row"] == "seam_r38"]
    cells = {(r["variant"], r["metric"]): r for r in rows}
    assert set(cells) == {(v, m) for v in ("baseline", "isl_fsl") for m in ("J", "F", "JF")}
    for cell in cells.values():
        assert int(cell["n"]) == 1 and math.isfinite(float(cell["mean"]))
