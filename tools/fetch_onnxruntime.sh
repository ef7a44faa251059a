#!/usr/bin/env bash
# Fetches ONNX Runtime (C/C++ headers + libonnxruntime.so) from the npm registry, pinned and
# sha256-checked, into third_party/onnxruntime (git-ignored). Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="${ORT_DEST:-$here/third_party/onnxruntime}"
pkg="com.github.asus4.onnxruntime"
ver="0.4.9"
tgz_sha256="e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d"
lib_sha256="5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca"
stamp="$dest/.stamp-$ver"
[ -f "$stamp" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache="${ORT_CACHE:-$HOME/.cache/ovms-ort}"
mkdir -p "$cache"
tgz="$cache/$pkg-$ver.tgz"
if [ ! -f "$tgz" ] || ! echo "$tgz_sha256  $tgz" | sha256sum -c --status; then
  (cd "$work" && npm pack --silent "$pkg@$ver" >/dev/null)
  mv "$work/$pkg-$ver.tgz" "$tgz"
fi
echo "$tgz_sha256  $tgz" | sha256sum -c --status || { echo "sha256 mismatch for $tgz" >&2; exit 1; }
hdr="package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers"
lib="package/Plugins/Linux/x64/libonnxruntime.so"
tar -xzf "$tgz" -C "$work" "$hdr" "$lib"
echo "$lib_sha256  $work/$lib" | sha256sum -c --status || { echo "sha256 mismatch for libonnxruntime.so" >&2; exit 1; }
rm -rf "$dest"; mkdir -p "$dest/include" "$dest/lib"
cp "$work/$hdr"/*.h "$dest/include/"
cp "$work/$lib" "$dest/lib/libonnxruntime.so.1"
ln -sf libonnxruntime.so.1 "$dest/lib/libonnxruntime.so"
touch "$stamp"
echo "ONNX Runtime $ver extracted to $dest"
