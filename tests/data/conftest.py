"""Smoke datasets shared by the data tests (built once per session; copy before changing)."""

from __future__ import annotations

import pytest

from hfpl.data.datasets import DATASETS


@pytest.fixture(scope="session")
def voc_root(tmp_path_factory):
    """Data root of a 9-image, 64 px VOC smoke dataset (6 train = train_aug, 3 val)."""
    root = tmp_path_factory.mktemp("voc-root")
    DATASETS["voc"].smoke(root, images=9, size=64, seed=0)
    return root


@pytest.fixture(scope="session")
def coco_root(tmp_path_factory):
    """Data root of a 9-image, 64 px COCO smoke dataset (6 train2014, 3 val2014)."""
    root = tmp_path_factory.mktemp("coco-root")
    DATASETS["coco"].smoke(root, images=9, size=64, seed=0)
    return root
