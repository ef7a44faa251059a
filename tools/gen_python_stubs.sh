#!/usr/bin/env bash
# Generate Python protobuf + gRPC modules for src/api/proto/*.proto.
#
#   tools/gen_python_stubs.sh OUTDIR
#
# Afterwards, with OUTDIR on sys.path:
#   from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
#   from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
# Uses Debian's /usr/bin/protoc and /usr/bin/grpc_python_plugin so the output
# matches the installed python3-protobuf / python3-grpcio.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROTO_ROOT="$(cd "${HERE}/../src/api/proto" && pwd)"
PROTOC="${PROTOC:-/usr/bin/protoc}"
GRPC_PY_PLUGIN="${GRPC_PY_PLUGIN:-/usr/bin/grpc_python_plugin}"
OUTDIR="$1"

mkdir -p "${OUTDIR}"
OUTDIR="$(cd "${OUTDIR}" && pwd)"

cd "${PROTO_ROOT}"
mapfile -t PROTOS < <(find . -name '*.proto' | sed 's|^\./||' | sort)
if [[ ${#PROTOS[@]} -eq 0 ]]; then
  echo "no .proto files under ${PROTO_ROOT}" >&2
  exit 1
fi

"${PROTOC}" --proto_path="${PROTO_ROOT}" \
  --python_out="${OUTDIR}" \
  --grpc_python_out="${OUTDIR}" \
  --plugin=protoc-gen-grpc_python="${GRPC_PY_PLUGIN}" \
  "${PROTOS[@]}"

# Make every generated directory a regular package.
find "${OUTDIR}" -name '*_pb2.py' -printf '%h\n' | sort -u | while read -r dir; do
  while [[ "${dir}" != "${OUTDIR}" && "${dir}" == "${OUTDIR}"/* ]]; do
    [[ -f "${dir}/__init__.py" ]] || : > "${dir}/__init__.py"
    dir="$(dirname "${dir}")"
  done
done

echo "python stubs for ${#PROTOS[@]} protos written to ${OUTDIR}"
