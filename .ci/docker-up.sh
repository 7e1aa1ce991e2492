#!/usr/bin/env bash
# Make a Docker daemon and the registry-free base image `local/bookworm:base` available.
# Idempotent: installs docker.io + debootstrap only if missing, starts dockerd only if none
# answers, builds the base image only if absent. When no daemon can be started it prints one line
# saying why and exits 1: .ci/run fails with it (CI runs every row's smoke in containers); the
# `docker` tests that call it skip on users' machines. Recipe and flags: docs/executors.md.
set -uo pipefail

BASE_IMAGE="${HFPL_DOCKER_BASE:-local/bookworm:base}"
DEBIAN_MIRROR="${HFPL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKERD_LOG="${HFPL_DOCKERD_LOG:-/tmp/dockerd.log}"

say() { echo "docker-up: $*"; }
give_up() { echo "docker-up: FAILED: $*" >&2; exit 1; }
answers() { docker info >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v docker >/dev/null || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing ${need_pkgs[*]}"
  as_root apt-get update -qq || give_up "no Docker daemon: apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
    "${need_pkgs[@]}" >/dev/null || give_up "no Docker daemon: apt-get install ${need_pkgs[*]} failed"
fi

if answers; then
  say "a daemon already answers"
else
  say "starting dockerd (log: $DOCKERD_LOG)"
  # overlay2 is far faster than vfs; no iptables/bridge: containers run with network_mode=none,
  # builds use --network host.
  as_root sh -c "nohup dockerd --storage-driver=overlay2 --iptables=false --bridge=none \
    >'$DOCKERD_LOG' 2>&1 &" || give_up "no Docker daemon: cannot start dockerd (not root and no sudo; start one or set DOCKER_HOST)"
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || give_up "no Docker daemon: dockerd did not come up (see $DOCKERD_LOG)"
fi

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  say "$BASE_IMAGE present"
  exit 0
fi
say "building $BASE_IMAGE with debootstrap (~30 s)"
rootfs="$(mktemp -d /tmp/hfpl-rootfs.XXXXXX)"
trap 'as_root rm -rf "$rootfs"' EXIT
as_root debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >/tmp/debootstrap.log 2>&1 \
  || give_up "cannot build $BASE_IMAGE: debootstrap failed (see /tmp/debootstrap.log)"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  as_root cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
  as_root rm -f "$rootfs/etc/apt/sources.list"
fi
as_root sh -c "rm -rf '$rootfs'/var/cache/apt/archives/*.deb '$rootfs'/var/lib/apt/lists/*"
as_root tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null \
  || give_up "cannot build $BASE_IMAGE: docker import failed"
say "built $BASE_IMAGE"
