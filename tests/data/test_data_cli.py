"""``hfpl smoke-data`` / ``hfpl data ...`` wiring: exit codes, one-line errors, nothing left
behind on failure."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch

from hfpl.cli import main
from hfpl.data import weights as W
from hfpl.data.layout import MARKER


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hfpl: "), err
    return err[0]


@pytest.mark.parametrize(("kind", "top"), [("voc", "VOCdevkit"), ("coco", "coco")])
def test_smoke_data_writes_one_dataset_and_its_manifest(kind, top, tmp_path):
    argv = [
        "smoke-data",
        "--dataset",
        kind,
        "--out",
        str(tmp_path),
        "--images",
        "3",
        "--size",
        "32",
    ]
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([top, MARKER])
    assert main(["data", "verify", "--root", str(tmp_path)]) == 0


def test_smoke_data_bad_arguments(tmp_path, capsys):
    argv = ["smoke-data", "--dataset", "coco", "--out", str(tmp_path / "s"), "--images", "2"]
    assert main(argv) == 1
    assert (
        _one_error(capsys)
        == "hfpl: --images 2 is too few for a smoke dataset: use --images 3 or more"
    )
    assert not (tmp_path / "s").exists()
    with pytest.raises(SystemExit):  # --dataset is required: argparse's usage error
        main(["smoke-data", "--out", str(tmp_path / "s")])


def test_verify_names_a_truncated_file(voc_root, tmp_path, capsys):
    root = tmp_path / "root"
    shutil.copytree(voc_root, root)
    jpg = root / "VOCdevkit/VOC2012/JPEGImages/2007_000009.jpg"
    jpg.write_bytes(jpg.read_bytes()[:100])
    assert main(["data", "verify", "--root", str(root)]) == 1
    assert str(jpg) in _one_error(capsys)


def test_lists_from_json_text_and_file(voc_root, tmp_path):
    spec = [{"path": "voc12/val.txt", "format": "id-per-line", "split": "val"}]
    out = tmp_path / "a"
    argv = ["data", "lists", "--dataset", "voc", "--root", str(voc_root), "--out", str(out)]
    assert main([*argv, "--spec", json.dumps(spec)]) == 0
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    argv[-1] = str(tmp_path / "b")
    assert main([*argv, "--spec", str(tmp_path / "spec.json")]) == 0
    assert (out / "voc12/val.txt").read_bytes() == (tmp_path / "b/voc12/val.txt").read_bytes()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('[{"path": "a.txt", "format": "paths", "split": "val"}]',
         "unknown format 'paths'; known: id-per-line, image-label-paths"),
        ('[{"path": "a.txt", "format": "id-per-line"}]', "lacks split"),
        ('[{"path": "a.txt"', "--spec is not valid JSON"),
        ('{"path": "a.txt"}', "--spec must be a JSON list"),
        ("no-such-file.json", "neither JSON text nor a JSON file"),
    ],
)  # fmt: skip
def test_lists_bad_spec_is_one_line_and_no_output(voc_root, tmp_path, capsys, spec, message):
    argv = ["data", "lists", "--dataset", "voc", "--root", str(voc_root), "--spec", spec,
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 1
    assert message in _one_error(capsys)
    assert not (tmp_path / "out").exists()


def test_lists_on_an_unprepared_root(tmp_path, capsys):
    spec = '[{"path": "a.txt", "format": "id-per-line", "split": "train2014"}]'
    argv = ["data", "lists", "--dataset", "coco", "--root", str(tmp_path), "--spec", spec,
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 1
    assert "a folder prepared by `hfpl data coco`?" in _one_error(capsys)


def test_smoke_weights(tmp_path, capsys):
    out = tmp_path / "deit_small_patch16_224-cd65a155.pth"
    argv = ["data", "smoke-weights", "--arch", "deit-small-patch16-224", "--out", str(out)]
    assert main([*argv, "--seed", "1"]) == 0
    assert list(torch.load(out, weights_only=True)) == ["model"]
    assert main(["data", "smoke-weights", "--arch", "resnet-39", "--out", str(tmp_path / "x")]) == 1
    assert "unknown architecture 'resnet-39'; known: resnet38-imagenet-mxnet" in _one_error(capsys)
    assert not (tmp_path / "x").exists()


def test_weights_manual_only_names_source_and_destination(tmp_path, capsys):
    spec = json.dumps({"urls": [], "manual": "Google Drive XYZ", "loading": "torch.load"})
    assert main(["data", "weights", "--dir", str(tmp_path), "--spec", spec, "w.pth"]) == 1
    where = tmp_path / "w.pth"
    assert _one_error(capsys) == (
        f"hfpl: w.pth not found: download it from Google Drive XYZ and put it at {where}"
    )
    assert list(tmp_path.iterdir()) == []
    assert main(["data", "weights", "--dir", str(tmp_path), "--spec", "{}", "w.pth"]) == 1
    assert "lacks urls, loading" in _one_error(capsys)


def test_weights_verifies_a_placed_params_file_and_converts_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(W, "materialise", lambda specs, seed=0: {
        s.key: np.full((2,), 0.5, np.float32) for s in specs})  # fmt: skip
    path = W.write_smoke_weights("resnet38-imagenet-mxnet", tmp_path / "r38.params")
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    spec = {"urls": [], "md5": md5, "manual": "Drive", "loading": "MXNet", "smoke": "x"}
    argv = ["data", "weights", "--dir", str(tmp_path), "--spec", json.dumps(spec), "r38.params"]
    assert main(argv) == 0
    sd = torch.load(tmp_path / "r38.pth", weights_only=True)
    assert set(sd) == {s.key for s in W.resnet38_backbone()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r38.params", "r38.params.sha256",
                                                          "r38.pth"]  # fmt: skip
    spec["md5"] = "0" * 32
    capsys.readouterr()
    assert main([*argv[:5], json.dumps(spec), "r38.params"]) == 1
    assert "is not the expected r38.params" in _one_error(capsys)


def test_info_lists_datasets_archives_architectures_and_method_weights(tmp_path, capsys):
    entry = {"smoke": "torchvision-resnet50", "sha256_prefix": "19c8e357",
             "urls": ["https://download.pytorch.org/models/resnet50-19c8e357.pth"],
             "loading": "hub"}  # fmt: skip
    for method in ("alpha", "beta"):
        (tmp_path / f"{method}.yaml").write_text(
            json.dumps({"weights": {"resnet50-19c8e357.pth": entry}})  # JSON is YAML
        )
    assert main(["data", "info", "--methods-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln.split()[1] for ln in out if ln.startswith("dataset")] == ["voc", "coco"]
    assert len([ln for ln in out if ln.startswith("archive")]) == 7
    assert len([ln for ln in out if ln.startswith("arch ")]) == len(W.ARCHITECTURES)
    (weights,) = [ln for ln in out if ln.startswith("weights")]
    assert weights.split()[1:5] == ["resnet50-19c8e357.pth", "download", "sha256_prefix", "smoke"]
    assert weights.endswith("(alpha, beta)")
    assert main(["data", "info", "--methods-dir", str(tmp_path / "none")]) == 1
    assert "no method YAMLs" in _one_error(capsys)
