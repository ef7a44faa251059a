#!/usr/bin/env bash
# Builds the image ($IMAGE, default ovms:latest, also tagged ovms:<version>) with docker when its
# daemon answers, else podman. Called by `make docker_build`.
#   FROM_SOURCE=0 (default): installs dist/ovms-<version>-linux-x86_64.tar.gz (run `make dist` first)
#   FROM_SOURCE=1: the multi-stage build compiles the server inside the build stage
#   BASE_OS=debian|ubuntu: the runtime stage's base (the build stage is always Debian 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source tools/container_engine.sh
IMAGE="${IMAGE:-ovms:latest}"
FROM_SOURCE="${FROM_SOURCE:-0}"
VERSION="${VERSION:-$(sed -nE 's/^project\(ovms_cpp VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)}"
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
base=$(BASE_OS="${BASE_OS:-debian}" bash tools/container_base_image.sh)
args=(--build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$VERSION" --build-arg "JOBS=${JOBS:-2}")
if [ "$FROM_SOURCE" = 1 ]; then
  # Without a registry the build stage starts from the same local Debian image.
  if [ "$ENGINE" = podman ]; then
    args+=(--build-arg "BUILD_IMAGE=$(BASE_OS=debian bash tools/container_base_image.sh)")
    # The pinned, sha256-checked ONNX Runtime npm package from the host's cache, so the build
    # stage needs no npm registry access (it may not trust the host's TLS setup).
    ort_cache="${ORT_CACHE:-$HOME/.cache/ovms-ort}"
    bash tools/fetch_onnxruntime.sh >/dev/null
    [ -d "$ort_cache" ] && args+=(-v "$ort_cache:/root/.cache/ovms-ort:ro")
    # The host's compiler cache, when there is one: the build stage compiles the same sources with
    # the same Debian compiler, so most objects are cache hits (ccache paths are relative to /src).
    ccache_dir="${CCACHE_DIR:-$HOME/.cache/ccache}"
    [ -d "$ccache_dir" ] && args+=(-v "$ccache_dir:/root/.cache/ccache")
  fi
  args+=(--build-arg "OVMS_GIT_COMMIT=$commit")
  target=release
else
  tarball="dist/ovms-$VERSION-linux-x86_64.tar.gz"
  [ -f "$tarball" ] || { echo "$tarball not found: run 'make dist' first (or FROM_SOURCE=1)" >&2; exit 1; }
  # The image's version label and the tarball must agree: the tarball's binary says which it is.
  readme=$(tar -xzOf "$tarball" ovms/README)
  [[ "$readme" == "ovms $VERSION "* ]] || { echo "$tarball is not version $VERSION" >&2; exit 1; }
  # The revision label is the commit the tarball was built from, which may not be HEAD.
  commit=$(sed -nE '1s/.*\(git commit ([^)]*)\).*/\1/p' <<<"$readme")
  args+=(--build-arg "DIST_TARBALL=$tarball" --build-arg "OVMS_GIT_COMMIT=$commit")
  target=release-prebuilt
fi
echo "building $IMAGE with $ENGINE (target $target, base $base)"
engine build "${ENGINE_BUILD_FLAGS[@]}" "${args[@]}" --target "$target" -t "$IMAGE" -t "ovms:$VERSION" -f Dockerfile .
