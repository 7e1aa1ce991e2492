"""hfpl.classes: the datasets' class names and the label-value naming rule."""

from __future__ import annotations

from hfpl.classes import COCO_CATEGORIES, VOC_CLASSES, label_names


def test_voc_and_coco_class_tables() -> None:
    assert (
        len(VOC_CLASSES) == 20 and VOC_CLASSES[0] == "aeroplane" and VOC_CLASSES[-1] == "tvmonitor"
    )
    ids = [cat_id for cat_id, _ in COCO_CATEGORIES]
    assert len(ids) == 80 and ids == sorted(ids) and ids[0] == 1 and ids[-1] == 90
    assert len({name for _, name in COCO_CATEGORIES}) == 80


def test_label_names_by_class_count() -> None:
    assert label_names(21)[:2] == ["background", "aeroplane"] and len(label_names(21)) == 21
    assert label_names(81)[1] == "person" and label_names(81)[-1] == "toothbrush"
    assert label_names(3) == ["class_0", "class_1", "class_2"]
