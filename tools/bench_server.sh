#!/usr/bin/env bash
# Server benchmark: ovms against bare echo servers built on the same transport code, same load,
# same machine, one run. Prints req/s and latency of each and the ratios ovms/echo.
#
#   gRPC  ovms (demo, add_one)  vs bench/grpc_echo_server (PredictionService/Predict returning the inputs)
#         load: bench/grpc_load (closed loop, CONCURRENCY calls in flight, one connection each)
#   REST  ovms TFS :predict     vs bench/http_echo_server (ovms_http, handler returns the body)
#         load: wrk -t1 -cCONCURRENCY (Lua POST body), apt-get install -y wrk
#
# Requests: "small" = demo model, 1x4 floats; "large" = add_one model (y = x + 1), 1x3x224x224 floats
# (gRPC: tensor_content, 602 KB; REST: {"instances": [...]} JSON, about 1 MB). The echo servers get the
# same bytes (they ignore the model name).
#
#   tools/bench_server.sh
#   SECONDS_PER_RUN=10 CONCURRENCY=8 ROUNDS=3 tools/bench_server.sh
#
# Env: BUILD_DIR (default build-bench), OVMS_BIN (an ovms binary to use instead of building
# $BUILD_DIR/src/ovms), SECONDS_PER_RUN (measured seconds per run, default 10, after
# 1 s warm-up), CONCURRENCY (8), ROUNDS (3; each round runs ovms and echo back to back, in alternating order;
# the best req/s of each is kept with that run's latencies), RAW (1 = also print every run's JSON line), BASE_PORT (default 9610; uses BASE_PORT..BASE_PORT+3 on 127.0.0.1).
# Everything listens on 127.0.0.1 only and is stopped by its PID on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build-bench}
SECS=${SECONDS_PER_RUN:-10}
CONC=${CONCURRENCY:-8}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-9610}
PY=/usr/bin/python3
OVMS_GRPC=$BASE_PORT OVMS_REST=$((BASE_PORT + 1)) ECHO_GRPC=$((BASE_PORT + 2)) ECHO_REST=$((BASE_PORT + 3))

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
if [[ ! -f $BUILD_DIR/build.ninja ]]; then cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null; fi
OVMS_BIN=${OVMS_BIN:-}   # set to benchmark an ovms binary built elsewhere (then it is not rebuilt here)
targets=(grpc_echo_server http_echo_server grpc_load)
[[ -n $OVMS_BIN ]] || { targets+=(ovms); OVMS_BIN=$BUILD_DIR/src/ovms; }
ninja -C "$BUILD_DIR" "${targets[@]}" >/tmp/bench_server_build.$$.log 2>&1 ||
  { cat /tmp/bench_server_build.$$.log >&2; exit 1; }
rm -f /tmp/bench_server_build.$$.log
[[ -f bench/models/add_one/1/model.onnx ]] || $PY bench/make_bench_models.py >/dev/null

tmp=$(mktemp -d /tmp/bench_server.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $OVMS_GRPC $OVMS_REST $ECHO_GRPC $ECHO_REST; do
  port_free "$p" || { echo "port $p on 127.0.0.1 is busy; set BASE_PORT" >&2; exit 1; }
done

# Request bodies (same values as grpc_load: x[i] = ((i * 7919) % 1000) / 1000 - 0.5).
$PY - "$tmp" <<'PY'
import json, sys
import numpy as np
d = sys.argv[1]
def body(shape):
    n = int(np.prod(shape))
    x = (((np.arange(n) * 7919) % 1000) / 1000.0 - 0.5).astype(np.float32).reshape(shape)
    return json.dumps({"instances": x.tolist()}, separators=(",", ":"))
open(f"{d}/small.json", "w").write(body((1, 4)))
open(f"{d}/large.json", "w").write(body((1, 3, 224, 224)))
PY
cat >"$tmp/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
cat >"$tmp/config.json" <<JSON
{"model_config_list": [
  {"config": {"name": "demo", "base_path": "$root/models/demo_classifier"}},
  {"config": {"name": "add_one", "base_path": "$root/bench/models/add_one"}}
]}
JSON

"$OVMS_BIN" --config_path "$tmp/config.json" --port "$OVMS_GRPC" --rest_port "$OVMS_REST" \
  --grpc_bind_address 127.0.0.1 --rest_bind_address 127.0.0.1 --log_level WARNING >"$tmp/ovms.log" 2>&1 &
pids+=($!)
"$BUILD_DIR/bench/grpc_echo_server" --port "$ECHO_GRPC" --address 127.0.0.1 >"$tmp/grpc_echo.log" 2>&1 &
pids+=($!)
"$BUILD_DIR/bench/http_echo_server" --port "$ECHO_REST" --address 127.0.0.1 >"$tmp/http_echo.log" 2>&1 &
pids+=($!)

ready=0
for _ in $(seq 1 300); do  # up to 30 s
  if curl -sf "http://127.0.0.1:$OVMS_REST/v1/models/demo" 2>/dev/null | grep -q AVAILABLE &&
     curl -sf "http://127.0.0.1:$OVMS_REST/v1/models/add_one" 2>/dev/null | grep -q AVAILABLE &&
     ! port_free "$ECHO_GRPC" && ! port_free "$ECHO_REST"; then ready=1; break; fi
  sleep 0.1
done
if [[ $ready != 1 ]]; then echo "servers did not start; ovms log:" >&2; cat "$tmp/ovms.log" >&2; exit 1; fi

# One checked REST call each (status 200 and a "predictions" member from ovms).
for m in demo:small add_one:large; do
  curl -sf -o "$tmp/check.json" -X POST --data-binary "@$tmp/${m#*:}.json" \
    "http://127.0.0.1:$OVMS_REST/v1/models/${m%%:*}:predict" && grep -q predictions "$tmp/check.json" ||
    { echo "ovms REST check failed for ${m%%:*}" >&2; exit 1; }
done

# run_grpc <label> <port> <model> <input> <shape>
run_grpc() {
  local out
  out=$(timeout $((SECS + 90)) "$BUILD_DIR/bench/grpc_load" --target "127.0.0.1:$2" --model "$3" --input "$4" \
        --shape "$5" --concurrency "$CONC" --seconds "$SECS" --warmup-seconds 1) || { echo "grpc_load failed: $1" >&2; exit 1; }
  echo "$1 $out" >>"$tmp/results"
}
# run_rest <label> <url> <body>
run_rest() {
  local out
  out=$(BODY="$3" timeout $((SECS + 90)) wrk -t1 -c"$CONC" -d"$((SECS + 1))s" --latency -s "$tmp/post.lua" "$2")
  echo "$1 $($PY - <<PY
import json, re
t = """$out"""
def ms(v, u): return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
lat = dict((p, ms(v, u)) for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", t, re.M))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: (.*)", t)
print(json.dumps({"req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
                  "p50_ms": lat.get("50"), "p90_ms": lat.get("90"), "p99_ms": lat.get("99"),
                  "errors": int(bad.group(1)) if bad else 0, "socket_errors": err.group(1) if err else ""}))
PY
)" >>"$tmp/results"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# concurrency=$CONC seconds=$SECS (+1 s warm-up) rounds=$ROUNDS; gRPC client: bench/grpc_load (1 thread, $CONC connections); REST client: wrk -t1 -c$CONC"
for ((r = 1; r <= ROUNDS; r++)); do
  # Odd rounds run ovms first, even rounds the echo server first, so neither always gets the quieter slot.
  order=(ovms echo); ((r % 2)) || order=(echo ovms)
  for who in "${order[@]}"; do
    if [[ $who == ovms ]]; then gp=$OVMS_GRPC rp=$OVMS_REST; else gp=$ECHO_GRPC rp=$ECHO_REST; fi
    run_grpc "grpc-small $who" "$gp" demo features 1,4
  done
  for who in "${order[@]}"; do
    if [[ $who == ovms ]]; then gp=$OVMS_GRPC; else gp=$ECHO_GRPC; fi
    run_grpc "grpc-large $who" "$gp" add_one x 1,3,224,224
  done
  for who in "${order[@]}"; do
    if [[ $who == ovms ]]; then rp=$OVMS_REST; else rp=$ECHO_REST; fi
    run_rest "rest-small $who" "http://127.0.0.1:$rp/v1/models/demo:predict" "$tmp/small.json"
  done
  for who in "${order[@]}"; do
    if [[ $who == ovms ]]; then rp=$OVMS_REST; else rp=$ECHO_REST; fi
    run_rest "rest-large $who" "http://127.0.0.1:$rp/v1/models/add_one:predict" "$tmp/large.json"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -z ${RAW:-} ]] || cat "$tmp/results"   # RAW=1: every run's JSON line

$PY - "$tmp/results" <<'PY'
import json, sys
best, runs = {}, {}
for line in open(sys.argv[1]):
    case, who, js = line.split(" ", 2)
    r = json.loads(js)
    runs.setdefault(f"{case} {who}", []).append(f"{r['req_per_s']:.0f}")
    cur = best.setdefault(case, {}).get(who)
    if cur is None or r["req_per_s"] > cur["req_per_s"]:
        best[case][who] = r
print("| case | ovms req/s | echo req/s | req/s ovms/echo | ovms p50 ms | echo p50 ms | p50 ovms/echo "
      "| ovms p99 ms | echo p99 ms | p99 ovms/echo | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for case, r in best.items():
    o, e = r["ovms"], r["echo"]
    errs = sum(int(x.get("errors", 0)) for x in (o, e))
    print(f"| {case} | {o['req_per_s']:.0f} | {e['req_per_s']:.0f} | {o['req_per_s'] / e['req_per_s']:.2f}x "
          f"| {o['p50_ms']:.3f} | {e['p50_ms']:.3f} | {o['p50_ms'] / e['p50_ms']:.2f}x "
          f"| {o['p99_ms']:.3f} | {e['p99_ms']:.3f} | {o['p99_ms'] / e['p99_ms']:.2f}x | {errs} |")
print("\nreq/s of every run (in order): " + "; ".join(f"{k} {' '.join(v)}" for k, v in runs.items()))
print("\nreq/s ratio 1.00x = ovms serves as many requests as a server that only parses and echoes them; "
      "latency ratios > 1.00x are the cost of validation, inference and response building on top of the transport.")
PY
