#!/usr/bin/env bash
# Installs the emulators the cloud-storage e2e tests start on loopback (s3rver, Azurite) from the
# npm registry, exactly as pinned (with integrity hashes) in tests/peers/package-lock.json, and the
# engine benchmark's peer (bench/node).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The engine benchmark's peer (onnxruntime-node, pinned in bench/node/package-lock.json; its bundled
# binaries checked against bench/node/SHA256SUMS), for the ctest bench.engine smoke test. No install
# script: it would only try to download optional CUDA files (bench/README.md).
if [ ! -f "$root/bench/node/node_modules/onnxruntime-node/package.json" ]; then
  (cd "$root/bench/node" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
(cd "$root/bench/node" && sha256sum --quiet -c SHA256SUMS)
cd "$root/tests/peers"
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json .installed-lock 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
cp package-lock.json .installed-lock
echo "test peers installed (s3rver, azurite)"
