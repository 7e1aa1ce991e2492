"""The Sec. S.1 mu/sigma study (Fig. 7) on smoke data: Gaussian CAMs from the GT masks, FSL
alone, J/F/J&F per grid point, in seconds."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hfpl.studies import fsl_mu_sigma as study


def test_gaussian_logits_follow_the_mask_moments():
    mask = np.zeros((40, 60), bool)
    mask[10:20, 30:50] = True  # mean (14.5, 39.5), per-axis variance 8.25 and 33.25
    s = study.gaussian_logits(mask, (40, 60))[0, 0].numpy()
    assert s.shape == (40, 60) and s.max() <= 1 and s.min() >= -1
    y, x = np.unravel_index(s.argmax(), s.shape)
    assert (y, x) in {(14, 39), (14, 40), (15, 39), (15, 40)}
    assert (s > 0).sum() > 0 and s[0, 0] < -0.99  # far from the object: negative logits
    assert study.grid_point("fsl_mu_1.5") == (1.5, 5.0)
    assert study.grid_point("fsl_sigma_9") == (2.5, 9.0)
    with pytest.raises(study.StudyError, match="fsl_mu_<x>"):
        study.grid_point("fsl_gamma_1")


def test_study_on_smoke_data(tmp_path):
    root = tmp_path / "voc"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hfpl.cli",
            "smoke-data",
            "--dataset",
            "voc",
            "--out",
            str(root),
            "--images",
            "12",
            "--size",
            "96",
            "--seed",
            "0",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    chosen = study.choose_images(root, seed=0)
    assert chosen and len({c for _, c in chosen}) == len(chosen)  # one image per class
    out = tmp_path / "study.json"
    assert (
        study.main(["--root", str(root), "--out", str(out), "--smoke", "fsl_mu_2.5", "fsl_sigma_1"])
        == 0
    )
    data = json.loads(out.read_text())
    assert data["smoke"] and [r["variant"] for r in data["records"]] == [
        "fsl_mu_2.5",
        "fsl_sigma_1",
    ]
    for record in data["records"]:
        assert 0 <= record["J"] <= 100 and record["JF"] == pytest.approx(
            (record["J"] + record["F"]) / 2
        )


def test_study_without_single_object_images_is_one_line(tmp_path, capsys):
    assert (
        study.main(["--root", str(tmp_path), "--out", str(tmp_path / "o.json"), "fsl_mu_2.5"]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("fsl-mu-sigma: ") and "\n" not in err
    assert not (tmp_path / "o.json").exists()


def test_study_without_single_object_images_writes_no_points(tmp_path, capsys):
    """A smoke set too small to hold a single-object train image (3 images of 2-3 objects):
    the study says why and writes no points, so Fig. 7 is not drawn and the run goes on."""
    from hfpl.data.datasets import DATASETS

    root = tmp_path / "voc"
    DATASETS["voc"].smoke(root, images=3, size=32, seed=0)
    assert study.choose_images(root, seed=0) == []
    out = tmp_path / "study.json"
    assert study.main(["--root", str(root), "--out", str(out), "--smoke", "fsl_mu_2.5"]) == 0
    data = json.loads(out.read_text())
    assert data["records"] == [] and "single foreground class" in data["skipped"]
    assert "Fig. 7 is not drawn" in capsys.readouterr().out
