"""The SIPE rows' patch series (patches/SIPE, patches/deeplab-pytorch).

CI-safe checks on the patch files (each parses with `git apply --numstat`, touches exactly its
files, keeps to its purpose); with HFPL_UPSTREAM_DIR pointing at local git copies the series
is applied to the pinned commits (marker `upstream`).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATCHES = ROOT / "patches"
SIPE, DEEPLAB = "SIPE", "deeplab-pytorch"
PINS = {
    SIPE: ("chenqi1126", "e0c6a3bc578a6bade2cf85fe34a1793dce71170d", []),
    DEEPLAB: ("kazuto1011", "4219467fa5de07985f834f1bd8c04c186dc8f6d8", ["/*", "!/docs/"]),
}
EXPECTED_FILES = {
    (SIPE, "0001-compat.patch"): {
        "cam2ir.py", "make_cam.py", "make_seg_labels.py", "tool/indexing.py",
        "tool/visualization.py", "train_resnet50_SIPE.py",
    },
    (SIPE, "0002-device-seed.patch"): {
        "make_cam.py", "make_seg_labels.py", "network/resnet50_SIPE.py", "tool/indexing.py",
        "train_irn.py", "train_resnet50_SIPE.py",
    },
    (SIPE, "0003-plumbing.patch"): {
        "cam2ir.py", "data/data_voc.py", "make_cam.py", "make_seg_labels.py",
        "network/resnet50.py", "train_irn.py", "train_resnet50_SIPE.py",
    },
    (SIPE, "0004-hfpl.patch"): {"network/resnet50_SIPE.py", "train_resnet50_SIPE.py"},
    (DEEPLAB, "0001-compat.patch"): {"convert.py", "main.py"},
    (DEEPLAB, "0002-device-seed.patch"): {"main.py"},
    (DEEPLAB, "0003-plumbing.patch"): {
        "convert.py", "libs/datasets/voc.py", "libs/models/__init__.py", "main.py",
    },
}  # fmt: skip


def _text(repo: str, name: str) -> str:
    return (PATCHES / repo / name).read_text()


def _added(repo: str, name: str) -> str:
    lines = _text(repo, name).splitlines()
    return "\n".join(x[1:] for x in lines if x.startswith("+") and not x.startswith("+++"))


def _numstat(patch: Path) -> set[str]:
    out = subprocess.run(
        ["git", "apply", "--numstat", str(patch)], capture_output=True, text=True, check=True
    ).stdout
    return {line.split("\t")[2] for line in out.splitlines()}


def test_series_is_exactly_the_expected_files() -> None:
    found = {(r, p.name) for r in (SIPE, DEEPLAB) for p in (PATCHES / r).glob("*.patch")}
    assert found == set(EXPECTED_FILES)


@pytest.mark.parametrize(("repo", "name"), sorted(EXPECTED_FILES))
def test_patch_parses_and_touches_only_its_files(repo: str, name: str) -> None:
    assert _numstat(PATCHES / repo / name) == EXPECTED_FILES[(repo, name)]
    assert "new file mode" not in _text(repo, name)


def test_compat_adds_no_options_devices_or_losses() -> None:
    for repo in (SIPE, DEEPLAB):
        added = _added(repo, "0001-compat.patch")
        assert "add_argument" not in added and "click.option" not in added
        assert "runtime" not in added and "hfpl" not in added


def test_sipe_device_seed_leaves_no_cuda_call() -> None:
    for name in ("0001-compat.patch", "0002-device-seed.patch"):
        assert ".cuda(" not in _added(SIPE, name)
    removed = [x for x in _text(SIPE, "0002-device-seed.patch").splitlines() if x[:1] == "-"]
    assert sum(".cuda(" in x for x in removed) >= 15  # every call the facts file lists


def test_plumbing_keeps_upstream_defaults() -> None:
    added = _added(SIPE, "0003-plumbing.patch")
    for default in (
        "default=(320, 640)",  # resize_long was hard-coded
        "default=(1.0, 0.5, 1.5, 2.0)",  # make_cam scales
        "default=10, type=int",  # beta, now typed
        "default=8, type=int",  # exp_times, now typed
        'CLS_LABELS_PATH = "data/cls_labels_voc.npy"',
        'default="../PascalVOC2012/VOCdevkit/VOC2012"',
    ):
        assert default in added, default
    assert "max(1, args.num_workers)" in added  # cam2ir: 0 processes would run nothing
    deeplab = _added(DEEPLAB, "0003-plumbing.patch")
    assert "n_blocks=(3, 4, 23, 3)" in deeplab and "OmegaConf.from_dotlist" in deeplab


def test_addon_patch_calls_hfpl_only() -> None:
    added = _added(SIPE, "0004-hfpl.patch")
    assert "addon.classification_loss(" in added and "addon.feature_similarity_loss(" in added
    assert re.search(r'"logits": cam', added)
    assert not (PATCHES / DEEPLAB / "0004-hfpl.patch").exists()  # the final stage is unchanged


def _local_copy(owner: str, name: str) -> Path | None:
    base = os.environ.get("HFPL_UPSTREAM_DIR")
    if not base:
        return None
    for git_dir in (Path(base) / f"{owner}+{name}" / "repo", Path(base) / f"{owner}+{name}"):
        if (git_dir / "HEAD").exists() or (git_dir / ".git").exists():
            return git_dir
    return None


@pytest.mark.upstream
@pytest.mark.parametrize("repo", [SIPE, DEEPLAB])
def test_series_applies_to_pinned_commit(repo: str, tmp_path: Path) -> None:
    owner, commit, sparse = PINS[repo]
    source = _local_copy(owner, repo)
    if source is None:
        pytest.skip("set HFPL_UPSTREAM_DIR to local git copies of the upstream repos")
    work = tmp_path / repo
    git = ["git", "-C", str(work)]
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(work)], check=True)
    if sparse:
        subprocess.run([*git, "sparse-checkout", "set", "--no-cone", *sparse], check=True)
    subprocess.run([*git, "checkout", "-q", commit], check=True)
    for patch in sorted((PATCHES / repo).glob("*.patch")):
        subprocess.run([*git, "apply", str(patch)], check=True)
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    touched = {line[3:] for line in status.stdout.splitlines()}
    assert touched == set().union(*(f for (r, _), f in EXPECTED_FILES.items() if r == repo))
