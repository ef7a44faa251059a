#!/usr/bin/python3
"""Load curves: ovms over every API against the in-process engine doing the same work, in one run.

    /usr/bin/python3 bench/load_curves.py
    MODELS="resnet50 mobilenetv2" CLIENTS="1 4 16 64" SECONDS=8 /usr/bin/python3 bench/load_curves.py

For each model (ResNet-50, MobileNetV2 from bench/make_bench_models.py, made when missing), each
concurrency in CLIENTS, and each of
  in-process          bench/inprocess_load: the model loaded by serving::Servable::load from the same
                      config.json as ovms (same session settings, intra-op threads, nireq), N threads
                      calling Servable::infer: the server's work without transport and codecs
  tfs-grpc            bench/grpc_load --api tfs: PredictionService/Predict, input as tensor_content
  kserve-grpc         bench/grpc_load --api kserve: ModelInfer, input in raw_input_contents
  tfs-rest            wrk: POST /v1/models/<m>:predict, {"instances": [1x3x224x224 floats]} (JSON)
  kserve-rest-binary  wrk: POST /v2/models/<m>/infer, binary extension: JSON header
                      (Inference-Header-Content-Length) + raw FP32 bytes, binary output asked for with
                      "parameters": {"binary_data_output": true}
N closed-loop clients (one connection each) send batch-1 requests with the same input
(x[i] = ((i * 7919) % 1000) / 1000 - 0.5) for a warm-up, then SECONDS measured. Every run prints
req/s, p50 and p99 of the requests completed in the measured window, and the CPU the load client and
the server used (in % of one core; 200% = both cores of this machine). A request that fails (gRPC
status not OK, HTTP status not 200, socket error) is an error; any error fails the whole run (exit 1)
after the table is printed.

Ratios (the issue's targets):
  latency at 1 client      api p50 / in-process p50, both at 1 client     target <= 1.05 (gRPC APIs)
  throughput at 16 clients api req/s / best in-process req/s over CLIENTS target >= 0.95

Env knobs: ROUNDS (1; more runs every case again in reverse order and keeps the run with the best req/s
of each, which filters out bursts of load from other processes), MODELS (resnet50 mobilenetv2), APIS (tfs-grpc kserve-grpc tfs-rest kserve-rest-binary; the
in-process peer always runs), CLIENTS (1 4 16 64), SECONDS (measured seconds per run, 8), WARMUP (minimum
warm-up seconds, 3; raised per run to 1.5 queue cycles, i.e. 1.5 x clients / in-process req/s at 1
client, so the queue of 64 clients is full before measuring), BUILD_DIR (build-bench; its ovms,
bench/grpc_load and bench/inprocess_load are built there first unless BUILD=0), OVMS_BIN (an ovms binary to
use instead of $BUILD_DIR/src/ovms), OVMS_ARGS (extra ovms flags, e.g. "--grpc_max_threads 64"), BASE_PORT (9650; gRPC on BASE_PORT, REST on BASE_PORT+1, 127.0.0.1).
wrk comes from Debian (apt-get install -y wrk). ovms is started once with both models from a temporary
config.json and stopped by its PID.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PY = "/usr/bin/python3"
ALL_APIS = ["tfs-grpc", "kserve-grpc", "tfs-rest", "kserve-rest-binary"]
INPUT, OUTPUT, SHAPE = "input", "logits", (1, 3, 224, 224)


def env_list(name, default):
    return os.environ.get(name, default).split()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def fail(msg):
    print(f"load_curves: {msg}", file=sys.stderr)
    sys.exit(1)


class Ovms:
    def __init__(self, binary, config, grpc_port, rest_port, tmp, extra_args):
        self.log = open(os.path.join(tmp, "ovms.log"), "w+")
        self.proc = subprocess.Popen(
            [binary, "--config_path", config, "--port", str(grpc_port), "--rest_port", str(rest_port),
             "--grpc_bind_address", "127.0.0.1", "--rest_bind_address", "127.0.0.1", "--log_level", "WARNING",
             *extra_args], stdout=self.log, stderr=subprocess.STDOUT)
        self.rest = f"http://127.0.0.1:{rest_port}"

    def wait_ready(self, models, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.check_alive()
            try:
                if all(b"AVAILABLE" in urllib.request.urlopen(f"{self.rest}/v1/models/{m}", timeout=5).read()
                       for m in models):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        fail(f"ovms did not load {models} in {timeout} s; log:\n{self.tail()}")

    def tail(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def check_alive(self):
        if self.proc.poll() is not None:
            fail(f"ovms exited with {self.proc.returncode}; log:\n{self.tail()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_measured(cmd, env=None, timeout=600):
    """Runs a load client; returns (stdout, stderr, exit code, CPU seconds of the client, wall seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.time()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        deadline = t0 + timeout
        while True:  # os.wait4 gives the client's own rusage (its CPU use is part of the result)
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        wall = time.time() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return out.read().decode(), err.read().decode(), p.returncode, ru.ru_utime + ru.ru_stime, wall


def parse_wrk(text):
    def ms(v, unit):
        return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]
    lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    done = re.search(r"(\d+) requests in", text)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    if not rps or "50" not in lat or "99" not in lat:
        return None
    return {"req_per_s": float(rps.group(1)), "p50_ms": lat["50"], "p99_ms": lat["99"],
            "requests": int(done.group(1)) if done else 0, "errors": errors}


def request_bodies(tmp, model):
    import numpy as np
    n = int(np.prod(SHAPE))
    x = (((np.arange(n) * 7919) % 1000) / 1000.0 - 0.5).astype(np.float32)
    tfs = os.path.join(tmp, "tfs.json")
    with open(tfs, "w") as f:
        json.dump({"instances": x.reshape(SHAPE).tolist()}, f, separators=(",", ":"))
    header = json.dumps({"inputs": [{"name": INPUT, "shape": list(SHAPE), "datatype": "FP32",
                                     "parameters": {"binary_data_size": n * 4}}],
                         "parameters": {"binary_data_output": True}}, separators=(",", ":")).encode()
    kserve = os.path.join(tmp, "kserve.bin")
    with open(kserve, "wb") as f:
        f.write(header + x.tobytes())
    return {"tfs-rest": (tfs, None), "kserve-rest-binary": (kserve, len(header))}


WRK_LUA = """
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
local hl = os.getenv("HEADER_LENGTH")
if hl and hl ~= "" then
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.headers["Inference-Header-Content-Length"] = hl
else
  wrk.headers["Content-Type"] = "application/json"
end
"""


def check_rest(rest, model, api, body_path, header_len):
    """One request checked for content: 200 and a 1000-value output, before the load runs."""
    with open(body_path, "rb") as f:
        body = f.read()
    if api == "tfs-rest":
        req = urllib.request.Request(f"{rest}/v1/models/{model}:predict", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            preds = json.loads(r.read())["predictions"]
        if len(preds) != 1 or len(preds[0]) != 1000:
            fail(f"{api} {model}: unexpected predictions shape")
    else:
        req = urllib.request.Request(f"{rest}/v2/models/{model}/infer", data=body,
                                     headers={"Content-Type": "application/octet-stream",
                                              "Inference-Header-Content-Length": str(header_len)})
        with urllib.request.urlopen(req, timeout=60) as r:
            hl = int(r.headers.get("Inference-Header-Content-Length", "-1"))
            data = r.read()
        if hl < 0:
            fail(f"{api} {model}: the response is not binary (no Inference-Header-Content-Length)")
        out = json.loads(data[:hl])["outputs"][0]
        if out["parameters"].get("binary_data_size") != 4000 or len(data) - hl != 4000:
            fail(f"{api} {model}: unexpected binary output {out}")


def main():
    models = env_list("MODELS", "resnet50 mobilenetv2")
    apis = env_list("APIS", " ".join(ALL_APIS))
    clients = [int(c) for c in env_list("CLIENTS", "1 4 16 64")]
    seconds = float(os.environ.get("SECONDS", 8))
    rounds = max(1, int(os.environ.get("ROUNDS", 1)))
    warmup_min = float(os.environ.get("WARMUP", 3))
    build_dir = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build-bench")))
    ovms_bin = os.environ.get("OVMS_BIN", "")
    base_port = int(os.environ.get("BASE_PORT", 9650))
    for a in apis:
        if a not in ALL_APIS:
            fail(f"unknown API {a!r} in APIS (known: {' '.join(ALL_APIS)})")
    for m in models:
        if m not in ("resnet50", "mobilenetv2"):
            fail(f"unknown model {m!r} in MODELS (resnet50, mobilenetv2)")
    if any(a.endswith("-rest") or a.endswith("-binary") for a in apis) and not shutil.which("wrk"):
        fail("wrk is missing: apt-get install -y wrk")

    if os.environ.get("BUILD", "1") != "0":
        if not os.path.exists(os.path.join(build_dir, "build.ninja")):
            subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-G", "Ninja"], check=True, stdout=subprocess.DEVNULL)
        targets = ["grpc_load", "inprocess_load"] + ([] if ovms_bin else ["ovms"])
        r = subprocess.run(["cmake", "--build", build_dir, "--target", *targets], capture_output=True, text=True)
        if r.returncode:
            fail(f"build failed:\n{r.stdout[-4000:]}{r.stderr[-4000:]}")
    ovms_bin = ovms_bin or os.path.join(build_dir, "src", "ovms")
    grpc_load = os.path.join(build_dir, "bench", "grpc_load")
    inprocess = os.path.join(build_dir, "bench", "inprocess_load")
    for b in (ovms_bin, grpc_load, inprocess):
        if not os.access(b, os.X_OK):
            fail(f"{b} is missing (build it, or leave BUILD unset)")
    if not all(os.path.exists(os.path.join(ROOT, "bench", "models", m, "1", "model.onnx")) for m in models):
        subprocess.run([PY, os.path.join(ROOT, "bench", "make_bench_models.py")], check=True, stdout=subprocess.DEVNULL)

    grpc_port, rest_port = base_port, base_port + 1
    for p in (grpc_port, rest_port):
        if not port_free(p):
            fail(f"port {p} on 127.0.0.1 is busy; set BASE_PORT")

    tmp = tempfile.mkdtemp(prefix="load_curves.")
    config = os.path.join(tmp, "config.json")
    with open(config, "w") as f:
        json.dump({"model_config_list": [{"config": {"name": m, "base_path": os.path.join(ROOT, "bench", "models", m)}}
                                         for m in models]}, f)
    lua = os.path.join(tmp, "post.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    bodies = request_bodies(tmp, models[0])  # same input for both models (same input name and shape)

    extra_args = os.environ.get("OVMS_ARGS", "").split()
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores, load before: {loadavg()}")
    print(f"# models={' '.join(models)} apis=in-process {' '.join(apis)} clients={' '.join(map(str, clients))} "
          f"seconds={seconds:g} warm-up>={warmup_min:g} rounds={rounds} ovms flags: {' '.join(extra_args) or '(defaults)'}")
    server = Ovms(ovms_bin, config, grpc_port, rest_port, tmp, extra_args)
    results = []  # dicts: model, api, clients, req_per_s, p50_ms, p99_ms, errors, client_cpu, server_cpu
    total_errors = 0
    try:
        server.wait_ready(models)
        for m in models:
            for a in apis:
                if a in bodies:
                    check_rest(server.rest, m, a, *bodies[a])
            service_s = None  # seconds per request in process at 1 client: sizes the warm-up
            for c in clients:
                # ROUNDS > 1: the same runs again in reverse order, so no API always gets the quieter slot
                runs = [a for rnd in range(rounds) for a in (["in-process"] + apis)[::1 if rnd % 2 == 0 else -1]]
                for a in runs:
                    warmup = warmup_min
                    if service_s:
                        warmup = max(warmup_min, min(30.0, 1.5 * c * service_s))
                    env = None
                    if a == "in-process":
                        cmd = [inprocess, "--config", config, "--model", m, "--concurrency", str(c),
                               "--seconds", str(seconds), "--warmup-seconds", str(warmup)]
                    elif a.endswith("grpc"):
                        cmd = [grpc_load, "--api", a.split("-")[0], "--target", f"127.0.0.1:{grpc_port}", "--model", m,
                               "--input", INPUT, "--shape", ",".join(map(str, SHAPE)), "--concurrency", str(c),
                               "--seconds", str(seconds), "--warmup-seconds", str(warmup)]
                    else:
                        body, header_len = bodies[a]
                        url = (f"{server.rest}/v1/models/{m}:predict" if a == "tfs-rest"
                               else f"{server.rest}/v2/models/{m}/infer")
                        env = dict(os.environ, BODY=body, HEADER_LENGTH=str(header_len or ""))
                        wrk = ["wrk", "-t1", f"-c{c}", "--timeout", "120s", "--latency", "-s", lua]
                        # wrk has no warm-up of its own: a first run fills the queue and warms the server
                        w = run_measured(wrk + [f"-d{max(1, round(warmup))}s", url], env=env)
                        if w[2] != 0:
                            fail(f"wrk warm-up failed for {m} {a} c={c}: {w[1]}")
                        cmd = wrk + [f"-d{max(1, round(seconds))}s", url]
                    server_cpu0 = cpu_seconds(server.proc.pid)  # over the measured client run only
                    out, err, rc, client_cpu, wall = run_measured(cmd, env=env, timeout=seconds + warmup + 300)
                    server_cpu = cpu_seconds(server.proc.pid) - server_cpu0
                    server.check_alive()
                    if a.endswith("rest") or a.endswith("binary"):
                        r = parse_wrk(out)
                        if rc != 0 or r is None:
                            fail(f"wrk failed for {m} {a} c={c} (exit {rc}):\n{out}{err}")
                    else:
                        try:
                            r = json.loads(out.strip().splitlines()[-1])
                        except (ValueError, IndexError):
                            r = None
                        if r is None:
                            fail(f"{os.path.basename(cmd[0])} failed for {m} {a} c={c} (exit {rc}):\n{out}{err}")
                        if rc != 0 and not r.get("errors"):
                            fail(f"{os.path.basename(cmd[0])} exit {rc} for {m} {a} c={c}:\n{err}")
                    if r["requests"] == 0:
                        r["errors"] = max(1, r["errors"])  # nothing completed in the window: the server stalled
                    if r["errors"]:
                        print(f"# ERRORS: {m} {a} c={c}: {r['errors']} {err.strip()[:300]}", file=sys.stderr)
                    total_errors += r["errors"]
                    if a == "in-process" and c == 1 and r["req_per_s"] > 0 and not service_s:
                        service_s = 1.0 / r["req_per_s"]
                    results.append({"model": m, "api": a, "clients": c, "req_per_s": r["req_per_s"],
                                    "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "errors": r["errors"],
                                    "requests": r["requests"], "warmup": warmup,
                                    "client_cpu": 100 * client_cpu / wall,
                                    "server_cpu": 100 * (server_cpu / wall if a != "in-process" else 0)})
                    print(f"# {m} {a} c={c}: {r['req_per_s']:.1f} req/s p50 {r['p50_ms']:.2f} ms "
                          f"p99 {r['p99_ms']:.2f} ms errors {r['errors']}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# load after: {loadavg()}")
    print()
    report(results, models, apis, clients)
    if total_errors:
        fail(f"{total_errors} failed requests")


def report(results, models, apis, clients):
    by, errors, every = {}, {}, {}
    for r in results:  # over ROUNDS: the run with the best req/s (with its latencies), errors of all runs
        key = (r["model"], r["api"], r["clients"])
        if key not in by or r["req_per_s"] > by[key]["req_per_s"]:
            by[key] = r
        errors[key] = errors.get(key, 0) + r["errors"]
        every.setdefault(key, []).append(f"{r['req_per_s']:.1f}")
    best_inproc = {m: max((r["req_per_s"] for r in results if r["model"] == m and r["api"] == "in-process"), default=0)
                   for m in models}
    print("| model | API | clients | req/s | p50 ms | p99 ms | p50 / in-process p50 | req/s / best in-process "
          "| client CPU % | server CPU % | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for m in models:
        for c in clients:
            ref = by[(m, "in-process", c)]
            for a in ["in-process"] + apis:
                r = by[(m, a, c)]
                lat = r["p50_ms"] / ref["p50_ms"] if ref["p50_ms"] else float("nan")
                thr = r["req_per_s"] / best_inproc[m] if best_inproc[m] else float("nan")
                server = "(same process)" if a == "in-process" else f"{r['server_cpu']:.0f}"
                print(f"| {m} | {a} | {c} | {r['req_per_s']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {lat:.2f}x "
                      f"| {thr:.2f}x | {r['client_cpu']:.0f} | {server} | {errors[(m, a, c)]} |")
    if any(len(v) > 1 for v in every.values()):
        print("\nreq/s of every round: " + "; ".join(f"{m} {a} c={c}: {' '.join(v)}" for (m, a, c), v in every.items()))
    print()
    print("Targets (issue 14, point 3):")
    for m in models:
        for a in apis:
            if a.endswith("grpc"):
                if (m, a, 1) in by:
                    ratio = by[(m, a, 1)]["p50_ms"] / by[(m, "in-process", 1)]["p50_ms"]
                    verdict = "met" if ratio <= 1.05 else "not met"
                    print(f"- {m} {a}: batch-1 latency at 1 client {ratio:.3f}x of in-process (target <= 1.05): {verdict}")
                else:
                    print(f"- {m} {a}: batch-1 latency at 1 client: not measured (CLIENTS has no 1)")
            if (m, a, 16) in by:
                ratio = by[(m, a, 16)]["req_per_s"] / best_inproc[m]
                verdict = "met" if ratio >= 0.95 else "not met"
                print(f"- {m} {a}: throughput at 16 clients {ratio:.3f}x of the best in-process "
                      f"({best_inproc[m]:.1f} req/s) (target >= 0.95): {verdict}")
            else:
                print(f"- {m} {a}: throughput at 16 clients: not measured (CLIENTS has no 16)")
    print("\np50 / in-process p50 compares with the in-process run at the same number of clients; req/s / best "
          "in-process compares with the in-process engine's best throughput over all client counts. CPU % is of one "
          f"core (this machine has {os.cpu_count()}): the load client runs on the same cores as the server.")


if __name__ == "__main__":
    main()
