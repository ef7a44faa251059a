#!/usr/bin/env bash
# Engine benchmark: our engine::OnnxModel (bench/engine_bench.cpp) against ONNX Runtime from Microsoft's
# onnxruntime-node npm package (bench/node/ort_bench.js), same model, input, thread count and session
# settings, run alternately in one go. Prints batch-1 median latency and batch-N throughput of each,
# and the ratios ours/peer.
#
#   tools/bench_engine.sh                      # ResNet-50, MobileNetV2, demo_classifier
#   THREADS=2 RUNS=30 ROUNDS=2 BATCH=8 MODELS="resnet50 mobilenetv2 demo" tools/bench_engine.sh
#
# Env: BUILD_DIR (default build-bench; configured and built here if needed), THREADS (intra-op threads,
# default 2 = the cores of the reference machine), RUNS (timed runs per phase, default 30), WARMUP (5),
# ROUNDS (default 2: ours, peer, then peer, ours, ...; the best median of each engine is kept, which filters
# out bursts of load from other processes), BATCH (8), MAX_SECONDS (per phase, 120).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build-bench}
THREADS=${THREADS:-2}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-2}
BATCH=${BATCH:-8}
MAX_SECONDS=${MAX_SECONDS:-120}
MODELS=${MODELS:-"resnet50 mobilenetv2 demo"}
PY=/usr/bin/python3   # Debian's python3 (python3-onnx, python3-numpy); not pyenv's

# 1. Our benchmark binary.
if [[ ! -f $BUILD_DIR/build.ninja ]]; then cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null; fi
ninja -C "$BUILD_DIR" engine_bench >/tmp/bench_engine_build.$$.log 2>&1 || { cat /tmp/bench_engine_build.$$.log >&2; exit 1; }
rm -f /tmp/bench_engine_build.$$.log
ours=$BUILD_DIR/bench/engine_bench

# 2. The peer: onnxruntime-node 1.30.0 from package-lock.json (sha512 integrity), no install script
#    (nothing is downloaded besides the npm tarballs), then the bundled Linux binaries' sha256.
if [[ ! -f bench/node/node_modules/onnxruntime-node/package.json ]]; then
  (cd bench/node && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
(cd bench/node && sha256sum --quiet -c SHA256SUMS)

# 3. Models (random weights, fixed seed).
if [[ ! -f bench/models/resnet50/1/model.onnx || ! -f bench/models/mobilenetv2/1/model.onnx ]]; then
  $PY bench/make_bench_models.py >/dev/null
fi
model_path() {
  case $1 in
    demo) echo models/demo_classifier/1/model.onnx ;;
    *) echo "bench/models/$1/1/model.onnx" ;;
  esac
}

out=$(mktemp -d /tmp/bench_engine.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# threads=$THREADS runs=$RUNS warmup=$WARMUP rounds=$ROUNDS batch=$BATCH"
for m in $MODELS; do
  p=$(model_path "$m")
  args=(--model "$p" --threads "$THREADS" --runs "$RUNS" --warmup "$WARMUP" --batch "$BATCH" --max-seconds "$MAX_SECONDS")
  for ((r = 1; r <= ROUNDS; r++)); do
    order=(ours peer); ((r % 2)) || order=(peer ours)   # alternate who runs first
    for who in "${order[@]}"; do
      if [[ $who == ours ]]; then timeout 900 "$ours" "${args[@]}" | sed "s/^/$m ours /" >>"$out/results"
      else timeout 900 node bench/node/ort_bench.js "${args[@]}" | sed "s/^/$m peer /" >>"$out/results"; fi
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

$PY - "$out/results" "$BATCH" <<'PY'
import json, sys
rows, runs = {}, {}
for line in open(sys.argv[1]):
    model, who, js = line.split(" ", 2)
    r = json.loads(js)
    runs.setdefault(f"{model} {who}", []).append(f"{r['b1_median_ms']:.3f}/{r['bn_items_per_s']:.1f}")
    best = rows.setdefault(model, {}).get(who)
    if best is None:
        rows[model][who] = dict(r, b1=r["b1_median_ms"], bn=r["bn_items_per_s"])
    else:  # best of the rounds: lowest batch-1 median, highest batch-N throughput
        best["b1"] = min(best["b1"], r["b1_median_ms"])
        best["bn"] = max(best["bn"], r["bn_items_per_s"])
batch = sys.argv[2]
print(f"| model | ours b1 ms | peer b1 ms | latency ours/peer | ours b{batch} items/s | peer b{batch} items/s "
      f"| throughput ours/peer | outputs agree |")
print("|---|---|---|---|---|---|---|---|")
for model, r in rows.items():
    o, p = r["ours"], r["peer"]
    agree = abs(o["checksum"] - p["checksum"]) <= 1e-3 * max(1.0, abs(p["checksum"]))
    print(f"| {model} | {o['b1']:.3f} | {p['b1']:.3f} | {o['b1'] / p['b1']:.2f}x | {o['bn']:.1f} | {p['bn']:.1f} "
          f"| {o['bn'] / p['bn']:.2f}x | {'yes' if agree else 'NO'} (checksum {o['checksum']:.6g} / {p['checksum']:.6g}) |")
print("\nevery round (b1 median ms / items/s): " + "; ".join(f"{k} {' '.join(v)}" for k, v in runs.items()))
first = next(iter(rows.values()))
print(f"\nours: {first['ours']['engine']}; peer: {first['peer']['engine']}")
print("latency ratio <= 1.00x: our engine is at least as fast at batch 1; throughput ratio >= 1.00x: at least as fast at batch "
      f"{batch}. Differences within about +-10% are noise on this machine.")
PY
