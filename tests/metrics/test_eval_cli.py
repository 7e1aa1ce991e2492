"""`hfpl eval`: JSON contract, list parsing, one-line errors.

The subcommand is registered on a parser of its own, so other rooms' modules do not matter here.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from synthetic import perturb, random_blobs, write_png

from hfpl.metrics.cli import read_ids, register

CONTRACT_KEYS = {
    "J", "F", "JF", "per_class", "bg_threshold", "sweep", "n_images", "num_classes", "format",
    "conventions", "hfpl_version",
}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hfpl")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def small_set(tmp_path):
    rng = np.random.default_rng(5)
    for d in ("gt", "pred", "cam"):
        (tmp_path / d).mkdir()
    ids = ["2007_000032", "2007_000039", "2008_000002"]
    for image_id in ids:
        gt = random_blobs(rng, (40, 50), 21, 2)
        write_png(tmp_path / "gt" / f"{image_id}.png", gt)
        write_png(tmp_path / "pred" / f"{image_id}.png", perturb(rng, gt, 21))
        cams = {int(c) - 1: rng.random(gt.shape) * (gt == c) for c in np.unique(gt) if c > 0}
        np.save(tmp_path / "cam" / f"{image_id}.npy", cams, allow_pickle=True)
    # VOC-style list lines: the id is the stem of the first token
    (tmp_path / "list.txt").write_text(
        "".join(f"/JPEGImages/{i}.jpg /SegmentationClassAug/{i}.png\n" for i in ids) + "\n"
    )
    return tmp_path


def test_read_ids_plain_and_voc_lines(tmp_path):
    (tmp_path / "a.txt").write_text("2007_000032\n\n/JPEGImages/2007_000039.jpg x.png\n")
    assert read_ids(tmp_path / "a.txt") == ["2007_000032", "2007_000039"]


def test_png_json_contract(small_set, capsys):
    out = small_set / "metrics" / "final_val.json"
    rc = main(
        ["eval", "--pred", str(small_set / "pred"), "--gt", str(small_set / "gt"), "--list",
         str(small_set / "list.txt"), "--format", "png", "--jobs", "2", "--out", str(out)]
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out.read_text())
    assert set(data) >= CONTRACT_KEYS
    assert data["n_images"] == 3 and data["format"] == "png" and data["sweep"] is None
    assert 0 <= data["J"] <= 100 and 0 <= data["F"] <= 100
    assert data["JF"] == pytest.approx((data["J"] + data["F"]) / 2)
    assert len(data["per_class"]) == 21 and data["per_class"]["background"]["F"] is None
    assert "J " in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ["final_val.json"]  # no temp file left


def test_sweep_cli(small_set):
    out = small_set / "cam.json"
    rc = main(
        ["eval", "--pred", str(small_set / "cam"), "--gt", str(small_set / "gt"), "--list",
         str(small_set / "list.txt"), "--format", "cam-dict", "--sweep", "0:0.5:0.1", "--quiet",
         "--out", str(out)]
    )  # fmt: skip
    data = json.loads(out.read_text())
    assert rc == 0 and [row["t"] for row in data["sweep"]] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert data["bg_threshold"] in [row["t"] for row in data["sweep"]]
    assert data["J"] == max(row["J"] for row in data["sweep"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "png", "--list", "missing.txt"], "cannot read --list"),
        (["--format", "cam-dict", "--list", "list.txt"], "needs --bg-threshold"),
        (["--format", "cam-dict", "--sweep", "1:2", "--list", "list.txt"], "START:STOP:STEP"),
    ],
)
def test_bad_input_one_line_no_output(small_set, capsys, extra, message):
    out = small_set / "bad.json"
    args = ["eval", "--pred", str(small_set / "pred"), "--gt", str(small_set / "gt")]
    extra = [str(small_set / e) if e.endswith(".txt") else e for e in extra]
    assert main([*args, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hfpl eval: error:") and message in err and "\n" not in err
    assert not out.exists()


def test_missing_predictions_cli(small_set, capsys):
    (small_set / "pred" / "2008_000002.png").unlink()
    args = ["eval", "--pred", str(small_set / "pred"), "--gt", str(small_set / "gt"), "--list",
            str(small_set / "list.txt"), "--format", "png", "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(small_set / "m.json")]) == 2
    assert "1 of 3 predictions missing" in capsys.readouterr().err
    assert main([*args, "--missing-as-background", "--out", str(small_set / "m.json")]) == 0
    assert json.loads((small_set / "m.json").read_text())["n_missing_as_background"] == 1
