#!/usr/bin/env bash
# Renders every Kustomize overlay (kubectl kustomize, offline) and checks all manifests under
# deploy/ against the Kubernetes, prometheus-operator and KServe object schemas plus their
# cross-references (validate_manifests.mjs, npm packages pinned in package-lock.json). A broken
# manifest must be caught: the checker is first run on known-bad objects.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
command -v kubectl >/dev/null || fail "kubectl (with kustomize) is required"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# node_modules from the lock file, once (npm ci verifies every package's integrity hash).
if [ ! -f "$here/node_modules/.package-lock.json" ] || ! cmp -s "$here/package-lock.json" "$here/node_modules/.lock-copy"; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) || fail "npm ci in tests/deploy"
  cp "$here/package-lock.json" "$here/node_modules/.lock-copy"
fi

echo "== render"
sets=()
for k in base overlays/pvc-models overlays/cloud-storage; do
  out="$work/$(tr / _ <<<"$k").yaml"
  kubectl kustomize "$root/deploy/kubernetes/$k" > "$out" || fail "kubectl kustomize $k"
  sets+=("$k=$out")
done
kubectl kustomize "$root/deploy/monitoring" > "$work/monitoring.yaml" || fail "kubectl kustomize deploy/monitoring"
sets+=("monitoring=$work/monitoring.yaml")
{ cat "$root/deploy/kserve/servingruntime.yaml"; echo "---"; cat "$root/deploy/kserve/inferenceservice-example.yaml"; } > "$work/kserve.yaml"
sets+=("kserve=$work/kserve.yaml")

grep -q "ovms-storage-credentials" "$work/overlays_cloud-storage.yaml" || fail "cloud-storage overlay has no credentials Secret"
grep -q "claimName: ovms-models" "$work/overlays_pvc-models.yaml" || fail "pvc-models overlay mounts no PVC"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"]' "$root/deploy/monitoring/grafana-dashboard.json" ||
  fail "dashboard JSON"
/usr/bin/python3 -c 'import sys; t=open(sys.argv[1]).read(); assert "metrics_path: /metrics" in t and "scrape_configs:" in t' \
  "$root/deploy/monitoring/prometheus-scrape.yml" || fail "prometheus scrape example"

echo "== the checker rejects broken manifests"
sed -e 's#/v2/health/ready#/v2/health/readyy#' -e 's#containerPort: 9000#containerPort: "nine"#' \
  "$work/base.yaml" > "$work/bad-base.yaml"
sed -e 's#- v2$#- v3#' -e 's#name: onnx#name: onnxx#' "$work/kserve.yaml" > "$work/bad-kserve.yaml"
sed -e 's#interval: 15s#interval: soon#' "$work/monitoring.yaml" > "$work/bad-monitoring.yaml"
for bad in bad-base bad-kserve bad-monitoring; do
  if node "$here/validate_manifests.mjs" "$bad=$work/$bad.yaml" > "$work/$bad.log" 2>&1; then
    fail "$bad.yaml passed the checks"
  fi
  echo "$bad: $(tail -1 "$work/$bad.log")"
done
grep -q "readinessProbe must GET /v2/health/ready" "$work/bad-base.log" || fail "probe path not checked"
grep -q "containerPort must be integer" "$work/bad-base.log" || fail "schema not checked"
grep -q "model format onnx missing" "$work/bad-kserve.log" || fail "runtime formats not checked"
grep -q "protocolVersions" "$work/bad-kserve.log" || fail "KServe schema not checked"

echo "== validate"
node "$here/validate_manifests.mjs" "${sets[@]}" || fail "manifests invalid"
echo "1 passed, 0 failed"
