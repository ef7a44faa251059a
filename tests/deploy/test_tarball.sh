#!/usr/bin/env bash
# The release tarball on its own: unpacked into an empty folder, with the source and build tree
# hidden (a tmpfs mounted over the checkout in a private mount namespace), bin/ovms must find every
# library in the package or in glibc, print its version, serve the demo model and answer requests.
#   tests/deploy/test_tarball.sh [dist/ovms-<version>-linux-x86_64.tar.gz]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
version=$(sed -nE 's/^project\(ovms_cpp VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")
tarball=$(readlink -f "${1:-$root/dist/ovms-$version-linux-x86_64.tar.gz}")
[ -f "$tarball" ] || fail "$tarball not found (make dist)"
[[ "$(basename "$tarball")" == "ovms-$version-linux-x86_64.tar.gz" ]] || fail "tarball name does not carry version $version"
dbg="${tarball%.tar.gz}-dbg.tar.gz"
[ -f "$dbg" ] || fail "$dbg not found"

work=$(mktemp -d /tmp/ovms-tarball-test.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/pkg" "$work/dbg"
tar -xzf "$tarball" -C "$work/pkg"
tar -xzf "$dbg" -C "$work/dbg"
pkg="$work/pkg/ovms"

echo "== layout"
[ -x "$pkg/bin/ovms" ] || fail "bin/ovms missing"
[ -f "$pkg/lib/libonnxruntime.so.1" ] || fail "lib/libonnxruntime.so.1 missing"
ls "$pkg"/lib/libgrpc++.so.* "$pkg"/lib/libprotobuf.so.* >/dev/null || fail "grpc/protobuf not bundled"
ls "$pkg"/lib/libc.so* "$pkg"/lib/libm.so* "$pkg"/lib/ld-linux* 2>/dev/null && fail "glibc must not be bundled"
[ -s "$pkg/licenses/onnxruntime/LICENSE" ] || fail "ONNX Runtime license missing"
for lib in "$pkg"/lib/*; do
  [ "$(readelf -d "$lib" | sed -nE 's/.*\((RUNPATH|RPATH)\).*\[(.*)\]/\2/p')" = '$ORIGIN' ] || fail "$lib has no \$ORIGIN runpath"
done
[ "$(readelf -d "$pkg/bin/ovms" | sed -nE 's/.*\((RUNPATH|RPATH)\).*\[(.*)\]/\2/p')" = '$ORIGIN/../lib' ] ||
  fail "bin/ovms runpath is not \$ORIGIN/../lib"
# Every bundled library has its license text (Debian copyright file or the npm package's LICENSE).
n_licenses=$(find "$pkg/licenses" -type f | wc -l)
[ "$n_licenses" -ge 5 ] || fail "only $n_licenses license files"

echo "== symbols split into the -dbg tarball"
readelf -S "$pkg/bin/ovms" | grep -q '\.symtab' && fail "bin/ovms is not stripped"
readelf -S "$pkg/bin/ovms" | grep -q '\.gnu_debuglink' || fail "bin/ovms has no debuglink"
[ -s "$work/dbg/ovms/bin/.debug/ovms.debug" ] || fail "-dbg tarball has no bin/.debug/ovms.debug"
readelf -S "$work/dbg/ovms/bin/.debug/ovms.debug" 2>/dev/null | grep -q '\.symtab' || fail "ovms.debug has no symbols"

# Everything below runs with the checkout (sources, build trees, third_party/) hidden.
# Called only in a subshell ($(...) or &): it execs, so a background job's PID is the server's.
hidden() {
  if [ "$(id -u)" -eq 0 ] && unshare --mount true 2>/dev/null; then
    exec unshare --mount --propagation private bash -c 'mount -t tmpfs none "$1" && shift && cd / && exec env -i PATH=/usr/bin:/bin "$@"' \
      _ "$root" "$@"
  else
    [ "${CI:-}" = true ] && fail "CI must hide the build tree (needs root and unshare)"
    echo "(not root: the build tree stays visible; only ldd paths are checked)" >&2
    cd / && exec env -i PATH=/usr/bin:/bin "$@"
  fi
}

echo "== ldd with the build tree hidden"
ldd_out=$(hidden ldd "$pkg/bin/ovms")
echo "$ldd_out"
grep -q "not found" <<<"$ldd_out" && fail "unresolved libraries"
grep -qF "$root" <<<"$ldd_out" && fail "a library resolves into the checkout $root"
while read -r soname _ path _; do
  case "$(realpath -m "$path")" in
    "$pkg"/lib/*) ;;
    /*) dpkg-query -S "$(basename "$path")" 2>/dev/null | grep -q '^libc6:' || fail "$soname comes from $path, outside the package and glibc" ;;
  esac
done < <(awk '$2 == "=>" {print $1, $2, $3}' <<<"$ldd_out")

echo "== --version"
ver_out=$(hidden "$pkg/bin/ovms" --version)
echo "$ver_out"
sed -n 1p <<<"$ver_out" | grep -qx "OpenVINO Model Server $version" || fail "version line"
sed -n 2p <<<"$ver_out" | grep -qE '^OpenVINO backend ONNX Runtime [0-9]+\.[0-9]+\.[0-9]+$' || fail "ONNX Runtime version line"
grep -qx "Build type: Release" <<<"$ver_out" || fail "not a Release build"
grep -qE '^Git commit: [0-9a-f]{40}(-dirty)?$' <<<"$ver_out" || fail "git commit line"

echo "== serve the demo model from the unpacked package"
mkdir -p "$work/models"
cp -r "$root/models/demo_classifier" "$work/models/demo"
grpc_port=$(free_port); rest_port=$(free_port)
hidden "$pkg/bin/ovms" --model_name demo --model_path "$work/models/demo" --port "$grpc_port" --rest_port "$rest_port" \
  > "$work/ovms.log" 2>&1 &
pid=$!
wait_http "http://127.0.0.1:$rest_port/v1/models/demo" 60 AVAILABLE || { cat "$work/ovms.log"; fail "model not AVAILABLE"; }
tfs_rest_predict "http://127.0.0.1:$rest_port" demo
kserve_rest_infer "http://127.0.0.1:$rest_port" demo
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || { cat "$work/ovms.log"; fail "ovms exited with $rc on SIGTERM"; }
echo "1 passed, 0 failed"
