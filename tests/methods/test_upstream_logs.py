"""Every ``upstream_log`` of config/methods/*.yaml reads the number its upstream script prints.

The sample lines have the shapes the smoke's step logs show (the codebase's test.py, MCTformer's
seg/infer_seg.py, deeplab-pytorch's scores.json; PMM's and mmseg's prints are in
test_pmm_config.py); the CI smoke then checks
on the real upstream output that ours agrees with each.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hfpl.metrics.upstream import read_upstream_j

ROOT = Path(__file__).resolve().parents[2]

CODEBASE = """\
 background:  3.439%\t  aeroplane:  0.000%
  tvmonitor:  0.000%\t
======================================================
       mIoU:  0.297%
Test finished
"""
MCTFORMER = """\
dog            \t0.00%
tvmonitor      \tnan%
mIoU=0.155
"""
DEEPLAB_SCORES = """\
{
    "Class IoU": {
        "0": 0.5,
        "1": NaN
    },
    "Frequency Weighted IoU": 0.25,
    "Mean Accuracy": 0.2,
    "Mean IoU": 0.017762270176,
    "Pixel Accuracy": 0.0889
}
"""
# evaluation -> (sample log, printed J in percent), per method
EXPECTED = {
    "seam": {"final_val": (CODEBASE, 0.297), "final_val_crf": (CODEBASE, 0.297)},
    **{
        method: {
            "final_val_r38": (CODEBASE, 0.297),
            "final_val_r38_crf": (CODEBASE, 0.297),
            "final_val_r101": (DEEPLAB_SCORES, 1.7762270176),
            "final_val_r101_crf": (DEEPLAB_SCORES, 1.7762270176),
        }
        for method in ("sipe", "spatial-bce")
    },
    "mctformer": {"final_val": (MCTFORMER, 15.5), "final_val_crf": (MCTFORMER, 15.5)},
}


def _upstream_logs(method: str) -> dict[str, dict]:
    doc = yaml.safe_load((ROOT / "config" / "methods" / f"{method}.yaml").read_text())
    return {
        name: ev["upstream_log"]
        for step in doc["steps"].values()
        for name, ev in step.get("evaluations", {}).items()
        if "upstream_log" in ev
    }


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_upstream_log_reads_the_printed_final_j(method: str, tmp_path: Path) -> None:
    logs = _upstream_logs(method)
    assert set(logs) == set(EXPECTED[method])
    for name, up in logs.items():
        sample, printed = EXPECTED[method][name]
        (tmp_path / "log.txt").write_text(sample)
        found = read_upstream_j(tmp_path / "log.txt", up["regex"], None, up.get("scale", 1.0))
        assert found["J"] == pytest.approx(printed), name
    conventions = {name: up["convention"] for name, up in logs.items()}
    # the codebase averages over all classes (absent = 0); MCTformer's evaluator is a nanmean;
    # deeplab-pytorch's over the classes with GT
    for name, convention in conventions.items():
        expected = "gt" if "r101" in name else "present" if method == "mctformer" else "all"
        assert convention == expected, name
    for name in ("final_val_r101", "final_val_r101_crf"):  # the score file, not the step log
        if name in logs:
            assert logs[name]["file"].endswith(
                "/scores/voc12/deeplabv2_resnet101_msc/val/"
                + ("scores_crf.json" if name.endswith("crf") else "scores.json")
            )
