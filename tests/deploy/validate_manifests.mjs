// Offline checks of rendered manifests: every object against the Kubernetes (kubernetes-models),
// prometheus-operator and KServe (schemas/kserve.json) object schemas, then the cross-references a
// cluster would only reveal at run time (probes on the KServe health routes, Service ports and
// selectors, ConfigMap/Secret/PVC names, ServiceMonitor, runtime model formats).
//   node validate_manifests.mjs <label>=<rendered.yaml> ...    exit 1 with a list of problems
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";
import { validate as validateContainer } from "kubernetes-models/_schemas/IoK8sApiCoreV1Container";

const kserveSchemas = JSON.parse(readFileSync(new URL("./schemas/kserve.json", import.meta.url)));
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(kserveSchemas, "kserve.json");

const problems = [];
const problem = (where, text) => problems.push(`${where}: ${text}`);

async function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return (await import(`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`))[kind];
  }
  const dir = group === "" ? version : `${group}/${version}`;
  return (await import(`kubernetes-models/${dir}/${kind}`))[kind];
}

function kserveValidate(obj, where) {
  const v = ajv.getSchema(`kserve.json#/definitions/${obj.kind}`);
  if (!v) return false;
  if (!v(obj)) for (const e of v.errors) problem(where, `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  const containers = obj.spec?.containers ?? [];
  containers.forEach((c, i) => {
    if (!validateContainer(c)) for (const e of validateContainer.errors) problem(where, `containers/${i}${e.instancePath} ${e.message}`);
  });
  return true;
}

async function schemaCheck(obj, where) {
  if (!obj?.apiVersion || !obj?.kind || !obj?.metadata?.name) return problem(where, "apiVersion, kind and metadata.name are required");
  if (obj.apiVersion.startsWith("serving.kserve.io/")) {
    if (!kserveValidate(obj, where)) problem(where, `no schema for ${obj.apiVersion} ${obj.kind}`);
    return;
  }
  let Cls;
  try { Cls = await modelClass(obj.apiVersion, obj.kind); } catch { Cls = undefined; }
  if (!Cls) return problem(where, `unknown object type ${obj.apiVersion} ${obj.kind}`);
  try { new Cls(obj).validate(); } catch (e) { problem(where, e.message); }
}

const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

function crossCheck(label, objs) {
  for (const d of byKind(objs, "Deployment")) {
    const where = `${label} Deployment/${d.metadata.name}`;
    const pod = d.spec.template;
    if (!matches(d.spec.selector.matchLabels, pod.metadata?.labels)) problem(where, "selector does not match the pod labels");
    if (pod.spec.securityContext?.runAsNonRoot !== true) problem(where, "pods must run as non-root");
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const c of pod.spec.containers) {
      const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      for (const [probe, path] of [["livenessProbe", "/v2/health/live"], ["readinessProbe", "/v2/health/ready"]]) {
        const g = c[probe]?.httpGet;
        if (!g || g.path !== path) problem(where, `${probe} must GET ${path}`);
        else if (typeof g.port === "string" && !ports.has(g.port)) problem(where, `${probe} port ${g.port} is not a container port`);
      }
      for (const r of ["requests", "limits"]) for (const k of ["cpu", "memory"]) {
        if (!c.resources?.[r]?.[k]) problem(where, `resources.${r}.${k} missing`);
      }
      const args = c.args ?? [];
      const restArg = args.find((a) => a.startsWith("--rest_port="));
      if (!restArg || Number(restArg.split("=")[1]) !== ports.get("http")) problem(where, "--rest_port must be the 'http' container port");
      const grpcArg = args.find((a) => a.startsWith("--port="));
      if (!grpcArg || Number(grpcArg.split("=")[1]) !== ports.get("grpc")) problem(where, "--port must be the 'grpc' container port");
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problem(where, `volumeMount ${m.name} has no volume`);
      for (const e of c.envFrom ?? []) {
        if (e.secretRef && !objs.some((o) => o.kind === "Secret" && o.metadata.name === e.secretRef.name)) problem(where, `Secret ${e.secretRef.name} is not in the render`);
      }
    }
    for (const v of volumes.values()) {
      if (v.configMap) {
        const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap.name);
        if (!cm) { problem(where, `ConfigMap ${v.configMap.name} is not in the render`); continue; }
        try {
          const cfg = JSON.parse(cm.data["config.json"]);
          if (!Array.isArray(cfg.model_config_list) || cfg.model_config_list.length === 0) problem(where, "config.json has no model_config_list");
        } catch (e) { problem(where, `config.json: ${e.message}`); }
      }
      if (v.persistentVolumeClaim && !objs.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === v.persistentVolumeClaim.claimName)) {
        problem(where, `PVC ${v.persistentVolumeClaim.claimName} is not in the render`);
      }
    }
    const services = byKind(objs, "Service").filter((s) => matches(s.spec.selector, pod.metadata.labels));
    if (services.length === 0) problem(where, "no Service selects its pods");
    for (const s of services) for (const p of s.spec.ports) {
      if (typeof p.targetPort === "string" && !pod.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort))) {
        problem(`${label} Service/${s.metadata.name}`, `targetPort ${p.targetPort} is no container port`);
      }
    }
  }
  for (const m of byKind(objs, "ServiceMonitor")) {
    const where = `${label} ServiceMonitor/${m.metadata.name}`;
    if (!m.spec.endpoints.every((e) => e.port === "http" && e.path === "/metrics")) problem(where, "must scrape port http, /metrics");
  }
  for (const r of objs.filter((o) => o.kind === "ServingRuntime" || o.kind === "ClusterServingRuntime")) {
    const where = `${label} ${r.kind}/${r.metadata.name}`;
    const formats = r.spec.supportedModelFormats.map((f) => f.name);
    for (const f of ["openvino_ir", "onnx"]) if (!formats.includes(f)) problem(where, `model format ${f} missing`);
    if (!r.spec.protocolVersions.includes("v2")) problem(where, "protocol v2 missing");
    const c = r.spec.containers[0];
    const args = c.args ?? [];
    if (!args.includes("--model_path=/mnt/models")) problem(where, "the model must come from /mnt/models");
    if (!args.includes("--model_name={{.Name}}")) problem(where, "--model_name must be the InferenceService name");
    const rest = Number((args.find((a) => a.startsWith("--rest_port=")) ?? "=").split("=")[1]);
    if (c.ports?.[0]?.containerPort !== rest) problem(where, "the first container port must be the REST port");
  }
  for (const s of byKind(objs, "InferenceService")) {
    const where = `${label} InferenceService/${s.metadata.name}`;
    const m = s.spec.predictor.model;
    const rt = objs.find((o) => /ServingRuntime$/.test(o.kind) && o.metadata.name === m.runtime);
    if (!rt) problem(where, `runtime ${m.runtime} is not in the checked manifests`);
    else if (!rt.spec.supportedModelFormats.some((f) => f.name === m.modelFormat.name)) problem(where, `runtime does not serve ${m.modelFormat.name}`);
  }
}

const sets = process.argv.slice(2).map((arg) => arg.split("="));
if (sets.length === 0) { console.error("usage: node validate_manifests.mjs <label>=<file> ..."); process.exit(2); }
let count = 0;
for (const [label, file] of sets) {
  const objs = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { problem(label, doc.errors.map((e) => e.message).join("; ")); continue; }
    const obj = doc.toJS();
    if (obj == null) continue;
    objs.push(obj);
    await schemaCheck(obj, `${label} ${obj.kind}/${obj.metadata?.name}`);
    count++;
  }
  if (objs.length === 0) problem(label, "no objects");
  crossCheck(label, objs);
}
if (problems.length) {
  console.error(problems.map((p) => `  ${p}`).join("\n"));
  console.error(`${problems.length} problem(s) in ${count} objects`);
  process.exit(1);
}
console.log(`${count} objects valid in ${sets.length} renders`);
