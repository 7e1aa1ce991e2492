"""patches/SEAM/0005-coco.patch: COCO support keeps every VOC default and name (CI, no upstream)."""

from __future__ import annotations

import re
from pathlib import Path

PATCH = Path(__file__).resolve().parents[2] / "patches" / "SEAM" / "0005-coco.patch"


def _added() -> list[str]:
    return [
        ln[1:]
        for ln in PATCH.read_text().splitlines()
        if ln.startswith("+") and not ln.startswith("+++")
    ]


def test_num_classes_option_defaults_to_voc() -> None:
    options = [ln for ln in _added() if "--num_classes" in ln]
    assert len(options) == 3  # train_SEAM, infer_SEAM, infer_aff
    assert all(re.search(r"default=20, type=int", ln) for ln in options)
    assert any("def __init__(self, num_classes=20)" in ln for ln in _added())


def test_no_hard_coded_class_counts_left_in_added_lines() -> None:
    for line in _added():
        assert not re.search(
            r"\b(20|21|80|81)\b", re.sub(r"(default|num_classes)=20\b", "", line)
        ), line


def test_voc_names_unchanged_by_the_new_name_rule() -> None:
    """The patch names an image by its list path's basename without extension; upstream cut
    [-15:-4]. Same names on every VOC list line form (independent check of both rules)."""
    for img_id in ["2007_000032", "2011_003276"]:
        for line in [f"/JPEGImages/{img_id}.jpg /SegmentationClassAug/{img_id}.png",
                     f"/JPEGImages/{img_id}.jpg"]:  # fmt: skip
            first = line.split(" ")[0]
            assert Path(first).name[:-4] == first[-15:-4] == img_id
    coco = "/train2014/COCO_train2014_000000000009.jpg /SegmentationClass/train2014/x.png"
    assert Path(coco.split(" ")[0]).name[:-4] == "COCO_train2014_000000000009"
