#!/usr/bin/env bash
# Starts ovms on the bundled demo model (gRPC 9178, REST 8000) and prints how to query it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cat <<'TXT'
Serving model "demo" (models/demo_classifier): gRPC on :9178, REST on :8000. Ctrl-C stops it.

REST (TF-Serving API):
  curl -s localhost:8000/v1/models/demo
  curl -s -X POST localhost:8000/v1/models/demo:predict -d '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.8, 2.2]]}'

gRPC (TF-Serving PredictionService, python3-grpcio with stubs from our protos):
  tools/gen_python_stubs.sh /tmp/ovms-stubs
  PYTHONPATH=/tmp/ovms-stubs /usr/bin/python3 tools/grpc_predict_example.py localhost:9178
TXT
exec "$root/build/src/ovms" --model_name demo --model_path "$root/models/demo_classifier" --port 9178 --rest_port 8000 "$@"
