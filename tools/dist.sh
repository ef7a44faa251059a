#!/usr/bin/env bash
# Builds the release package: a Release build of ovms in its own build folder, its symbols split
# into a -dbg tarball, every shared library it needs that glibc does not provide bundled under
# lib/ (found through an $ORIGIN-relative rpath), and the licenses of what is bundled.
#
#   tools/dist.sh                 -> dist/ovms-<version>-linux-x86_64.tar.gz (+ -dbg.tar.gz)
#   env: BUILD_DIR (default build-release), DIST_DIR (default dist), JOBS (default 2),
#        OVMS_GIT_COMMIT (commit printed by --version when there is no .git, e.g. in a container build),
#        DIST_SKIP_BUILD=1 (package an existing $BUILD_DIR/src/ovms as it is)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${BUILD_DIR:-$root/build-release}"
dist="${DIST_DIR:-$root/dist}"
jobs="${JOBS:-2}"
version=$(sed -nE 's/^project\(ovms_cpp VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")
[ -n "$version" ] || { echo "dist: no project version in CMakeLists.txt" >&2; exit 1; }
name="ovms-$version-linux-x86_64"
for tool in patchelf objcopy ldd; do
  command -v "$tool" >/dev/null || { echo "dist: $tool is missing (tools/install_deps.sh installs it)" >&2; exit 1; }
done

if [ "${DIST_SKIP_BUILD:-0}" != "1" ]; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  bash "$root/tools/fetch_onnxruntime.sh"
  # OVMS_TEST_DIRS=none: the package needs only the server, not the test binaries.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOVMS_TEST_DIRS=none \
        -DOVMS_GIT_COMMIT="${OVMS_GIT_COMMIT:-}" >/dev/null
  cmake --build "$build" --target ovms -j "$jobs"
fi
binary="$build/src/ovms"
[ -x "$binary" ] || { echo "dist: $binary not built" >&2; exit 1; }
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt" ||
  { echo "dist: $build is not a Release build" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg="$work/ovms"
mkdir -p "$pkg/bin" "$pkg/lib" "$pkg/licenses" "$work/dbg/ovms/bin/.debug"
cp "$binary" "$pkg/bin/ovms"

# Symbols go to bin/.debug/ovms.debug (where gdb looks for a debuglink): unpack the -dbg tarball
# over the release one to debug it.
objcopy --only-keep-debug "$pkg/bin/ovms" "$work/dbg/ovms/bin/.debug/ovms.debug"
objcopy --strip-all "$pkg/bin/ovms"
(cd "$work/dbg/ovms/bin/.debug" && objcopy --add-gnu-debuglink=ovms.debug "$pkg/bin/ovms")

# Libraries owned by glibc (libc6) are on every Linux system and must match its loader; everything
# else, libstdc++ and libgcc_s included, is bundled so the package runs wherever glibc is as new
# as the build machine's.
declare -A license_pkgs=()
# The Debian package owning each library file: dpkg records /lib or /usr/lib (whichever the package
# shipped) and the versioned file or its symlink, so every spelling is looked up.
mapfile -t deps < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
candidates=()
for dep in "${deps[@]}"; do
  path=${dep#* }; real=$(readlink -f "$path")
  for p in "$path" "$real"; do candidates+=("${p#/usr}" "/usr${p#/usr}"); done
  candidates+=("$(dirname "${path#/usr}")/$(basename "$real")" "/usr$(dirname "${path#/usr}")/$(basename "$real")")
done
declare -A owner_of=()
# dpkg-query -S takes a second per pattern here; the file lists answer all of them in one grep.
while IFS= read -r line; do
  list=${line%%:/*}; list=$(basename "$list" .list)
  owner_of[/${line#*:/}]=${list%%:*}
done < <(printf '%s\n' "${candidates[@]}" | sort -u | grep -Fx -f - /var/lib/dpkg/info/*.list || true)
owning_package() {
  local path=$1 real p
  real=$(readlink -f "$path")
  for p in "${path#/usr}" "/usr${path#/usr}" "${real#/usr}" "/usr${real#/usr}" \
           "$(dirname "${path#/usr}")/$(basename "$real")" "/usr$(dirname "${path#/usr}")/$(basename "$real")"; do
    [ -n "${owner_of[$p]:-}" ] && { echo "${owner_of[$p]}"; return 0; }
  done
  return 0
}
for dep in "${deps[@]}"; do
  soname=${dep%% *}; path=${dep#* }
  owner=$(owning_package "$path")
  [ "$owner" = "libc6" ] && continue
  cp -L "$path" "$pkg/lib/$soname"
  chmod 0644 "$pkg/lib/$soname"
  if [ -n "$owner" ]; then
    license_pkgs[$owner]=1
  elif [[ "$soname" == libonnxruntime.so* ]]; then
    license_pkgs[onnxruntime]=1
  else
    echo "dist: $path belongs to no Debian package and has no known license" >&2; exit 1
  fi
done

# Each bundled library finds its own dependencies next to itself (a RUNPATH is not inherited).
patchelf --set-rpath '$ORIGIN/../lib' "$pkg/bin/ovms"
for lib in "$pkg"/lib/*; do patchelf --set-rpath '$ORIGIN' "$lib"; done

for owner in "${!license_pkgs[@]}"; do
  if [ "$owner" = onnxruntime ]; then
    # The license texts ship in the pinned npm package that fetch_onnxruntime.sh caches.
    ort_pkg=$(sed -nE 's/^pkg="(.*)"/\1/p' "$root/tools/fetch_onnxruntime.sh")
    ort_ver=$(sed -nE 's/^ver="(.*)"/\1/p' "$root/tools/fetch_onnxruntime.sh")
    tgz="${ORT_CACHE:-$HOME/.cache/ovms-ort}/$ort_pkg-$ort_ver.tgz"
    [ -f "$tgz" ] || ORT_DEST="$work/ort" bash "$root/tools/fetch_onnxruntime.sh" >/dev/null
    mkdir -p "$pkg/licenses/onnxruntime"
    tar -xzf "$tgz" -C "$pkg/licenses/onnxruntime" --strip-components=1 package/LICENSE package/ThirdPartyNotices.txt
  else
    src_pkg=${owner%%:*}
    [ -f "/usr/share/doc/$src_pkg/copyright" ] || { echo "dist: no copyright file for $src_pkg" >&2; exit 1; }
    mkdir -p "$pkg/licenses/$src_pkg"
    cp "/usr/share/doc/$src_pkg/copyright" "$pkg/licenses/$src_pkg/copyright"
  fi
done

commit=$("$pkg/bin/ovms" --version | sed -n 's/^Git commit: //p')
cat > "$pkg/README" <<TXT
ovms $version (git commit $commit), Release build for Linux x86-64 (glibc $(ldd --version | head -1 | awk '{print $NF}') or newer).
Run: bin/ovms --model_name NAME --model_path DIR --port 9000 --rest_port 8000   (bin/ovms --help lists every flag)
lib/ holds the shared libraries it needs besides glibc; licenses/ their license texts.
Debug symbols: unpack $name-dbg.tar.gz over this folder (bin/.debug/ovms.debug).
TXT

mkdir -p "$dist"
# Reproducible member order and ownership.
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$work" -czf "$dist/$name.tar.gz.tmp" ovms
mv "$dist/$name.tar.gz.tmp" "$dist/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$work/dbg" -czf "$dist/$name-dbg.tar.gz.tmp" ovms
mv "$dist/$name-dbg.tar.gz.tmp" "$dist/$name-dbg.tar.gz"
echo "dist: $dist/$name.tar.gz ($(du -h "$dist/$name.tar.gz" | cut -f1)), $dist/$name-dbg.tar.gz"
