#!/usr/bin/env bash
# Resident memory per fixture model (bench/ir_rss_bench.cpp), one fresh process per model, as a markdown table.
#   tools/bench_ir_rss.sh [build_dir] [extra ir_rss_bench args, e.g. --emulation]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${1:-$root/build}"
shift || true
fixtures="$root/../shared/fixtures"
[ -x "$build/bench/ir_rss_bench" ] || cmake --build "$build" --target ir_rss_bench >/dev/null
echo "| model/version | file | weights MiB | 1st load MiB | 1st after request MiB | 2nd load MiB | 2nd after request MiB |"
echo "|---|---|---|---|---|---|---|"
for f in "$fixtures"/omz-ir/*/*/*.xml "$fixtures"/omz-ir/*/*/*.onnx; do
  [ -e "$f" ] || continue
  rel=${f#"$fixtures"/omz-ir/}
  echo "| $(dirname "$rel") | $("$build/bench/ir_rss_bench" "$f" "$@" 2>&1) |"
done
