"""Where a prepared dataset keeps its files and its completion marker (standard library only:
the workflow reads this at DAG time).

Every dataset kind keeps its files in one folder below the data root (:data:`DATASET_DIRS`; list
files name paths relative to it) and gets the content manifest :data:`MARKER` at the data root,
written last by ``hfpl data voc|coco`` and ``hfpl smoke-data`` (see :mod:`hfpl.data.manifest`):
its presence means the dataset is complete.
"""

MARKER = "hfpl-dataset.json"
"""The content manifest below the data root: the dataset's completion marker."""

DATASET_DIRS = {"voc": "VOCdevkit/VOC2012", "coco": "coco"}
"""dataset kind -> the folder below the data root that holds its files (what the manifest
covers, and what list-file paths such as ``/JPEGImages/<id>.jpg`` are relative to)."""
