#!/usr/bin/env bash
# Runs one libFuzzer target for a while: run_fuzz.sh <binary> <seconds> <seed dir> [<regression dir>]
# Works on a scratch copy of the seeds (the committed corpus stays as it is). A crash, leak, UBSan
# report or timeout fails the run; the input is saved as crash-*/timeout-* in $OVMS_FUZZ_ARTIFACTS
# (default: the scratch directory) and belongs in tests/fuzz/regressions/<target>/ once fixed.
set -euo pipefail
bin=$1 seconds=$2 seeds=$3 regressions=${4:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/ovms-fuzz-XXXXXX")
artifacts=${OVMS_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$work/corpus" "$artifacts"
cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
dirs=("$work/corpus")
[ -n "$regressions" ] && [ -d "$regressions" ] && dirs+=("$regressions")
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0}"
supp="$(cd "$(dirname "$0")/../.." && pwd)/tools/ubsan.supp"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$supp}"
set +e
# A fixed seed by default, so that a CI run explores what the previous one did (a red run is a
# finding, not luck); OVMS_FUZZ_SEED=0 lets libFuzzer pick one for longer local runs.
"$bin" -seed="${OVMS_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$(basename "$bin")-" "${dirs[@]}"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "fuzzing $(basename "$bin") failed (exit $rc); inputs kept in $artifacts:" >&2
  ls -l "$artifacts" >&2
  exit $rc
fi
rm -rf "$work"
