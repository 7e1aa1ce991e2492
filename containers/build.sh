#!/usr/bin/env bash
# Build the hfpl base image and per-method layers with docker (run from anywhere; `make images`
# calls it). Usage:
#   containers/build.sh [--variant gpu|cuda|local] [--tag TAG] [LAYER...]   e.g. --variant local seam
# -> hfpl/base:TAG and hfpl/<LAYER>:TAG (containers/<LAYER>/Dockerfile over that base). Every
# variant installs the same pins (containers/base/requirements.txt, the <LAYER>'s files): the
# PyPI torch wheel carries its CUDA runtime, so each image runs on a GPU host (driver >= 580 for
# the pinned CUDA 13 build) and on CPU alike. They differ in the base only:
#   gpu (default): the Dockerfile's default base, debian:bookworm-slim (from a registry)
#   cuda: nvidia/cuda ($HFPL_CUDA_BASE, default nvidia/cuda:13.0.0-cudnn-runtime-ubuntu22.04)
#   local (alias: cpu, CI's name): no registry needed: FROM $HFPL_DOCKER_BASE (default
#        local/bookworm:base, made by .ci/docker-up.sh), torch + torchvision fetched once into
#        $HFPL_WHEELHOUSE with this host's pip and served to the build on 127.0.0.1 (a build
#        sees no host folder; a COPY would double the image).
# $HFPL_TORCH_INDEX_URL (e.g. https://download.pytorch.org/whl/cu126): torch from that index
# instead of PyPI, for hosts whose driver is older than the pinned build's CUDA needs.
# The build context is a staged copy of containers/, src/, pyproject.toml and README.md (not
# the repository root with its venvs). Behind a TLS-intercepting proxy put its CA certificates
# into containers/extra-ca-certs/ first. Prints each image's build time and size at the end.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
variant=gpu
tag=latest
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    -*) echo "build.sh: unknown option $1 (see the usage at the top of containers/build.sh)" >&2; exit 2 ;;
    *) break ;;
  esac
done
for layer in "$@"; do
  [ -f "$repo/containers/$layer/Dockerfile" ] \
    || { echo "build.sh: no containers/$layer/Dockerfile (layers: seam sipe pmm mctformer sbce)" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/hfpl-build.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# staged build context: only what the Dockerfiles COPY
ctx="$work/context"
mkdir -p "$ctx"
tar -C "$repo" --exclude=__pycache__ --exclude='*.egg-info' -c containers src pyproject.toml README.md \
  | tar -C "$ctx" -x

base_args=()
if [ -n "${HFPL_TORCH_INDEX_URL:-}" ]; then
  base_args+=(--build-arg "TORCH_INDEX_URL=$HFPL_TORCH_INDEX_URL")
fi
case "$variant" in
  gpu) ;;
  cuda) base_args+=(--build-arg "BASE_IMAGE=${HFPL_CUDA_BASE:-nvidia/cuda:13.0.0-cudnn-runtime-ubuntu22.04}") ;;
  local | cpu)
  wheels="${HFPL_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/hfpl/wheels}"
  mkdir -p "$wheels"
  t0=$SECONDS
  # wheels for the image's Python (3.11, glibc >= 2.28), whatever this host runs; pip does not
  # widen a --platform to the older manylinux tags it implies, so they are all listed
  platforms=()
  for p in manylinux_2_{28,27,25,18,17,12,5}_x86_64 manylinux{2014,2010,1}_x86_64; do
    platforms+=(--platform "$p")
  done
  index=()
  if [ -n "${HFPL_TORCH_INDEX_URL:-}" ]; then index=(--index-url "$HFPL_TORCH_INDEX_URL"); fi
  python3 -m pip download -q --dest "$wheels" --only-binary=:all: --python-version 3.11 \
    --implementation cp "${platforms[@]}" "${index[@]}" -c "$repo/containers/base/requirements.txt" \
    torch torchvision \
    || { echo "build.sh: could not fetch the torch/torchvision wheels pinned in containers/base/requirements.txt into $wheels" >&2; exit 1; }
  echo "build.sh: wheelhouse $wheels ready in $((SECONDS - t0)) s ($(du -sh "$wheels" | cut -f1))"
  # a fixed port: TORCH_WHEELS is a build argument, part of the cache key of every RUN below it,
  # so a new port each build would rebuild the whole base (~4 min) although nothing changed
  python3 -u -m http.server "${HFPL_WHEEL_PORT:-48573}" --bind 127.0.0.1 --directory "$wheels" \
    >"$work/http.log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 50); do
    port="$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$work/http.log" | head -1)"
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "build.sh: the local wheel server did not start on port ${HFPL_WHEEL_PORT:-48573} ($(tail -1 "$work/http.log")); set HFPL_WHEEL_PORT to a free port" >&2; exit 1; }
  base_args+=(
    --build-arg "BASE_IMAGE=${HFPL_DOCKER_BASE:-local/bookworm:base}"
    --build-arg "TORCH_WHEELS=http://127.0.0.1:$port/"
  )
  ;;
  *) echo "build.sh: --variant must be gpu, cuda or local (cpu), not $variant" >&2; exit 2 ;;
esac

summary=()
logs="${HFPL_BUILD_LOGS:-${TMPDIR:-/tmp}/hfpl-build-logs}"
mkdir -p "$logs"
build() {  # build IMAGE DOCKERFILE [ARGS...]
  local image="$1" dockerfile="$2" t0=$SECONDS log
  shift 2
  log="$logs/$(echo "$image" | tr '/:' '__').log"
  echo "build.sh: building $image (log: $log)"
  if ! docker build --network host --force-rm -f "$ctx/$dockerfile" -t "$image" "$@" "$ctx" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "build.sh: docker build of $image failed; the full log is $log" >&2
    exit 1
  fi
  summary+=("$(docker image inspect -f '{{.Size}}' "$image" \
    | awk -v i="$image" -v s=$((SECONDS - t0)) '{printf "%-28s %5d s  %5.2f GB", i, s, $1 / 1e9}')")
}
build "hfpl/base:$tag" containers/base/Dockerfile "${base_args[@]}"
for layer in "$@"; do
  build "hfpl/$layer:$tag" "containers/$layer/Dockerfile" --build-arg "HFPL_BASE=hfpl/base:$tag"
done
printf 'build.sh: %s\n' "${summary[@]}"
