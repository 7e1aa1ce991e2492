#!/bin/sh
# Install steps of the hfpl base image, shared by Dockerfile, base.def and the Makefile's upstream
# venv (one recipe). Phases, so that the Docker build caches the heavy ones across hfpl edits:
#   install.sh system   Debian/Ubuntu packages: Python 3.11, g++ (pydensecrf2), git, CA certs
#   install.sh python   venv $HFPL_VENV (default /opt/venv) made with $HFPL_PYTHON (default
#                       python3.11) + torch/torchvision + pydensecrf2
#   install.sh hfpl     hfpl[cli] from the source tree in /src/hfpl (image only)
# Inputs of `python` (environment): TORCH_VERSION, TORCHVISION_VERSION, and where they come from:
# TORCH_WHEELS (a wheel folder or URL holding them and all their dependencies, e.g. served with
# `python3 -m http.server`; no index is asked then), else TORCH_INDEX_URL (extra index; optional).
set -eu
VENV="${HFPL_VENV:-/opt/venv}"
PATH="$VENV/bin:$PATH"

system() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # python3.11: Debian bookworm's default, universe package on Ubuntu 22.04; g++/-dev for pydensecrf2
  apt-get install -y --no-install-recommends ca-certificates python3.11 python3.11-venv \
    python3.11-dev g++ git libglib2.0-0
  update-ca-certificates  # picks up /usr/local/share/ca-certificates/extra/*.crt
  rm -rf /var/lib/apt/lists/*
}

python() {
  "${HFPL_PYTHON:-python3.11}" -m venv "$VENV"
  pip install --upgrade pip "setuptools<81" wheel
  sources=""
  if [ -n "${TORCH_WHEELS:-}" ]; then
    sources="--no-index --find-links ${TORCH_WHEELS}"
  elif [ -n "${TORCH_INDEX_URL:-}" ]; then
    sources="--extra-index-url ${TORCH_INDEX_URL}"
  fi
  # shellcheck disable=SC2086  # sources is empty or option words on purpose
  pip install $sources "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
  # pydensecrf 1.0rc3 does not build on Python 3.11 / Cython 3; pydensecrf2 imports as pydensecrf
  pip install cython numpy
  pip install --no-build-isolation "pydensecrf2==1.1"
  "$VENV/bin/python" -c "import torch, torchvision, pydensecrf.densecrf; print('torch', torch.__version__)"
}

hfpl() {
  pip install "/src/hfpl[cli]"
  "$VENV/bin/python" -c "import hfpl.losses.addon, hfpl.runtime; print('hfpl', hfpl.__version__)"
}

case "${1:-}" in
  system | python | hfpl) "$1" ;;
  *) echo "usage: install.sh system|python|hfpl" >&2; exit 2 ;;
esac
