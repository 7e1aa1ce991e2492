"""The MCTformer row's patch series (patches/MCTformer, xulianuwa/MCTformer @ 9606597).

CI has no upstream code, so most tests check the patch files themselves: each one is a plain
`git diff` that `git apply --numstat/--summary` parses, touches exactly the files its purpose
needs, and its added lines stay within that purpose. With HFPL_UPSTREAM_DIR pointing at local git
copies (`$HFPL_UPSTREAM_DIR/xulianuwa+MCTformer[/repo]`) the series is applied to the pinned
commit and the patched tree is checked for what the series must remove (marker `upstream`).
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERIES = ROOT / "patches" / "MCTformer"
OWNER, NAME = "xulianuwa", "MCTformer"
COMMIT = "96065977f38ec07cff3dea7295555d5141502c2d"

# patch -> exactly the files it may touch
EXPECTED_FILES = {
    "0001-compat.patch": {
        "datasets.py",
        "engine.py",
        "main.py",
        "psa/tool/imutils.py",
        "psa/tool/torchutils.py",
        "psa/voc12/data.py",
        "seg/infer_seg.py",
        "seg/tool/exutils.py",
    },
    "0002-device-seed.patch": {
        "main.py",
        "psa/infer_aff.py",
        "psa/network/resnet38_aff.py",
        "psa/train_aff.py",
        "seg/infer_seg.py",
        "seg/train_seg.py",
    },
    "0003-plumbing.patch": {
        "datasets.py",
        "psa/voc12/data.py",
        "seg/infer_seg.py",
        "seg/train_seg.py",
    },
    "0004-hfpl.patch": {"engine.py", "main.py", "models.py"},
}


def _text(name: str) -> str:
    return (SERIES / name).read_text()


def _git_apply(args: list[str], patch: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", "apply", *args], input=patch, capture_output=True, text=True, cwd=cwd, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _changed(name: str, sign: str) -> list[str]:
    """Added (sign '+') or removed ('-') code lines of a patch, without the file headers."""
    return [
        line[1:]
        for line in _text(name).splitlines()
        if line.startswith(sign) and not line.startswith(sign * 3)
    ]


def _added(name: str) -> str:
    return "\n".join(_changed(name, "+"))


def _removed(name: str) -> str:
    return "\n".join(_changed(name, "-"))


def test_series_is_exactly_the_expected_files() -> None:
    assert {p.name for p in SERIES.glob("*.patch")} == set(EXPECTED_FILES)


@pytest.mark.parametrize("name", sorted(EXPECTED_FILES))
def test_patch_parses_and_touches_only_its_files(name: str) -> None:
    patch = _text(name)
    assert patch.startswith("diff --git a/")  # commit-free `git diff` output
    numstat = _git_apply(["--numstat", "-"], patch)
    assert {line.split("\t")[2] for line in numstat.splitlines()} == EXPECTED_FILES[name]
    # edits of upstream files only: no creations, deletions, renames or mode changes
    assert _git_apply(["--summary", "-"], patch).strip() == ""


@pytest.mark.parametrize("name", sorted(EXPECTED_FILES))
def test_hunks_have_default_context(name: str) -> None:
    """`git diff` default: 3 context lines before each hunk unless it starts at line 1."""
    lines = _text(name).splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"@@ -(\d+)", line)
        if match:
            lead = 0
            for body in lines[i + 1 :]:
                if not body.startswith(" "):
                    break
                lead += 1
            assert lead == 3 or int(match.group(1)) == 1, line


def test_compat_replaces_removed_apis_and_adds_no_options() -> None:
    added, removed = _added("0001-compat.patch"), _removed("0001-compat.patch")
    for forbidden in ("add_argument", "runtime", "hfpl", ".cuda(", "seed"):
        assert forbidden not in added
    # Pillow 10 (CUBIC), NumPy 1.24 (np.float / np.bool): gone from the added lines
    assert removed.count("Image.CUBIC") == 5 and added.count("Image.BICUBIC") == 5
    assert "np.float)" in removed and "np.bool)" in removed
    assert "np.float" not in added and "np.bool" not in added
    # the CUDA sync only where CUDA is
    assert "if torch.cuda.is_available():\n            torch.cuda.synchronize()" in added
    # a local --finetune DeiT file is adapted like the https download (1 -> 20 class tokens)
    assert removed.count("args.finetune.startswith('https')") == 3
    assert "checkpoint_model['cls_token'].shape[1] == 1" in added


def test_device_seed_moves_every_cuda_call_and_adds_only_seed_and_device() -> None:
    added, removed = _added("0002-device-seed.patch"), _removed("0002-device-seed.patch")
    assert ".cuda(" not in added and "hfpl.losses" not in added
    # psa train_aff 4, infer_aff 3, resnet38_aff 3, seg train_seg 4, infer_seg 3
    assert removed.count(".cuda(") == 17
    assert "runtime.seed_everything" in added and "runtime.device()" in added
    assert added.count("dataloader_seed_kwargs") == 2  # the CAM net's and PSA's train loaders
    assert "generator=seed_kwargs.get('generator')" in added  # the CAM net's RandomSampler
    options = re.findall(r"add_argument\(['\"](--[a-z_-]+)", added)
    assert sorted(options) == ["--device", "--gpu_id", "--gpu_ids", "--seed", "--seed", "--seed"]
    # without --seed the CAM net keeps upstream's same_seeds(0) + cudnn.benchmark
    assert (
        "    if args.seed is None:\n        same_seeds(0)\n        cudnn.benchmark = True" in added
    )
    # CUDA_VISIBLE_DEVICES is never overwritten unless --gpu_id(s) is given explicitly
    assert removed.count('os.environ["CUDA_VISIBLE_DEVICES"] = gpu_id') == 2
    assert (
        added.count('    if gpu_id is not None:\n        os.environ["CUDA_VISIBLE_DEVICES"]') == 2
    )


def _option_defaults(added: str) -> dict[str, object]:
    """{option: default} of the one-line `parser.add_argument(...)` calls among added lines."""
    out = {}
    for line in added.splitlines():
        if "add_argument(" in line and line.rstrip().endswith(")"):
            call = ast.parse(line.strip()).body[0].value
            defaults = [k.value for k in call.keywords if k.arg == "default"]
            out[call.args[0].value] = ast.literal_eval(defaults[0]) if defaults else None
    return out


def test_plumbing_keeps_upstream_behaviour_by_default() -> None:
    added = _added("0003-plumbing.patch")
    assert "hfpl" not in added and ".cuda(" not in added and "seed" not in added
    assert _option_defaults(added) == {
        "--scales": [0.5, 0.75, 1.0, 1.25, 1.5],  # run_seg.sh (upstream: no default, NameError)
        "--save_last_only": None,  # store_true: upstream saves every epoch
    }
    # the VOC datasets read the class labels from --label-file-path (None = voc12/cls_labels.npy)
    assert added.count("label_file_path=None") == 2
    assert added.count("label_file_path=args.label_file_path") == 2
    # bare ids in a PSA list stop with one line instead of being cut to '2007_00'
    assert "raise SystemExit(" in added and "train_aug.txt" in added


def test_hfpl_patch_is_the_addon_only() -> None:
    added, removed = _added("0004-hfpl.patch"), _removed("0004-hfpl.patch")
    assert "hfpl_addon.add_arguments(parser)" in added
    assert "addon.classification_loss(ploss.float(), logits, labels)" in added
    assert "addon.fsl_maps(logits, labels)" in added
    assert "addon.feature_similarity_loss(samples.float(), fsl_maps" in added
    assert "IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD" in added
    # the V2 forward returns the patch-token class scores (the CAM logits) on request
    assert "return x_cls_logits, x_patch_logits, x_patch" in added
    # float32 outside autocast: the add-on block is dedented out of the `with autocast()` body
    assert "\n        if patch_outputs is not None:\n            if addon_on:" in added
    # removed lines are only the calls it wraps; no loss term of MCTformer is dropped
    assert [line.strip() for line in removed.splitlines()] == [
        "set_training_mode=True):",
        "outputs = model(samples)",
        "if not isinstance(outputs, torch.Tensor):",
        "loss = loss + ploss",
        "args.clip_grad",
        "def forward(self, x, return_att=False, n_layers=12, attention_type='fused'):",
    ]
    assert ".cuda(" not in added and "runtime" not in added


def _local_copy() -> Path | None:
    base = os.environ.get("HFPL_UPSTREAM_DIR")
    if not base:
        return None
    for candidate in (Path(base) / f"{OWNER}+{NAME}", Path(base) / NAME):
        for git_dir in (candidate, candidate / "repo"):
            if (git_dir / "HEAD").exists() or (git_dir / ".git").exists():
                return git_dir
    return None


@pytest.fixture(scope="module")
def patched_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = _local_copy()
    if source is None:
        pytest.skip("set HFPL_UPSTREAM_DIR to local git copies of the upstream repos")
    work = tmp_path_factory.mktemp("mct") / NAME
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", COMMIT], check=True)
    for patch in sorted(SERIES.glob("*.patch")):
        _git_apply([str(patch)], "", cwd=work)
    return work


@pytest.mark.upstream
def test_series_applies_to_pinned_commit(patched_tree: Path) -> None:
    status = subprocess.run(
        ["git", "-C", str(patched_tree), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {line[3:] for line in status.splitlines()} == set().union(*EXPECTED_FILES.values())


@pytest.mark.upstream
def test_patched_tree_has_no_removed_api_or_forced_gpu(patched_tree: Path) -> None:
    """Every script a step runs, and what it imports from the repo, after the series."""
    for py in ("main.py", "engine.py", "datasets.py", "models.py"):
        assert "Image.CUBIC" not in (patched_tree / py).read_text(), py
    for py in sorted(patched_tree.glob("psa/**/*.py")) + sorted(patched_tree.glob("seg/**/*.py")):
        text = py.read_text()
        rel = py.relative_to(patched_tree)
        assert ".cuda(" not in text and "Image.CUBIC" not in text, rel
        assert not re.search(r"np\.(float|bool)\b", text), rel
        # CUDA_VISIBLE_DEVICES only under `if gpu_id is not None:`
        for match in re.finditer(r"\n( *)os\.environ\[\"CUDA_VISIBLE_DEVICES\"\]", text):
            before = text[: match.start()].splitlines()[-1]
            assert before.strip() == "if gpu_id is not None:", rel
    engine = (patched_tree / "engine.py").read_text()
    assert "\n        torch.cuda.synchronize()" not in engine


# One training step of engine.train_one_epoch on a random-init MCTformer-V2 (96 px, batch 2);
# prints the loss and a digest of the updated weights. argv: tree, add-on mode.
_ONE_STEP = """
import hashlib, json, sys
import torch
sys.path.insert(0, sys.argv[1])
torch.cuda.synchronize = lambda *a, **k: None  # the unpatched engine syncs unconditionally
import engine, models  # noqa: F401  (models registers the MCTformer factories)
from timm.models import create_model
from timm.utils import NativeScaler
torch.manual_seed(0)
model = create_model("deit_small_MCTformerV2_patch16_224", pretrained=False, num_classes=20,
                     drop_rate=0.0, drop_path_rate=0.1, drop_block_rate=None)
x = torch.randn(2, 3, 96, 96)
y = torch.zeros(2, 20)
y[0, 3] = y[1, 5] = y[1, 7] = 1
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
kwargs = {}
if sys.argv[2] != "upstream":
    from hfpl.losses.addon import AddOn
    kwargs["addon"] = {"none": None, "default": AddOn(),
                       "isl_fsl": AddOn(isl_weight=0.2, isl_scale=0.1, fsl_weight=0.1,
                                        fsl_upsample=4)}[sys.argv[2]]
torch.manual_seed(1)
stats = engine.train_one_epoch(model, [(x, y)], opt, torch.device("cpu"), 0, NativeScaler(),
                               None, **kwargs)
digest = hashlib.sha256()
for value in model.state_dict().values():
    digest.update(value.numpy().tobytes())
print(json.dumps({"loss": stats["loss"], "weights": digest.hexdigest()}))
"""


@pytest.mark.upstream
def test_addon_off_is_the_upstream_step(patched_tree: Path, tmp_path: Path) -> None:
    """With the add-on off (no object, or default flags) one training step gives upstream's loss
    and weights bit for bit; with the MCTformer add-on flags the loss changes."""
    python = os.environ.get("HFPL_UPSTREAM_PYTHON")
    if not python:
        pytest.skip("set HFPL_UPSTREAM_PYTHON (interpreter with the upstream requirements)")
    pristine = tmp_path / NAME
    subprocess.run(
        ["git", "clone", "-q", "--no-checkout", str(_local_copy()), str(pristine)], check=True
    )
    subprocess.run(["git", "-C", str(pristine), "checkout", "-q", COMMIT], check=True)
    script = tmp_path / "one_step.py"
    script.write_text(_ONE_STEP)

    def step(tree: Path, mode: str) -> dict:
        done = subprocess.run(
            [python, str(script), str(tree), mode], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    upstream = step(pristine, "upstream")
    assert step(patched_tree, "none") == upstream
    assert step(patched_tree, "default") == upstream
    with_addon = step(patched_tree, "isl_fsl")
    assert with_addon["loss"] != upstream["loss"] and math.isfinite(with_addon["loss"])
