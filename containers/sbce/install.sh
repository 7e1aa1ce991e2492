#!/bin/sh
# The sbce layer's install steps (containers/base/install.sh `layer` runs it: Dockerfile,
# sbce.def and a local venv): the pinned requirements, then the randaugment 1.0.2 fix.
set -eu
here=$(dirname "$0")
pip install -r "$here/requirements.txt"
python "$here/fix_randaugment.py"
