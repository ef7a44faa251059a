#!/usr/bin/env bash
# Installs everything needed to build and test on a fresh Debian 12 machine (run as root, or with sudo).
# OVMS_DEPS_BUILD_ONLY=1 (the Dockerfile's build stage): what building the server needs, no test tools.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build ccache git ca-certificates curl openssl \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto \
  libboost1.81-dev rapidjson-dev libsimdjson-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcxxopts-dev \
  prometheus-cpp-dev libpugixml-dev libcurl4-openssl-dev libssl-dev libturbojpeg0-dev libpng-dev \
  libonnx-dev libgtest-dev libgmock-dev clang-14 libclang-rt-14-dev \
  python3 python3-grpcio python3-protobuf python3-numpy python3-pytest python3-onnx python3-pil \
  python3-botocore python3-cryptography \
  >/dev/null
# Release package and container image (tools/dist.sh, tools/container_*.sh, tests/deploy);
# OVMS_DEPS_NO_CONTAINER_TOOLS=1 leaves out the container tools.
$SUDO apt-get install -y -qq --no-install-recommends patchelf >/dev/null
if [ "${OVMS_DEPS_BUILD_ONLY:-0}" = 1 ]; then
  if ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "build dependencies installed"
  exit 0
fi
# wrk: the REST load client of the benchmarks (tools/bench_server.sh, bench/load_curves.py; ctest bench.*).
$SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
# kubectl (kustomize) renders and checks the Kubernetes manifests offline (tests/deploy). The machine
# image may ship its own kubectl package, which conflicts with Debian's kubernetes-client.
if ! command -v kubectl >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
if [ "${OVMS_DEPS_NO_CONTAINER_TOOLS:-0}" != 1 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends podman runc mmdebstrap gpg >/dev/null
fi
# npm fetches ONNX Runtime; machines that ship their own Node.js (with npm) keep it.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
bash "$(dirname "$0")/install_test_peers.sh"
echo "dependencies installed"
