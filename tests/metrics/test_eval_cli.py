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
    "conventions", "hfpl_version", "J_by_convention", "upstream",
}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hfpl")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def small_set(tmp_path):
    rng = np.random.default_rng(5)
    for d in ("gt", "pred", "cam", "prob"):
        (tmp_path / d).mkdir()
    ids = ["2007_000032", "2007_000039", "2008_000002"]
    for image_id in ids:
        gt = random_blobs(rng, (40, 50), 21, 2)
        write_png(tmp_path / "gt" / f"{image_id}.png", gt)
        write_png(tmp_path / "pred" / f"{image_id}.png", perturb(rng, gt, 21))
        cams = {int(c) - 1: rng.random(gt.shape) * (gt == c) for c in np.unique(gt) if c > 0}
        np.save(tmp_path / "cam" / f"{image_id}.npy", cams, allow_pickle=True)
        np.save(tmp_path / "prob" / f"{image_id}.npy", label_probs(rng, gt), allow_pickle=True)
    # VOC-style list lines: the id is the stem of the first token
    (tmp_path / "list.txt").write_text(
        "".join(f"/JPEGImages/{i}.jpg /SegmentationClassAug/{i}.png\n" for i in ids) + "\n"
    )
    return tmp_path


def label_probs(rng, gt) -> dict:
    """A CRF-style dict {label: float32 (H, W)}: softmax over bg + GT classes, GT favoured."""
    labels = [0, *(int(c) for c in np.unique(gt) if c > 0)]
    logits = np.stack([3.0 * (gt == c) + rng.normal(size=gt.shape) for c in labels])
    probs = np.exp(logits) / np.exp(logits).sum(0)
    return dict(zip(labels, probs.astype(np.float32), strict=True))


def test_read_ids_plain_and_voc_lines(tmp_path):
    (tmp_path / "a.txt").write_text("2007_000032\n\n/JPEGImages/2007_000039.jpg x.png\n")
    assert read_ids(tmp_path / "a.txt") == ["2007_000032", "2007_000039"]


def test_png_json_contract(small_set, capsys):
    out = small_set / "metrics" / "final_val.json"
    rc = main(
        ["eval", "--pred", str(small_set / "pred"), "--gt", str(small_set / "gt"), "--list",
         str(small_set / "list.txt"), "--format", "label-png", "--num-classes", "21", "--jobs", "2",
         "--out", str(out)]
    )  # fmt: skip
    assert rc == 0
    data = json.loads(out.read_text())
    assert set(data) >= CONTRACT_KEYS
    assert data["n_images"] == 3 and data["format"] == "label-png" and data["sweep"] is None
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
         "--num-classes", "21", "--out", str(out)]
    )  # fmt: skip
    data = json.loads(out.read_text())
    assert rc == 0 and [row["t"] for row in data["sweep"]] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert data["bg_threshold"] in [row["t"] for row in data["sweep"]]
    assert data["J"] == max(row["J"] for row in data["sweep"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "label-png", "--list", "missing.txt"], "cannot read --list"),
        (["--format", "cam-dict", "--list", "list.txt"], "needs --bg-threshold"),
        (["--format", "cam-dict", "--sweep", "1:2", "--list", "list.txt"], "START:STOP:STEP"),
    ],
)
def test_bad_input_one_line_no_output(small_set, capsys, extra, message):
    out = small_set / "bad.json"
    args = ["eval", "--pred", str(small_set / "pred"), "--gt", str(small_set / "gt"),
            "--num-classes", "21"]  # fmt: skip
    extra = [str(small_set / e) if e.endswith(".txt") else e for e in extra]
    assert main([*args, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hfpl eval: error:") and message in err and "\n" not in err
    assert not out.exists()


def test_missing_predictions_cli(small_set, capsys):
    (small_set / "pred" / "2008_000002.png").unlink()
    args = ["eval", "--pred", str(small_set / "pred"), "--gt", str(small_set / "gt"), "--list",
            str(small_set / "list.txt"), "--format", "label-png", "--num-classes", "21",
            "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(small_set / "m.json")]) == 2
    assert "1 of 3 predictions missing" in capsys.readouterr().err
    assert main([*args, "--missing-as-background", "--out", str(small_set / "m.json")]) == 0
    assert json.loads((small_set / "m.json").read_text())["n_missing_as_background"] == 1


def _eval(small_set, pred: str, *extra: str, num_classes: str | None = "21") -> list[str]:
    """``hfpl eval`` argv over ``small_set/pred`` writing ``small_set/out.json``."""
    argv = ["eval", "--pred", str(small_set / pred), "--gt", str(small_set / "gt"), "--list",
            str(small_set / "list.txt"), "--quiet", "--out", str(small_set / "out.json"),
            *extra]  # fmt: skip
    return argv if num_classes is None else [*argv, "--num-classes", num_classes]


def _refused(small_set, capsys, argv: list[str]) -> str:
    """Run ``argv``: exit 2, no output file; the one error line."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hfpl eval: error: ") and "\n" not in err
    assert not (small_set / "out.json").exists()
    return err


def test_cam_dicts_scored_as_label_probs_are_refused(small_set, capsys):
    """Issue 10 item 6: `--format label-prob-dict` (was crf-dict) on CAM dicts gave J 6.36."""
    err = _refused(small_set, capsys, _eval(small_set, "cam", "--format", "label-prob-dict"))
    assert "is not label-prob-dict" in err and err.endswith("it looks like --format cam-dict")


def test_label_probs_scored_as_cam_dict_are_refused(small_set, capsys):
    """Issue 10 item 6: `--format cam-dict` on CRF dicts gave J 0.00."""
    argv = _eval(small_set, "prob", "--format", "cam-dict", "--bg-threshold", "0.3")
    err = _refused(small_set, capsys, argv)
    assert "sum to 1 over the keys at every pixel" in err
    assert err.endswith("it looks like --format label-prob-dict")
    err = _refused(small_set, capsys, _eval(small_set, "cam", "--format", "keys-is-cam-npy"))
    assert "lacks the keys ['keys', 'IS_CAM']" in err and err.endswith("--format cam-dict")


def test_label_probs_score_as_their_argmax(small_set):
    """The right format passes the check and scores like the argmax label PNGs."""
    (small_set / "argmax").mkdir()
    for path in sorted((small_set / "prob").iterdir()):
        probs = np.load(path, allow_pickle=True).item()
        keys = np.array(sorted(probs))
        labels = keys[np.argmax(np.stack([probs[k] for k in keys]), axis=0)]
        write_png(small_set / "argmax" / f"{path.stem}.png", labels)
    assert main(_eval(small_set, "prob", "--format", "label-prob-dict")) == 0
    got = json.loads((small_set / "out.json").read_text())
    assert main(_eval(small_set, "argmax", "--format", "label-png")) == 0
    want = json.loads((small_set / "out.json").read_text())
    assert got["J"] == want["J"] and got["F"] == want["F"] and got["J"] > 50


def test_num_classes_is_required(small_set, capsys):
    argv = _eval(small_set, "pred", "--format", "label-png", num_classes=None)
    assert "--num-classes is required" in _refused(small_set, capsys, argv)


def test_duplicate_ids_are_refused(small_set, capsys):
    listed = (small_set / "list.txt").read_text()
    (small_set / "list.txt").write_text(listed + "2007_000039\n2007_000032\n2007_000039\n")
    err = _refused(small_set, capsys, _eval(small_set, "pred", "--format", "label-png"))
    assert "2 id(s) listed more than once" in err and "['2007_000032', '2007_000039']" in err


def test_png_predictions_under_a_dict_format_name_the_png_format(small_set, capsys):
    argv = _eval(small_set, "pred", "--format", "cam-dict", "--bg-threshold", "0.3")
    err = _refused(small_set, capsys, argv)
    assert "3 of 3 predictions missing" in err
    assert "(2007_000032.png exists: --format label-png?)" in err


CURVE = r"background score: (?P<t>[0-9.]+)\s+mIoU: (?P<J>[0-9.]+)%"  # PMM's CAM curve


def _eval_with_log(small_set, log_lines: list[str], *extra: str) -> tuple[int, dict | None]:
    (small_set / "step.log").write_text("".join(f"{line}\n" for line in log_lines))
    out = small_set / "up.json"
    rc = main(
        ["eval", "--pred", str(small_set / "cam"), "--gt", str(small_set / "gt"), "--list",
         str(small_set / "list.txt"), "--format", "cam-dict", "--sweep", "0:0.5:0.1", "--quiet",
         "--num-classes", "21", "--upstream-log", str(small_set / "step.log"), *extra,
         "--out", str(out)]
    )  # fmt: skip
    return rc, (json.loads(out.read_text()) if out.exists() else None)


def _plain_sweep(small_set) -> dict:
    """The same evaluation without an upstream log (its J per convention and threshold)."""
    rc, data = _eval_with_log(small_set, ["x"], "--upstream-regex", "(?P<J>nomatch)")
    assert rc == 2 and data is None  # no matching line: one error, no output
    out = small_set / "plain.json"
    main(["eval", "--pred", str(small_set / "cam"), "--gt", str(small_set / "gt"), "--list",
          str(small_set / "list.txt"), "--format", "cam-dict", "--sweep", "0:0.5:0.1", "--quiet",
          "--num-classes", "21", "--out", str(out)])  # fmt: skip
    return json.loads(out.read_text())


def test_upstream_curve_value_at_our_threshold_is_compared_in_its_convention(small_set, capsys):
    plain = _plain_sweep(small_set)
    t, j_gt = plain["bg_threshold"], plain["J_by_convention"]["gt"]
    curve = [f"{k}/5 background score: {k / 10:.3f}\tmIoU: {50 + k:.3f}%" for k in range(6)]
    curve[round(t * 10)] = f"x/5 background score: {t:.3f}\tmIoU: {j_gt:.3f}%"
    rc, data = _eval_with_log(
        small_set, curve, "--upstream-regex", CURVE, "--upstream-convention", "gt"
    )
    assert rc == 0 and data["J_by_convention"] == plain["J_by_convention"]
    up = data["upstream"]
    assert up["t"] == pytest.approx(t) and up["J"] == round(j_gt, 3) and up["agrees"] is True
    assert up["convention"] == "gt" and abs(up["difference"]) <= 0.0005
    assert "agrees" in capsys.readouterr().out
    # the same number read as the other convention, or one print unit off: flagged
    rc, data = _eval_with_log(small_set, curve, "--upstream-regex", CURVE)
    differs = data["upstream"]["difference"] != pytest.approx(0, abs=5e-4)
    assert data["upstream"]["agrees"] is (not differs)
    curve[round(t * 10)] = f"x/5 background score: {t:.3f}\tmIoU: {j_gt + 0.001:.3f}%"
    rc, data = _eval_with_log(
        small_set, curve, "--upstream-regex", CURVE, "--upstream-convention", "gt"
    )
    assert rc == 0 and data["upstream"]["agrees"] is False
    assert "DIFFERS" in capsys.readouterr().out


def test_upstream_without_threshold_group_takes_the_last_match(small_set):
    lines = ["global   10.00  1.0", "global   12.50  2.0"]
    rc, data = _eval_with_log(small_set, lines, "--upstream-regex", r"^global\s+(?P<J>[0-9.]+)")
    assert rc == 0 and data["upstream"]["J"] == 12.5 and data["upstream"]["t"] is None
    assert data["upstream"]["resolution"] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("global (?P<X>[0-9.]+)", "has no named group (?P<J>...)"),
        (None, "go together"),
        ("global (?P<J>[0-9.]+", "is not a regular expression"),
    ],
)
def test_upstream_bad_options_one_line(small_set, capsys, regex, message):
    extra = [] if regex is None else ["--upstream-regex", regex]
    rc, data = _eval_with_log(small_set, ["global 1.0"], *extra)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and data is None and message in err and "\n" not in err


def test_upstream_fraction_is_scaled_to_percent(small_set):
    plain = _plain_sweep(small_set)
    j = plain["J_by_convention"]["present"]
    regex = r"^mIoU=(?P<J>[0-9.]+)$"  # MCTformer's infer_seg.py prints a fraction
    rc, data = _eval_with_log(small_set, [f"mIoU={j / 100:.3f}"], "--upstream-regex", regex,
                              "--upstream-scale", "100")  # fmt: skip
    up = data["upstream"]
    assert rc == 0 and up["J"] == pytest.approx(round(j / 100, 3) * 100)
    assert up["resolution"] == pytest.approx(0.1) and up["agrees"] is True
    rc, data = _eval_with_log(small_set, [f"mIoU={j / 100 + 0.001:.3f}"], "--upstream-regex",
                              regex, "--upstream-scale", "100")  # fmt: skip
    assert data["upstream"]["agrees"] is False
