# Helpers shared by the deploy tests (sourced).
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_http URL SECONDS [EXPECTED_BODY_SUBSTRING]: polls until the URL answers 200 (and contains the text).
wait_http() {
  local url=$1 deadline=$((SECONDS + $2)) want=${3:-} body
  while [ $SECONDS -lt $deadline ]; do
    if body=$(curl -sf --max-time 5 "$url" 2>/dev/null) && [[ -z "$want" || "$body" == *"$want"* ]]; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}
# The demo model's two requests, one per API family; each checks the answer's shape and values.
tfs_rest_predict() {  # BASE_URL MODEL
  local out
  out=$(curl -sf --max-time 30 -X POST "$1/v1/models/$2:predict" -d '{"instances": [[5.1, 3.5, 1.4, 0.2]]}') ||
    fail "TF-Serving predict on $1 failed"
  /usr/bin/python3 - "$out" <<'PY' || fail "TF-Serving predict answer: $out"
import json, sys
p = json.loads(sys.argv[1])["predictions"]
assert len(p) == 1 and len(p[0]) == 3 and abs(sum(p[0]) - 1) < 1e-4 and max(p[0]) == p[0][0], p
PY
}
kserve_rest_infer() {  # BASE_URL MODEL
  local out
  out=$(curl -sf --max-time 30 -X POST "$1/v2/models/$2/infer" \
        -d '{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}') ||
    fail "KServe infer on $1 failed"
  /usr/bin/python3 - "$out" <<'PY' || fail "KServe infer answer: $out"
import json, sys
o = json.loads(sys.argv[1])["outputs"][0]
assert o["name"] == "probabilities" and o["shape"] == [1, 3] and o["datatype"] == "FP32", o
assert abs(sum(o["data"]) - 1) < 1e-4 and max(o["data"]) == o["data"][0], o
PY
}
