"""Real-data rules: steps wait for their prepared dataset and the weights files their argv names;
a weights file that must be fetched by hand stops the run with one message and leaves nothing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from fixture_project import make_project, snakemake  # noqa: E402


def _planned_rules(dry_run_output: str) -> set[str]:
    return set(re.findall(r"^rule (\w+):", dry_run_output, flags=re.MULTILINE))


def test_steps_depend_on_dataset_lists_and_named_weights(tmp_path):
    work = make_project(tmp_path)
    method_file = work / "fixture" / "methods" / "fixture.yaml"
    method = yaml.safe_load(method_file.read_text())
    method["steps"]["cams"]["argv"] += ["--init", "{weights_dir}/resnet50-19c8e357.pth"]
    method_file.write_text(yaml.safe_dump(method))
    (work / "data" / "VOCdevkit/VOC2012/ImageSets/Segmentation/train_aug.txt").unlink()
    (work / "data" / "lists").rmdir()

    done = snakemake(work, "-n")
    assert done.returncode == 0, done.stderr
    planned = _planned_rules(done.stdout)
    assert {"data_voc", "data_lists", "data_weights", "step"} <= planned
    assert "resnet50-19c8e357.pth" in done.stdout
    assert "data_coco" not in planned  # no configured run uses COCO


def test_prepared_dataset_plans_no_data_jobs(tmp_path):
    done = snakemake(make_project(tmp_path), "-n")
    assert done.returncode == 0, done.stderr
    assert not {r for r in _planned_rules(done.stdout) if r.startswith("data_")}


def test_manual_weights_file_stops_with_one_message_and_no_output(tmp_path):
    work = make_project(tmp_path)
    target = "data/weights/voc12_init.pth"  # config/config.yaml's weights_dir
    done = snakemake(work, target)
    assert done.returncode != 0
    message = [line for line in done.stderr.splitlines() if line.startswith("hfpl")]
    assert message, done.stderr
    assert "voc12_init.pth" in message[0] and "Google Drive" in message[0]
    assert not (work / target).exists()
