"""The dataset-archive registry: one check per entry, and the lookup error."""

from __future__ import annotations

import pytest

from hfpl.data import registry

# the one archive registered without a checksum (a fallback nobody fetches by default)
UNCHECKED = {"SegmentationClassAug.zip"}


def test_registry_holds_only_the_dataset_archives():
    assert sorted(registry.RESOURCES) == sorted(
        [
            "VOCtrainval_11-May-2012.tar",
            "VOC2012test.tar",
            "benchmark.tgz",
            "SegmentationClassAug.zip",
            "train2014.zip",
            "val2014.zip",
            "annotations_trainval2014.zip",
        ]  # fmt: skip
    )


@pytest.mark.parametrize("name", sorted(registry.RESOURCES))
def test_entry_is_checkable_and_obtainable(name):
    res = registry.RESOURCES[name]
    assert res.name == name and res.loading
    assert res.urls or res.manual  # a mirror, or where a human gets it
    assert all(u.startswith(("http://", "https://")) for u in res.urls)
    assert bool(res.sha256 or res.md5) != (name in UNCHECKED)
    if res.sha256:
        assert len(res.sha256) == 64 and int(res.sha256, 16) >= 0
    if res.md5:
        assert len(res.md5) == 32 and int(res.md5, 16) >= 0


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown file 'x.tar'; known: .*VOC2012test.tar"):
        registry.get("x.tar")
