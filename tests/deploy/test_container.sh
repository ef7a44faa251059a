#!/usr/bin/env bash
# The container image for real: `make docker_build` (docker, or podman here) from the dist tarball,
# then the deployment guide's `docker run` line (model mounted read-only, TF-Serving and KServe
# requests), the config.json form with an environment variable passed with -e, the image's
# HEALTHCHECK, its non-root user and labels, and a clean stop on SIGTERM within a few seconds.
#   tests/deploy/test_container.sh          (needs dist/ovms-<version>-linux-x86_64.tar.gz)
#   FROM_SOURCE=1 tests/deploy/test_container.sh   the multi-stage build compiles the server in the image
#   BASE_OS=ubuntu tests/deploy/test_container.sh  the runtime stage on Ubuntu 24.04 (default Debian 12)
#   IMAGE_PREBUILT=1 IMAGE=<image> tests/deploy/test_container.sh   tests an image built before, as it is
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
source "$root/tools/container_engine.sh"
version=$(sed -nE 's/^project\(ovms_cpp VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")
IMAGE="${IMAGE:-ovms:latest}"

if [ "${IMAGE_PREBUILT:-0}" != 1 ]; then
  echo "== make docker_build ($ENGINE, FROM_SOURCE=${FROM_SOURCE:-0})"
  start=$SECONDS
  (cd "$root" && IMAGE="$IMAGE" FROM_SOURCE="${FROM_SOURCE:-0}" bash tools/container_build.sh)
  echo "image built in $((SECONDS - start)) s"
fi

echo "== base OS (BASE_OS=${BASE_OS:-debian})"
os_id=$(engine run --rm --entrypoint /bin/sh "$IMAGE" -c '. /etc/os-release && echo "$ID $VERSION_ID"')
case "${BASE_OS:-debian}" in
  debian) [[ "$os_id" == "debian 12" ]] || fail "base OS: $os_id, expected debian 12" ;;
  ubuntu) [[ "$os_id" == "ubuntu 24.04" ]] || fail "base OS: $os_id, expected ubuntu 24.04" ;;
esac
echo "$os_id"

echo "== image configuration"
cfg=$(engine image inspect "$IMAGE")
/usr/bin/python3 - "$cfg" "$version" <<'PY' || fail "image configuration"
import json, sys
image, version = json.loads(sys.argv[1])[0], sys.argv[2]
c = image["Config"]
assert c["User"] not in ("", "0", "root") and not c["User"].startswith("0:"), c["User"]
assert c["Entrypoint"] == ["/ovms/bin/ovms"], c["Entrypoint"]
assert c["Labels"]["org.opencontainers.image.version"] == version, c["Labels"]
assert len(c["Labels"]["org.opencontainers.image.revision"]) >= 40, c["Labels"]
hc = c.get("Healthcheck") or image.get("Healthcheck") or {}  # docker: in Config; podman: beside it
assert hc.get("Test") == ["CMD", "/usr/local/bin/ovms-healthcheck"], hc
ports = c.get("ExposedPorts") or {}
assert "9000/tcp" in ports and "8000/tcp" in ports, ports
PY

work=$(mktemp -d /tmp/ovms-container-test.XXXXXX)
containers=()
cleanup() {
  for c in "${containers[@]}"; do engine rm -f "$c" >/dev/null 2>&1 || true; done
  # Layers of the images this run replaced.
  engine image prune -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# The container runs as uid 5000: the mounted folders must be readable by others.
chmod 755 "$work"
mkdir -p "$work/ml" "$work/cfg"
cp -r "$root/models/demo_classifier" "$work/ml/model1"
chmod -R a+rX "$work/ml"

# run NAME GRPC_PORT REST_PORT ENGINE_ARGS... -- SERVER_ARGS...: the guide's `docker run -d` line.
# podman here has host networking (-p does not apply); docker publishes the same port numbers.
run_container() {
  local name=$1 gport=$2 rport=$3; shift 3
  local engine_args=() server_args=()
  while [ "$1" != "--" ]; do engine_args+=("$1"); shift; done; shift
  server_args=("$@")
  if [ "$ENGINE" = podman ]; then
    # No systemd here to run the HEALTHCHECK timer; the check is run by hand below.
    engine_args+=(--network=host --health-interval=disable)
  else
    engine_args+=(-p "$gport:$gport" -p "$rport:$rport")
  fi
  engine run -d --name "$name" "${engine_args[@]}" "$IMAGE" "${server_args[@]}" >/dev/null
  containers+=("$name")
}

echo "== docker run -d -v /models:/opt/ml:ro ... ovms:latest --model_path /opt/ml/model1 --model_name my_model"
gport=$(free_port); rport=$(free_port)
c1="ovms-test-$$-1"
run_container "$c1" "$gport" "$rport" -v "$work/ml:/opt/ml:ro" -- \
  --model_path /opt/ml/model1 --model_name my_model --port "$gport" --rest_port "$rport"
rest="http://127.0.0.1:$rport"
wait_http "$rest/v1/models/my_model" 90 AVAILABLE || { engine logs "$c1" || true; fail "model not AVAILABLE in the container"; }
tfs_rest_predict "$rest" my_model
kserve_rest_infer "$rest" my_model
curl -sf "$rest/v2/health/ready" >/dev/null || fail "KServe ready route"

echo "== non-root user, health check"
uid=$(engine exec "$c1" id -u)
[ "$uid" != 0 ] || fail "the server runs as root"
[ "$(engine exec "$c1" cat /proc/1/status | awk '/^Uid:/ {print $2}')" = "$uid" ] || fail "PID 1 uid"
engine exec "$c1" /usr/local/bin/ovms-healthcheck || fail "HEALTHCHECK command fails on a healthy server"
if [ "$ENGINE" = podman ]; then
  engine healthcheck run "$c1" || fail "podman healthcheck run"
fi
# The model folder is read-only inside.
engine exec "$c1" touch /opt/ml/model1/x 2>/dev/null && fail "the model mount is writable"

echo "== SIGTERM stops the server cleanly"
start=$EPOCHREALTIME
engine stop -t 20 "$c1" >/dev/null
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
exit_code=$(engine inspect --format '{{.State.ExitCode}}' "$c1")
echo "stopped in ${elapsed}s, exit code $exit_code"
[ "$exit_code" = 0 ] || { engine logs "$c1" | tail -20; fail "exit code $exit_code after SIGTERM (SIGKILL gives 137)"; }
# 20 s is the SIGKILL deadline; a clean stop takes well under 10 s even on a loaded machine.
awk -v e="$elapsed" 'BEGIN {exit !(e < 10)}' || fail "stop took ${elapsed}s"

echo "== config.json with --config_path, environment passed with -e"
cat > "$work/cfg/config.json" <<'JSON'
{"model_config_list": [{"config": {"name": "my_model", "base_path": "/opt/ml/model1"}}]}
JSON
chmod a+r "$work/cfg/config.json"
gport=$(free_port); rport=$(free_port)
c2="ovms-test-$$-2"
run_container "$c2" "$gport" "$rport" -v "$work/ml:/opt/ml:ro" -v "$work/cfg:/config:ro" \
  -e AWS_REGION=us-east-1 -e AWS_ACCESS_KEY_ID=test-key -e AWS_SECRET_ACCESS_KEY=test-secret -- \
  --config_path /config/config.json --port "$gport" --rest_port "$rport"
rest="http://127.0.0.1:$rport"
wait_http "$rest/v1/models/my_model" 90 AVAILABLE || { engine logs "$c2" || true; fail "config.json model not AVAILABLE"; }
kserve_rest_infer "$rest" my_model
[ "$(engine exec "$c2" printenv AWS_REGION)" = us-east-1 ] || fail "-e variable not passed"
engine stop -t 20 "$c2" >/dev/null
[ "$(engine inspect --format '{{.State.ExitCode}}' "$c2")" = 0 ] || fail "config.json container exit code"

echo "== ovms --version in the image"
ver_out=$(engine run --rm "$IMAGE" --version)
echo "$ver_out"
sed -n 1p <<<"$ver_out" | grep -qx "OpenVINO Model Server $version" || fail "--version in the image"
grep -qx "Build type: Release" <<<"$ver_out" || fail "image binary is not a Release build"
echo "1 passed, 0 failed"
