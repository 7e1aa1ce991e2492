#!/bin/sh
# Install step of the hfpl base image, shared by Dockerfile and base.def (one recipe, two builders).
# Inputs (environment): TORCH_VERSION, TORCHVISION_VERSION, TORCH_INDEX_URL, PIP_FIND_LINKS
# (optional local wheel folder or URL), and the hfpl source tree in /src/hfpl.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
# python3.11: Debian bookworm's default, universe package on Ubuntu 22.04; g++/-dev for pydensecrf2
apt-get install -y --no-install-recommends ca-certificates python3.11 python3.11-venv \
  python3.11-dev g++ git libglib2.0-0
update-ca-certificates  # picks up /usr/local/share/ca-certificates/extra/*.crt
rm -rf /var/lib/apt/lists/*

python3.11 -m venv /opt/venv
PATH=/opt/venv/bin:$PATH
pip install --upgrade pip "setuptools<81" wheel
find_links=""
if [ -n "${PIP_FIND_LINKS:-}" ]; then find_links="--find-links ${PIP_FIND_LINKS}"; fi
# shellcheck disable=SC2086  # find_links is empty or two words on purpose
pip install $find_links --extra-index-url "${TORCH_INDEX_URL}" \
  "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
# pydensecrf 1.0rc3 does not build on Python 3.11 / Cython 3; pydensecrf2 imports as pydensecrf
pip install cython numpy
pip install --no-build-isolation "pydensecrf2==1.1"
pip install "/src/hfpl[cli]"
python -c "import torch, pydensecrf.densecrf, hfpl; print('torch', torch.__version__)"
