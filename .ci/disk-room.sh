#!/usr/bin/env bash
# Make sure of NEED_GB free disk under each DIR, for the images and the CI smoke (.ci/run's disk
# phase). Usage: .ci/disk-room.sh NEED_GB DIR...
# When a DIR is short, what earlier CI runs left goes first: their work dirs
# ($TMPDIR/hfpl-ci.*, whose ci.pid names no live process: a killed run's; a kept one,
# HFPL_CI_KEEP=1, too), then, where a Docker daemon answers, stopped containers and untagged
# images (earlier builds that a rebuild untagged). Still short: one line saying how much is
# free and what to free, exit 1. A run that failed on a full disk fails everywhere at once
# (snakemake, pytest's tmp_path, hung workers); this turns that into one line before any build.
set -uo pipefail
need="$1"
shift
tmp="${TMPDIR:-/tmp}"

say() { echo "disk-room: $*"; }
free_gb() { df -P -BG "$1" 2>/dev/null | awk 'NR == 2 { sub("G", "", $4); v = $4 } END { print v + 0 }'; }
short() {  # prints the first DIR with less than NEED_GB free
  local d
  for d in "$@"; do
    if [ "$(free_gb "$d")" -lt "$need" ]; then echo "$d"; return 0; fi
  done
  return 1
}

dir="$(short "$@")" || exit 0
say "$(free_gb "$dir") GB free under $dir, under $need GB: removing what earlier runs left"
for d in "$tmp"/hfpl-ci.*; do
  [ -d "$d" ] || continue
  pid="$(cat "$d/ci.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then continue; fi  # a run still going
  rm -rf "$d" && say "removed $d"
done
if docker info >/dev/null 2>&1; then
  docker container prune -f >/dev/null && docker image prune -f | tail -n 1 | sed 's/^/disk-room: docker: /'
fi
dir="$(short "$@")" || { say "now enough room"; exit 0; }
echo "disk-room: FAILED: only $(free_gb "$dir") GB free under $dir; CI needs $need GB" \
  "(HFPL_CI_MIN_FREE_GB): free some (docker system prune -a, old clones and their venvs)" >&2
exit 1
