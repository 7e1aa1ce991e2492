"""Data rules: steps wait for their prepared dataset, their method's list files and the weights
files they name (each produced by one job); a weights file that must be fetched by hand stops the
run with one message and leaves nothing; smoke data is generated per used dataset only."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from fixture_project import make_project, snakemake

from hfpl.data.layout import MARKER

# the fixture method as a method with list files and two weights files (one used by cams)
LISTS = {"voc": [{"path": "voc12/train.txt", "format": "image-label-paths", "split": "train"}]}
R50 = {
    "smoke": "torchvision-resnet50",
    "sha256_prefix": "19c8e357",
    "urls": ["https://download.pytorch.org/models/resnet50-19c8e357.pth"],
    "loading": "model zoo",
}
MANUAL = {
    "smoke": "resnet38-spatial-threshold-heads",
    "urls": [],
    "loading": "torch.load state dict",
    "manual": "Google Drive https://drive.google.com/file/d/x/view",
}


def _planned_rules(dry_run_output: str) -> set[str]:
    return set(re.findall(r"^rule (\w+):", dry_run_output, flags=re.MULTILINE))


def _with_data(work: Path) -> Path:
    """The fixture method reading ``{lists}/voc12/train.txt`` and ``{weights_dir}/r50.pth``."""
    method_file = work / "fixture" / "methods" / "fixture.yaml"
    method = yaml.safe_load(method_file.read_text())
    method["lists"] = LISTS
    method["weights"] = {"r50.pth": R50, "voc12_init.pth": MANUAL}
    argv = method["steps"]["cams"]["argv"]
    argv[argv.index("--list") + 1] = "{lists}/voc12/train.txt"
    argv += ["--init", "{weights_dir}/r50.pth"]
    method_file.write_text(yaml.safe_dump(method))
    return work


def _commands(dry_run_output: str) -> list[list[str]]:
    """The `python -m hfpl.cli ...` commands of a dry run with -p, as argv after `hfpl.cli`."""
    out = []
    for line in dry_run_output.splitlines():
        if " -m hfpl.cli " in line:
            argv = shlex.split(line.split(" > ")[0])
            out.append(argv[argv.index("hfpl.cli") + 1 :])
    return out


def test_steps_depend_on_dataset_lists_and_named_weights(tmp_path):
    work = _with_data(make_project(tmp_path))
    (work / "data" / MARKER).unlink()

    done = snakemake(work, "-n", "-p")
    assert done.returncode == 0, done.stderr
    planned = _planned_rules(done.stdout)
    assert {"data_voc", "data_lists_voc", "data_weights", "step"} <= planned
    commands = _commands(done.stdout)
    assert ["data", "voc", "--root", "data"] in commands
    lists = next(c for c in commands if c[:2] == ["data", "lists"])
    assert lists[:6] == ["data", "lists", "--dataset", "voc", "--root", "data"]
    assert yaml.safe_load(lists[lists.index("--spec") + 1]) == LISTS["voc"]
    assert lists[-2:] == ["--out", "data/lists/fixture"]
    weights = [c for c in commands if c[:2] == ["data", "weights"]]
    assert len(weights) == 1 and weights[0][-1] == "r50.pth"  # not the unused voc12_init.pth
    assert yaml.safe_load(weights[0][weights[0].index("--spec") + 1]) == R50
    assert "data_coco" not in planned  # no configured run uses COCO


def test_smoke_data_per_dataset_and_stand_in_weights(tmp_path):
    work = _with_data(make_project(tmp_path))
    override = work / "smoke.yaml"
    override.write_text(yaml.safe_dump({"smoke": True, "data": {"smoke": {"generate": True}}}))
    done = snakemake(work, "-n", "-p", configfiles=(str(override),))
    assert done.returncode == 0, done.stderr
    commands = _commands(done.stdout)
    smoke = [c for c in commands if c[0] == "smoke-data"]
    assert smoke == [
        ["smoke-data", "--dataset", "voc", "--out", "results/smoke-data/voc", "--images", "8",
         "--size", "64", "--seed", "0"],
    ]  # fmt: skip
    assert [c for c in commands if c[:2] == ["data", "smoke-weights"]] == [
        ["data", "smoke-weights", "--arch", "torchvision-resnet50", "--seed", "0",
         "--out", "results/smoke-data/weights/r50.pth"],
    ]  # fmt: skip
    lists = next(c for c in commands if c[:2] == ["data", "lists"])
    assert lists[-2:] == ["--out", "results/smoke-data/voc/lists/fixture"]


def test_prepared_dataset_plans_no_data_jobs(tmp_path):
    done = snakemake(make_project(tmp_path), "-n")
    assert done.returncode == 0, done.stderr
    assert not {r for r in _planned_rules(done.stdout) if r.startswith("data_")}


def test_manual_weights_file_stops_with_one_message_and_no_output(tmp_path):
    work = _with_data(make_project(tmp_path))
    target = "data/weights/voc12_init.pth"  # config/config.yaml's weights_dir
    done = snakemake(work, target)
    assert done.returncode != 0
    message = [line for line in done.stderr.splitlines() if line.startswith("hfpl")]
    assert message, done.stderr
    assert "voc12_init.pth" in message[0] and "Google Drive" in message[0]
    assert not (work / target).exists()
