#!/usr/bin/env bash
# Installs the emulators the cloud-storage e2e tests start on loopback (s3rver, Azurite) from the
# npm registry, exactly as pinned (with integrity hashes) in tests/peers/package-lock.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/tests/peers"
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json .installed-lock 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
cp package-lock.json .installed-lock
echo "test peers installed (s3rver, azurite)"
