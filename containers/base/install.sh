#!/bin/sh
# Install steps of the hfpl base image, shared by Dockerfile, base.def and the Makefile's upstream
# venv (one recipe). Phases, so that the Docker build caches the heavy ones across hfpl edits:
#   install.sh system   Debian/Ubuntu packages: Python 3.11, g++ (pydensecrf2), git, CA certs
#   install.sh python   venv $HFPL_VENV (default /opt/venv) made with $HFPL_PYTHON (default
#                       python3.11) + torch/torchvision + pydensecrf2, versions from
#                       containers/base/requirements.txt (the one pin, read as constraints)
#   install.sh layer DIR  a method layer (containers/<image>/): DIR/install.sh if it has one,
#                       else `pip install -r DIR/requirements.txt` (image layers and the venv)
#   install.sh hfpl     hfpl[cli] from the source tree in /src/hfpl (image only)
# Each of python/layer appends "<layer> <sha256 of its recipe>" to $HFPL_VENV/hfpl-recipe.txt
# (the recipe digest every step's manifest records: hfpl.workflow.recipe). Where torch comes
# from (environment): TORCH_WHEELS (a wheel folder or URL holding it and all its dependencies,
# e.g. served with `python3 -m http.server`; no index is asked then), else TORCH_INDEX_URL (an
# index in place of PyPI for torch/torchvision only, e.g. https://download.pytorch.org/whl/cu126
# for drivers older than the PyPI build's CUDA 13 needs; optional).
set -eu
VENV="${HFPL_VENV:-/opt/venv}"
PATH="$VENV/bin:$PATH"
HERE="$(cd "$(dirname "$0")" && pwd)"

# record LAYER FILE...: the sha256 of the files' concatenated bytes (= hfpl.workflow.recipe.digest)
record() {
  layer="$1"
  shift
  echo "$layer $(cat "$@" | sha256sum | cut -c1-64)" >>"$VENV/hfpl-recipe.txt"
}

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
  pins="$HERE/requirements.txt"
  "${HFPL_PYTHON:-python3.11}" -m venv "$VENV"
  rm -f "$VENV/hfpl-recipe.txt"
  pip install --upgrade pip "setuptools<81" wheel
  sources=""
  if [ -n "${TORCH_WHEELS:-}" ]; then
    sources="--no-index --find-links ${TORCH_WHEELS}"
  elif [ -n "${TORCH_INDEX_URL:-}" ]; then
    sources="--index-url ${TORCH_INDEX_URL}"
  fi
  # shellcheck disable=SC2086  # sources is empty or option words on purpose
  pip install $sources -c "$pins" torch torchvision
  pip install -c "$pins" cython numpy
  pip install -c "$pins" --no-build-isolation pydensecrf2
  "$VENV/bin/python" -c "import torch, torchvision, pydensecrf.densecrf; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
  record base "$HERE/install.sh" "$pins"
}

layer() {
  dir="${1:?usage: install.sh layer DIR}"
  if [ -f "$dir/install.sh" ]; then
    sh "$dir/install.sh"
  else
    pip install -r "$dir/requirements.txt"
  fi
  # the layer's recipe: every file of DIR but the Dockerfile and the .def, in name order
  # shellcheck disable=SC2046  # one word per file on purpose (recipe file names have no spaces)
  record "$(basename "$dir")" $(find "$dir" -maxdepth 1 -type f ! -name Dockerfile ! -name '*.def' | LC_ALL=C sort)
}

hfpl() {
  pip install "/src/hfpl[cli]"
  "$VENV/bin/python" -c "import hfpl.losses.addon, hfpl.runtime; print('hfpl', hfpl.__version__)"
}

case "${1:-}" in
  system | python | hfpl) "$1" ;;
  layer) layer "${2:-}" ;;
  *) echo "usage: install.sh system|python|hfpl|layer DIR" >&2; exit 2 ;;
esac
