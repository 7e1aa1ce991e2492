"""Every ``upstream_log`` of config/methods/*.yaml reads the number its upstream script prints.

The sample lines have the shapes the smoke's step logs show (the codebase's test.py, MCTformer's
seg/infer_seg.py; PMM's and mmseg's prints are in test_pmm_config.py); the CI smoke then checks
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
# evaluation -> (sample log, printed J in percent), per method
EXPECTED = {
    "seam": {"final_val": (CODEBASE, 0.297), "final_val_crf": (CODEBASE, 0.297)},
    "sipe": {"final_val_r38": (CODEBASE, 0.297), "final_val_r38_crf": (CODEBASE, 0.297)},
    "spatial-bce": {"final_val_r38": (CODEBASE, 0.297), "final_val_r38_crf": (CODEBASE, 0.297)},
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
    conventions = {up["convention"] for up in logs.values()}
    # the codebase averages over all classes (absent = 0); MCTformer's evaluator is a nanmean
    assert conventions == ({"present"} if method == "mctformer" else {"all"})
