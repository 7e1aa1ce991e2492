"""Layout constants: the marker name, one folder per dataset kind, importable without numpy."""

from __future__ import annotations

import subprocess
import sys

from hfpl.data.datasets import DATASETS
from hfpl.data.layout import DATASET_DIRS, MARKER


def test_marker_and_dataset_dirs():
    assert MARKER == "hfpl-dataset.json"  # the contract's name: the workflow waits for it
    assert DATASET_DIRS == {"voc": "VOCdevkit/VOC2012", "coco": "coco"}
    assert set(DATASET_DIRS) == set(DATASETS)
    assert all(DATASETS[k].base == v for k, v in DATASET_DIRS.items())


def test_layout_and_manifest_stay_light_for_dag_time():
    code = (
        "import sys, hfpl.data.layout, hfpl.data.manifest; "
        "print(sorted(m for m in ('numpy', 'torch', 'PIL', 'pooch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
