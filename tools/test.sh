#!/usr/bin/env bash
# Builds and runs every test: a RelWithDebInfo build, then the same suite under AddressSanitizer
# and UndefinedBehaviorSanitizer. Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
echo "== build (RelWithDebInfo)"
BUILD_DIR="$root/build" bash "$root/tools/build.sh"
echo "== tests (RelWithDebInfo)"
ctest --test-dir "$root/build" -j "$jobs" --output-on-failure --timeout 900
if [ "${OVMS_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
  BUILD_DIR="$root/build-asan" bash "$root/tools/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOVMS_SANITIZE=ON
  echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0" \
  LSAN_OPTIONS="suppressions=$root/tools/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/tools/ubsan.supp" \
    ctest --test-dir "$root/build-asan" -j "$jobs" --output-on-failure --timeout 1800
fi
echo "== all tests passed"
