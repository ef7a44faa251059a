#!/usr/bin/env bash
# Makes the base image the Dockerfile's FROM lines use when no registry is reachable (podman):
# localhost/debian:bookworm-slim (BASE_OS=debian), a minbase Debian 12 root filesystem built with mmdebstrap
# from Debian's package mirror, or localhost/ubuntu:24.04 (BASE_OS=ubuntu) from Ubuntu's. The rootfs tarball is cached (~/.cache/ovms-container) so later runs,
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
cache="${OVMS_CONTAINER_CACHE:-$HOME/.cache/ovms-container}"
mkdir -p "$cache"
case "$BASE_OS" in
  debian)
    image="localhost/debian:bookworm-slim"
    rootfs="$cache/rootfs-bookworm-minbase.tar"
    # Debian's archive key is on every Debian machine (debian-archive-keyring).
    strap=(mmdebstrap --quiet --variant=minbase bookworm) ;;
  ubuntu)
    # Ubuntu 24.04 from the Ubuntu archive (UBUNTU_MIRROR), verified with Ubuntu's archive keyring, which
    # Debian does not package: taken from the archive's ubuntu-keyring package, pinned by its sha256, and
    # checked to hold Ubuntu's 2018 archive signing key.
    image="localhost/ubuntu:24.04"
    rootfs="$cache/rootfs-noble-minbase.tar"
    mirror="${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}"
    keyring_deb="ubuntu-keyring_2023.11.28.1_all.deb"
    keyring_sha256="36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8"
    archive_key="F6ECB3762474EDA9D21B7022871920D1991BC93C"
    keyring="$cache/ubuntu-archive-keyring.gpg"
    if [ ! -s "$keyring" ] && ! engine image exists "$image"; then
      tmpk=$(mktemp -d)
      curl -fsS --retry 3 -o "$tmpk/$keyring_deb" "$mirror/pool/main/u/ubuntu-keyring/$keyring_deb" >&2
      echo "$keyring_sha256  $tmpk/$keyring_deb" | sha256sum -c --quiet - >&2 ||
        { echo "$keyring_deb: sha256 mismatch" >&2; rm -rf "$tmpk"; exit 1; }
      dpkg-deb -x "$tmpk/$keyring_deb" "$tmpk/x"
      gpg --show-keys --with-colons "$tmpk/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" 2>/dev/null |
        grep -q "^fpr:*$archive_key:" || { echo "Ubuntu archive key $archive_key not in the keyring" >&2; rm -rf "$tmpk"; exit 1; }
      cp "$tmpk/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$keyring"
      rm -rf "$tmpk"
    fi
    # apt reads the keyring as its unprivileged _apt user: hand it a world-readable copy (not under ~).
    keydir=$(mktemp -d)
    trap 'rm -rf "$keydir"' EXIT
    cp "$keyring" "$keydir/ubuntu-archive-keyring.gpg"
    chmod 755 "$keydir" && chmod 644 "$keydir/ubuntu-archive-keyring.gpg"
    strap=(mmdebstrap --quiet --variant=minbase "--keyring=$keydir/ubuntu-archive-keyring.gpg" noble) ;;
  *) echo "BASE_OS must be debian or ubuntu" >&2; exit 64 ;;
esac
if ! engine image exists "$image"; then
  if [ ! -s "$rootfs" ]; then
    echo "building $rootfs with mmdebstrap (a few minutes, once)" >&2
    # mmdebstrap picks the output format from the name: keep the .tar ending on the partial file.
    partial="$cache/partial-$(basename "$rootfs")"
    if [ "$BASE_OS" = ubuntu ]; then "${strap[@]}" "$partial" "$mirror" >&2; else "${strap[@]}" "$partial" >&2; fi
    mv "$partial" "$rootfs"
  fi
  engine import --quiet "$rootfs" "$image" >/dev/null
fi
echo "$image"
