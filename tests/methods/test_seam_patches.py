"""The SEAM row's patch series (patches/SEAM, patches/semantic-segmentation-codebase).

CI has no upstream code, so these tests check the patch files themselves: each one is a plain
`git diff` that `git apply --numstat/--summary` parses, it touches exactly the files its purpose
needs, and its added lines stay within that purpose (e.g. only 0002 adds device/seed code, 0003
keeps every upstream default). With HFPL_UPSTREAM_DIR pointing at local git copies of the repos
(`$HFPL_UPSTREAM_DIR/<owner>+<name>` or `$HFPL_UPSTREAM_DIR/<name>`), the series is also applied
to the pinned commits (marker `upstream`).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATCHES = ROOT / "patches"

SEAM = "SEAM"
CODEBASE = "semantic-segmentation-codebase"
PINS = {
    SEAM: ("YudeWang", "3212261b9d008581576b8b5429e32413d892c10b"),
    CODEBASE: ("YudeWang", "a40f6c6b08710ee1799832c97331cf967e1c5cdb"),
}

# patch -> exactly the files it may touch
EXPECTED_FILES = {
    (SEAM, "0001-compat.patch"): {
        "infer_SEAM.py",
        "infer_aff.py",
        "network/resnet38_aff.py",
        "network/resnet38d.py",
        "tool/imutils.py",
        "tool/torchutils.py",
        "tool/visualization.py",
        "voc12/data.py",
    },
    (SEAM, "0002-device-seed.patch"): {
        "infer_SEAM.py",
        "infer_aff.py",
        "network/resnet38_aff.py",
        "train_SEAM.py",
        "train_aff.py",
    },
    (SEAM, "0003-plumbing.patch"): {
        "infer_SEAM.py",
        "infer_aff.py",
        "train_SEAM.py",
        "voc12/data.py",
    },
    (SEAM, "0004-hfpl.patch"): {"infer_SEAM.py", "network/resnet38_SEAM.py", "train_SEAM.py"},
    (SEAM, "0005-coco.patch"): {
        "infer_SEAM.py",
        "infer_aff.py",
        "network/resnet38_SEAM.py",
        "train_SEAM.py",
        "voc12/data.py",
    },
    (CODEBASE, "0001-compat.patch"): {
        "experiment/seamv1-pseudovoc/test.py",
        "lib/datasets/transform.py",
        "lib/net/backbone/resnet38d.py",
    },
    (CODEBASE, "0002-device-seed.patch"): {
        "experiment/seamv1-pseudovoc/config.py",
        "experiment/seamv1-pseudovoc/test.py",
        "experiment/seamv1-pseudovoc/train.py",
        "lib/utils/configuration.py",
        "lib/utils/test_utils.py",
    },
    (CODEBASE, "0003-plumbing.patch"): {
        "experiment/seamv1-pseudovoc/config.py",
        "experiment/seamv1-pseudovoc/test.py",
        "lib/datasets/VOCDataset.py",
        "lib/net/backbone/resnet38d.py",
        "lib/utils/finalprocess.py",
    },
    (CODEBASE, "0004-coco.patch"): {"lib/datasets/VOCDataset.py"},
}
ALL_PATCHES = sorted(EXPECTED_FILES)


def _text(repo: str, name: str) -> str:
    return (PATCHES / repo / name).read_text()


def _git_apply(args: list[str], patch: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", "apply", *args],
        input=patch,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _changed_lines(patch: str, sign: str) -> list[str]:
    """Added (sign '+') or removed ('-') code lines, without the file headers."""
    return [
        line[1:]
        for line in patch.splitlines()
        if line.startswith(sign) and not line.startswith(sign * 3)
    ]


def test_series_is_exactly_the_expected_files() -> None:
    found = {(p.parent.name, p.name) for p in PATCHES.glob("*/*.patch")}
    ours = {key for key in found if key[0] in PINS}
    assert ours == set(EXPECTED_FILES)


@pytest.mark.parametrize(("repo", "name"), ALL_PATCHES)
def test_patch_parses_and_touches_only_its_files(repo: str, name: str) -> None:
    patch = _text(repo, name)
    # commit-free `git diff` output: no mail header, first line is the first file's diff header
    assert patch.startswith("diff --git a/")
    numstat = _git_apply(["--numstat", "-"], patch)
    files = {line.split("\t")[2] for line in numstat.splitlines()}
    assert files == EXPECTED_FILES[(repo, name)]
    # no file creations, deletions, renames or mode changes: edits of upstream files only
    assert _git_apply(["--summary", "-"], patch).strip() == ""


@pytest.mark.parametrize(("repo", "name"), ALL_PATCHES)
def test_hunks_have_default_context(repo: str, name: str) -> None:
    """`git diff` default: 3 context lines before each hunk unless it starts at line 1."""
    lines = _text(repo, name).splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"@@ -(\d+)", line)
        if not match:
            continue
        lead = 0
        for body in lines[i + 1 :]:
            if not body.startswith(" "):
                break
            lead += 1
        assert lead == 3 or int(match.group(1)) == 1, line


def _added(repo: str, name: str) -> str:
    return "\n".join(_changed_lines(_text(repo, name), "+"))


@pytest.mark.parametrize("repo", [SEAM, CODEBASE])
def test_compat_changes_no_options_devices_or_losses(repo: str) -> None:
    added = _added(repo, "0001-compat.patch")
    for forbidden in ("add_argument", "runtime", "hfpl.losses", ".cuda(", "seed"):
        assert forbidden not in added
    # the removed APIs are gone from the added lines, replaced by their modern equivalents
    removed = "\n".join(_changed_lines(_text(repo, "0001-compat.patch"), "-"))
    assert "mxnet.nd.load" in removed and "load_params" in added


def test_seam_compat_replaces_every_removed_api() -> None:
    added = _added(SEAM, "0001-compat.patch")
    for gone in ("Image.CUBIC", "scipy.misc", "F.upsample(", " is 'torch'", "sparse.FloatTensor"):
        assert gone not in added
    assert added.count("BICUBIC") == 5


@pytest.mark.parametrize("repo", [SEAM, CODEBASE])
def test_device_seed_adds_no_cuda_and_only_seed_options(repo: str) -> None:
    patch = _text(repo, "0002-device-seed.patch")
    added = "\n".join(_changed_lines(patch, "+"))
    assert ".cuda(" not in added
    assert "hfpl.losses" not in added
    assert "runtime.seed_everything" in added and "runtime.device()" in added
    options = re.findall(r"add_argument\(\"(--[a-z_]+)", added)
    assert set(options) <= {"--seed"}
    # every DataLoader of a training script gets the seeded generator/worker_init_fn
    assert "dataloader_seed_kwargs" in added


def test_seam_device_seed_covers_every_cuda_call() -> None:
    removed = "\n".join(_changed_lines(_text(SEAM, "0002-device-seed.patch"), "-"))
    # the 15 `.cuda(` calls of train_SEAM, train_aff, infer_SEAM, infer_aff, resnet38_aff
    assert removed.count(".cuda(") == 15
    assert "torch.cuda.device_count()" in removed


@pytest.mark.parametrize("repo", [SEAM, CODEBASE])
def test_plumbing_keeps_upstream_defaults(repo: str) -> None:
    """Every literal that 0003 removes (a hard-coded value) reappears in an added line."""
    patch = _text(repo, "0003-plumbing.patch")
    added = "\n".join(_changed_lines(patch, "+"))
    for line in _changed_lines(patch, "-"):
        for literal in re.findall(r"'[^']*'|\b\d+(?:\.\d+)?\b", line):
            assert literal in added, f"{literal!r} from {line.strip()!r} lost"
    assert "hfpl" not in added and ".cuda(" not in added


def _option_defaults(added: str) -> dict[str, object]:
    """{option: default} of the one-line `parser.add_argument(...)` calls among added lines."""
    out = {}
    for line in added.splitlines():
        if "add_argument(" in line and line.rstrip().endswith(")"):
            call = ast.parse(line.strip()).body[0].value
            defaults = [k.value for k in call.keywords if k.arg == "default"]
            out[call.args[0].value] = ast.literal_eval(defaults[0]) if defaults else None
    return out


def test_seam_plumbing_options_default_to_upstream_values() -> None:
    assert _option_defaults(_added(SEAM, "0003-plumbing.patch")) == {
        "--resize_long": [448, 768],  # was imutils.RandomResizeLong(448, 768)
        "--cls_labels": "voc12/cls_labels.npy",  # was hard-coded in voc12/data.py
        "--scales": [0.5, 1.0, 1.5, 2.0],  # was the literal in infer_SEAM.py
    }


def test_codebase_plumbing_overrides_any_config_key() -> None:
    added = _added(CODEBASE, "0003-plumbing.patch")
    assert "'--cfg', action='append'" in added
    for key in ("DATA_ROOT", "DATA_LIST", "TEST_PERIOD", "TEST_SAVE_DIR", "LOG_FILE"):
        assert f"config_dict['{key}']" in added


def test_hfpl_patch_is_the_addon_and_crf_alphas_only() -> None:
    patch = _text(SEAM, "0004-hfpl.patch")
    added = "\n".join(_changed_lines(patch, "+"))
    assert "hfpl_addon.add_arguments(parser)" in added
    assert "addon.classification_loss(" in added
    assert "addon.fsl_maps(" in added and "background_complement=True" in added
    assert "addon.feature_similarity_loss(" in added
    assert re.search(r"\"--crf_alphas\", default=\[4, 24\]", added)
    # every removed line is a call or value the add-on wraps; no loss term of SEAM is dropped
    removed = _changed_lines(patch, "-")
    assert [line.strip() for line in removed] == [
        "crf_alpha = [4,24]",
        "def forward(self, x):",
        "cam1, cam_rv1 = model(img1)",
    ]
    assert ".cuda(" not in added and "runtime.seed" not in added


def test_codebase_coco_patch_only_adds_a_dataset_class() -> None:
    """0004 adds COCODataset (COCO in the layout of `hfpl data coco`) and changes nothing else:
    VOC runs are unaffected; its paths follow DATA_ROOT/DATA_YEAR and its class count
    MODEL_NUM_CLASSES (81 for COCO)."""
    patch = _text(CODEBASE, "0004-coco.patch")
    assert _changed_lines(patch, "-") == []
    added = "\n".join(_changed_lines(patch, "+"))
    assert "class COCODataset(VOCDataset):" in added and "@DATASETS.register_module" in added
    assert "'%s%d'%(period, cfg.DATA_YEAR)" in added
    assert "os.path.join(self.root_dir, 'SegmentationClass', split)" in added
    assert "self.num_categories = cfg.MODEL_NUM_CLASSES" in added
    assert ".cuda(" not in added and "seed" not in added


def _local_copy(owner: str, name: str) -> Path | None:
    base = os.environ.get("HFPL_UPSTREAM_DIR")
    if not base:
        return None
    for candidate in (Path(base) / f"{owner}+{name}", Path(base) / name):
        for git_dir in (candidate, candidate / "repo"):
            if (git_dir / "HEAD").exists() or (git_dir / ".git").exists():
                return git_dir
    return None


@pytest.mark.upstream
@pytest.mark.parametrize("repo", [SEAM, CODEBASE])
def test_series_applies_to_pinned_commit(repo: str, tmp_path: Path) -> None:
    owner, commit = PINS[repo]
    source = _local_copy(owner, repo)
    if source is None:
        pytest.skip("set HFPL_UPSTREAM_DIR to local git copies of the upstream repos")
    work = tmp_path / repo
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", commit], check=True)
    for patch in sorted((PATCHES / repo).glob("*.patch")):
        _git_apply(["--whitespace=nowarn", str(patch)], "", cwd=work)
    status = subprocess.run(
        ["git", "-C", str(work), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    touched = {line[3:] for line in status.splitlines()}
    expected = set().union(*(files for (r, _), files in EXPECTED_FILES.items() if r == repo))
    assert touched == expected
