#!/bin/sh
# The PMM layer's install steps, one recipe for Dockerfile, pmm.def and a local venv:
#   containers/pmm/install.sh            (uses the pip on PATH: the image's /opt/venv, or a venv)
# mmcv 1.2.0 is built from the PyPI sdist without its compiled ops (MMCV_WITH_OPS=0: no nvcc; no
# op is used by the PSPNet/ResNet-38 configs) and without build isolation, so that it builds
# with the installed setuptools < 81 and Cython/numpy (~20 s). mmcv 1.2.0 on torch 2.x needs
# hfpl.compat.legacy_mmcv, which the patched tools/train.py and tools/test.py load.
set -eu
here=$(dirname "$0")
pip install "setuptools<81" wheel cython
pip install -r "$here/requirements.txt"
MMCV_WITH_OPS=0 pip install --no-build-isolation "mmcv==1.2.0"
python -c "import mmcv, hfpl.compat.legacy_mmcv; assert mmcv.__version__ == '1.2.0'; print('mmcv', mmcv.__version__)"
