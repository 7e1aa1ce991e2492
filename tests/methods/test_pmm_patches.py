"""patches/PMM and patches/WSSS_MMSeg: each patch is a plain `git diff` that parses, touches
exactly its files and keeps to its purpose; with HFPL_UPSTREAM_DIR (local git copies) the two
series apply in order to the pinned commits (marker `upstream`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERIES = {
    ("Eli-YiLi", "PMM", "134ad33fb42be51f10e9708336bb9bfeefd671e0"): {
        "0001-compat.patch": {"pipeline/infer_multi_scale.py", "tool/data.py", "tool/imutils.py",
                              "tool/torchutils.py", "tool/visualization.py"},
        "0002-device-seed.patch": {"pipeline/infer_multi_crop.py", "pipeline/infer_multi_scale.py",
                                   "pipeline/train_cam.py", "run.py"},
        "0003-plumbing.patch": {"pipeline/infer_multi_crop.py", "pipeline/infer_multi_scale.py",
                                "pipeline/refine_cam.py", "pipeline/train_cam.py", "run.py"},
        "0004-hfpl.patch": {"network/resnet38_SEAM.py", "pipeline/train_cam.py", "run.py"},
    },
    ("Eli-YiLi", "WSSS_MMSeg", "2cbb54e6bafffb02c65327effe267cfac0ac5a92"): {
        "0001-compat.patch": {"mmseg/core/evaluation/mean_iou.py",
                              "mmseg/models/decode_heads/point_head.py",
                              "mmseg/models/segmentors/encoder_decoder.py", "tools/test.py",
                              "tools/train.py"},
        "0002-device-seed.patch": {"mmseg/apis/train.py"},
        "0003-plumbing.patch": {"mmseg/models/backbones/resnet38d.py", "tools/pick_best_pth.py"},
    },
}  # fmt: skip


def _patch(name: str, patch: str) -> Path:
    return ROOT / "patches" / name / patch


def _numstat(path: Path) -> set[str]:
    out = subprocess.run(["git", "apply", "--numstat", str(path)], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout  # fmt: skip
    return {line.split("\t")[2] for line in out.splitlines()}


@pytest.mark.parametrize(
    ("name", "patch"), [(k[1], p) for k, series in SERIES.items() for p in series]
)
def test_patch_touches_exactly_its_files(name: str, patch: str) -> None:
    series = next(s for k, s in SERIES.items() if k[1] == name)
    assert _numstat(_patch(name, patch)) == series[patch]


def test_folders_hold_exactly_the_series() -> None:
    for (_, name, _), series in SERIES.items():
        assert sorted(p.name for p in (ROOT / "patches" / name).iterdir()) == sorted(series)


def _added(name: str, patch: str) -> str:
    lines = _patch(name, patch).read_text().splitlines()
    return "\n".join(x[1:] for x in lines if x.startswith("+") and not x.startswith("+++"))


def test_purposes() -> None:
    """Compat never calls hfpl's add-on; only 0004 does; device-seed is where `.cuda()` goes and
    the seeds come in; plumbing keeps upstream's values as defaults."""
    for name in ("PMM", "WSSS_MMSeg"):
        for patch in SERIES[next(k for k in SERIES if k[1] == name)]:
            assert ("hfpl.losses" in _added(name, patch)) == (patch == "0004-hfpl.patch")
    assert "runtime.seed_everything(args.seed)" in _added("PMM", "0002-device-seed.patch")
    plumbing = _added("PMM", "0003-plumbing.patch")
    for default in ('default=[448, 768]', 'default="0.5,1.0,1.5,2.0"',
                    'default="ScaleNet101_SEAM"', 'default=20,'):  # fmt: skip
        assert default in plumbing
    addon = _added("PMM", "0004-hfpl.patch")
    assert "dataclasses.replace(addon, isl_weight=0.0)" in addon  # multi-crop: FSL only
    assert "legacy_mmcv.install()" in _added("WSSS_MMSeg", "0001-compat.patch")


@pytest.mark.upstream
@pytest.mark.parametrize("key", list(SERIES), ids=[k[1] for k in SERIES])
def test_series_applies_to_the_pinned_commit(key: tuple[str, str, str], tmp_path: Path) -> None:
    mirrors = os.environ.get("HFPL_UPSTREAM_DIR")
    if not mirrors or shutil.which("git") is None:
        pytest.skip("HFPL_UPSTREAM_DIR (local git copies of the upstream repos) not set")
    owner, name, commit = key
    repo = Path(mirrors) / f"{owner}+{name}" / "repo"
    work = tmp_path / name
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", commit], check=True)
    for patch in sorted(SERIES[key]):
        subprocess.run(["git", "-C", str(work), "apply", str(_patch(name, patch))], check=True)
