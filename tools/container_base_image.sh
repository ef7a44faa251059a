#!/usr/bin/env bash
# Makes the base image the Dockerfile's FROM lines use when no registry is reachable (podman):
# localhost/debian:bookworm-slim, a minbase Debian 12 root filesystem built with mmdebstrap from
# Debian's package mirror. The rootfs tarball is cached (~/.cache/ovms-container) so later runs,
# CI included, only import it. Prints the image name. With docker it prints debian:bookworm-slim
# (pulled from the registry as usual).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tools/container_engine.sh"
BASE_OS="${BASE_OS:-debian}"
if [ "$ENGINE" = docker ]; then
  case "$BASE_OS" in
    debian) echo "debian:bookworm-slim" ;;
    ubuntu) echo "ubuntu:24.04" ;;
    *) echo "BASE_OS must be debian or ubuntu" >&2; exit 64 ;;
  esac
  exit 0
fi
case "$BASE_OS" in
  debian) image="localhost/debian:bookworm-slim" ;;
  ubuntu)
    # Debian's mirror has no Ubuntu packages: an Ubuntu base must be imported by hand (docs/deployment.md).
    image="localhost/ubuntu:24.04"
    engine image exists "$image" ||
      { echo "$image not found: import an Ubuntu 24.04 root filesystem with 'podman import' first" >&2; exit 1; }
    echo "$image"; exit 0 ;;
  *) echo "BASE_OS must be debian or ubuntu" >&2; exit 64 ;;
esac
if ! engine image exists "$image"; then
  cache="${OVMS_CONTAINER_CACHE:-$HOME/.cache/ovms-container}"
  rootfs="$cache/rootfs-bookworm-minbase.tar"
  mkdir -p "$cache"
  if [ ! -s "$rootfs" ]; then
    echo "building $rootfs with mmdebstrap (a few minutes, once)" >&2
    # mmdebstrap picks the output format from the name: keep the .tar ending on the partial file.
    mmdebstrap --quiet --variant=minbase bookworm "$cache/partial-rootfs.tar" >&2
    mv "$cache/partial-rootfs.tar" "$rootfs"
  fi
  engine import --quiet "$rootfs" "$image" >/dev/null
fi
echo "$image"
