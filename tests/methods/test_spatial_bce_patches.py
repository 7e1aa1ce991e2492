"""The Spatial-BCE rows' patch series (patches/Spatial-BCE, patches/irn).

CI-safe checks on the patch files (each parses with `git apply --numstat`, touches exactly its
files, keeps to its purpose); with HFPL_UPSTREAM_DIR pointing at local git copies the series is
applied to the pinned commits and the compat fixes are exercised on the patched code (marker
`upstream`). The finals reuse patches/semantic-segmentation-codebase and patches/deeplab-pytorch
(tested with the SEAM and SIPE rows).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
PATCHES = ROOT / "patches"
SBCE, IRN = "Spatial-BCE", "irn"
# owner, commit, sparse-checkout patterns (two > 4 MiB blobs a partial snapshot lacks)
PINS = {
    SBCE: (
        "allenwu97",
        "e3e8e55931710ab6eb3d483bbc25e3a9890aca07",
        ["/*", "!/datasets/voc12_init.npy", "!/datasets/train_coco_80_aug.txt"],
    ),
    IRN: ("jiwoon-ahn", "a2ece0034d0a5a9635e4e131cd4fa6e2a779d316", []),
}
EXPECTED_FILES = {
    (SBCE, "0001-compat.patch"): {"augmentations/transform.py", "loss_functions.py"},
    (SBCE, "0002-device-seed.patch"): {"configs/__init__.py", "make_cam.py", "train.py"},
    (SBCE, "0003-plumbing.patch"): {
        "augmentations/__init__.py", "augmentations/transform.py", "configs/__init__.py",
        "create_fg.py", "datasets/__init__.py", "datasets/base.py", "datasets/voc12.py",
        "loss_functions.py", "make_cam.py", "make_crf.py", "train.py",
    },
    (SBCE, "0004-hfpl.patch"): {"configs/__init__.py", "train.py"},
    (IRN, "0001-compat.patch"): {
        "misc/indexing.py", "misc/pyutils.py", "run_sample.py", "step/cam_to_ir_label.py",
        "step/make_cam.py", "step/make_sem_seg_labels.py", "voc12/dataloader.py",
    },
    (IRN, "0002-device-seed.patch"): {
        "misc/indexing.py", "run_sample.py", "step/make_sem_seg_labels.py", "step/train_irn.py",
    },
    (IRN, "0003-plumbing.patch"): {"net/resnet50.py", "run_sample.py", "voc12/dataloader.py"},
}  # fmt: skip
OPTION = re.compile(r"add_argument\(\s*['\"](--[\w-]+)")


def _text(repo: str, name: str) -> str:
    return (PATCHES / repo / name).read_text()


def _lines(repo: str, name: str, sign: str) -> list[str]:
    lines = _text(repo, name).splitlines()
    return [x[1:] for x in lines if x.startswith(sign) and not x.startswith(sign * 3)]


def _added(repo: str, name: str) -> str:
    return "\n".join(_lines(repo, name, "+"))


def _numstat(patch: Path) -> set[str]:
    out = subprocess.run(
        ["git", "apply", "--numstat", str(patch)], capture_output=True, text=True, check=True
    ).stdout
    return {line.split("\t")[2] for line in out.splitlines()}


def test_series_is_exactly_the_expected_files() -> None:
    found = {(r, p.name) for r in (SBCE, IRN) for p in (PATCHES / r).glob("*.patch")}
    assert found == set(EXPECTED_FILES)


@pytest.mark.parametrize(("repo", "name"), sorted(EXPECTED_FILES))
def test_patch_parses_and_touches_only_its_files(repo: str, name: str) -> None:
    assert _numstat(PATCHES / repo / name) == EXPECTED_FILES[(repo, name)]
    assert "new file mode" not in _text(repo, name)


def test_compat_adds_no_options_devices_or_losses() -> None:
    for repo in (SBCE, IRN):
        added, removed = (
            _lines(repo, "0001-compat.patch", "+"),
            _lines(repo, "0001-compat.patch", "-"),
        )
        # IRN compat only types its untyped flags: the same option names before and after
        assert set(OPTION.findall("\n".join(added))) == set(OPTION.findall("\n".join(removed)))
        assert "runtime" not in "\n".join(added) and "hfpl" not in "\n".join(added)


def test_compat_fixes_the_facts_file_lists() -> None:
    sbce = _added(SBCE, "0001-compat.patch")
    assert "clamp(max=h * w - 1)" in sbce  # fg = 1.0 -> IndexError
    assert "device=x.device" in sbce and "BICUBIC" in sbce
    irn = _added(IRN, "0001-compat.patch")
    assert "np.loadtxt(dataset_path" not in irn and irn.count("max(1, len(databin) // 20)") == 6
    assert "type=str2bool" in irn and '--sem_seg_bg_thres", default=0.25, type=float' in irn


def test_device_seed_leaves_no_cuda_call() -> None:
    for repo in (SBCE, IRN):
        for name in ("0001-compat.patch", "0002-device-seed.patch"):
            assert ".cuda(" not in _added(repo, name)
    assert "runtime.seed_everything(args.seed)" in _added(SBCE, "0002-device-seed.patch")
    assert "runtime.seed_everything(args.seed)" in _added(IRN, "0002-device-seed.patch")


def test_plumbing_keeps_upstream_defaults_and_writes_nothing_into_the_checkout() -> None:
    added = _added(SBCE, "0003-plumbing.patch")
    for default in (
        "default='./datasets/train_aug.txt'",
        "default='./datasets/cls_labels.npy'",
        "default=[1, 0.5, 1.5, 2.0]",  # make_cam scales were hard-coded
        "'--t_period', type=int, default=100",
        "'--t_cam_steps', type=int, default=80",
        "'--crf_processes', type=int, default=4",
    ):
        assert default in added, default
    assert "if args.epoch_checkpoints: torch.save(" in added  # the 842 MB per-epoch pickle
    assert "args.fg_out or" in added  # upstream wrote ./datasets/<session>_fg.npy
    irn = _added(IRN, "0003-plumbing.patch")
    assert 'os.makedirs("sess"' not in irn and "CLS_LABELS_PATH = args.cls_labels" in irn


def test_addon_patch_calls_hfpl_only_in_cam_steps() -> None:
    added = _added(SBCE, "0004-hfpl.patch")
    assert "addon.classification_loss(" in added and "addon.feature_similarity_loss(" in added
    assert added.count("global_step % args.t_period < args.t_cam_steps") == 2
    assert "background_complement=True" in added and "mean=(0.485, 0.456, 0.406)" in added
    assert not (PATCHES / IRN / "0004-hfpl.patch").exists()  # refinement is unchanged


def _local_copy(owner: str, name: str) -> Path | None:
    base = os.environ.get("HFPL_UPSTREAM_DIR")
    if not base:
        return None
    for git_dir in (Path(base) / f"{owner}+{name}" / "repo", Path(base) / f"{owner}+{name}"):
        if (git_dir / "HEAD").exists() or (git_dir / ".git").exists():
            return git_dir
    return None


def _patched(repo: str, tmp_path: Path) -> Path:
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
    return work


@pytest.mark.upstream
@pytest.mark.parametrize("repo", [SBCE, IRN])
def test_series_applies_in_order_to_pinned_commit(repo: str, tmp_path: Path) -> None:
    work = _patched(repo, tmp_path)
    status = subprocess.run(
        ["git", "-C", str(work), "status", "--porcelain"], capture_output=True, text=True
    )
    touched = {line[3:] for line in status.stdout.splitlines()}
    assert touched == set().union(*(f for (r, _), f in EXPECTED_FILES.items() if r == repo))


@pytest.fixture
def _sys_path(monkeypatch):
    def add(path: Path) -> None:
        monkeypatch.syspath_prepend(str(path))
        for mod in [m for m in sys.modules if m.split(".")[0] in {"loss_functions", "voc12"}]:
            monkeypatch.delitem(sys.modules, mod)

    return add


@pytest.mark.upstream
def test_patched_loss_survives_fg_one_and_runs_both_cycle_phases(tmp_path, _sys_path) -> None:
    _sys_path(_patched(SBCE, tmp_path))
    from loss_functions import Spatial_BCE_Loss

    loss = Spatial_BCE_Loss(period=2, cam_steps=1)
    x, thr = torch.randn(2, 20, 6, 6), torch.randn(2, 20, 6, 6)
    y = torch.zeros(2, 20)
    y[:, 3] = 1
    fg = torch.zeros(2, 20)
    fg[0, 3] = 1.0  # a CRF labelled the whole image: upstream indexed pixel h*w (IndexError)
    for step in (0, 1):  # CAM step, threshold-head step
        assert torch.isfinite(loss(x, y, threshold_p=thr, fg=fg, iter=step))


@pytest.mark.upstream
def test_patched_irn_reads_ids_on_numpy_2_and_types_its_flags(tmp_path, _sys_path) -> None:
    pytest.importorskip("imageio", reason="IRN's dataloader imports imageio (containers/sbce)")
    work = _patched(IRN, tmp_path)
    _sys_path(work)
    lst = tmp_path / "train_aug.txt"
    lst.write_text("2007_000032\n2008_000123\n")
    from voc12 import dataloader

    ids = dataloader.load_img_name_list(str(lst))
    assert [dataloader.decode_int_filename(i) for i in ids] == ["2007_000032", "2008_000123"]
    source = (work / "run_sample.py").read_text()
    assert '"--train_cam_pass", default=True, type=str2bool' in source
