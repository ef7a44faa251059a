#!/usr/bin/python3
"""Where a request's time goes (issue 14, point 6), per API and request size, from the server's own timers.

One ovms serves the demo model (small request: 1x4 FP32) and add_one (large: 1x3x224x224 FP32, y = x + 1) with
OVMS_STEP_TIMES_FILE set, so its inference path sums the time of each step per API, interface and model
(src/serving/step_times.h) and writes the sums when it stops. Each case runs one closed-loop client with one call in
flight (so no request waits behind another and the client's mean latency is seconds / requests):

  TensorFlowServing gRPC   bench/grpc_load --api tfs     (pre-serialized PredictRequest, tensor_content)
  KServe gRPC              bench/grpc_load --api kserve  (pre-serialized ModelInferRequest, raw_input_contents)
  TensorFlowServing REST   wrk -t1 -c1, {"instances": [...]} JSON
  KServe REST              wrk -t1 -c1, {"inputs": [{"data": [...]}]} JSON

The table shows, in microseconds per request: the client's mean latency; the server's time from the inference
path's entry to the encoded response ("in path"), split into decode (parse the wire message into tensors), validate,
queue wait (for an execution slot), engine (ONNX Runtime Run), infer other (binding inputs, wrapping outputs),
encode (serialise the response: JSON text for REST, protobuf fields for gRPC) and the rest (lookup, output
selection); and "outside" = client latency - in path: the transport (loopback TCP, HTTP/2 or HTTP/1.1 framing),
gRPC's protobuf parse and serialisation (done by gRPC around the handler), the HTTP server's request/response
handling, thread hand-offs, and the load client itself.

    /usr/bin/python3 bench/step_times.py [--build-dir build] [--ovms build/src/ovms] [--seconds 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from load_curves import Ovms, parse_wrk  # noqa: E402  (server start/stop and wrk parsing shared)

CASES = [  # (label, model, input, shape)
    ("small 1x4", "demo", "features", (1, 4)),
    ("large 1x3x224x224", "add_one", "x", (1, 3, 224, 224)),
]
APIS = ["TensorFlowServing gRPC", "KServe gRPC", "TensorFlowServing REST", "KServe REST"]
STEPS = ["decode", "validate", "queue_wait", "engine", "infer_other", "encode"]

LUA = """local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
"""


def values(shape):
    n = 1
    for d in shape:
        n *= d
    # Same values as grpc_load: x[i] = ((i * 7919) % 1000) / 1000 - 0.5, written as float32 shortest text.
    import numpy as np
    x = (((np.arange(n) * 7919) % 1000) / 1000.0 - 0.5).astype(np.float32)
    return x


def write_bodies(tmp, model, inp, shape):
    x = values(shape)
    nested = x.reshape(shape).tolist()
    tfs = os.path.join(tmp, f"{model}.tfs.json")
    with open(tfs, "w") as f:
        json.dump({"instances": nested}, f, separators=(",", ":"))
    ks = os.path.join(tmp, f"{model}.kserve.json")
    with open(ks, "w") as f:
        json.dump({"inputs": [{"name": inp, "shape": list(shape), "datatype": "FP32", "data": x.tolist()}]}, f,
                  separators=(",", ":"))
    return tfs, ks


def run_grpc(args, api, port, model, inp, shape, seconds):
    cmd = [os.path.join(args.build_dir, "bench", "grpc_load"), "--target", f"127.0.0.1:{port}", "--model", model,
           "--input", inp, "--shape", ",".join(map(str, shape)), "--concurrency", "1", "--seconds", str(seconds),
           "--warmup-seconds", "1"]
    if api == "KServe gRPC":
        cmd += ["--api", "kserve"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 120).stdout
    r = json.loads(out.strip().splitlines()[-1])
    if r.get("errors"):
        raise RuntimeError(f"{api} {model}: {r['errors']} errors")
    return r["requests"], r["req_per_s"]


def run_rest(url, body, lua, seconds):
    env = dict(os.environ, BODY=body)
    # wrk has no warm-up: one short run first.
    subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", lua, url], check=True, capture_output=True, env=env, timeout=60)
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", "-s", lua, url], check=True,
                         capture_output=True, text=True, env=env, timeout=seconds + 120).stdout
    r = parse_wrk(out)
    if r is None or r["errors"]:
        raise RuntimeError(f"{url}: wrk failed or counted errors:\n{out}")
    return r["requests"], r["req_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--ovms", default=None)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--base-port", type=int, default=9870)
    ap.add_argument("--apis", default=",".join(APIS), help="comma-separated subset of: " + ", ".join(APIS))
    ap.add_argument("--json", action="store_true", help="also print the raw results as one JSON line")
    args = ap.parse_args()
    ovms = args.ovms or os.path.join(args.build_dir, "src", "ovms")
    apis = [a.strip() for a in args.apis.split(",") if a.strip()]
    for a in apis:
        if a not in APIS:
            sys.exit(f"unknown API {a!r}")
    if not os.path.exists(os.path.join(ROOT, "bench", "models", "add_one", "1", "model.onnx")):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "make_bench_models.py")], check=True,
                       stdout=subprocess.DEVNULL)
    seconds = max(1, int(round(args.seconds)))
    grpc_port, rest_port = args.base_port, args.base_port + 1
    with tempfile.TemporaryDirectory(prefix="ovms-step-times-") as tmp:
        config = {"model_config_list": [
            {"config": {"name": "demo", "base_path": os.path.join(ROOT, "models", "demo_classifier")}},
            {"config": {"name": "add_one", "base_path": os.path.join(ROOT, "bench", "models", "add_one")}}]}
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f)
        lua = os.path.join(tmp, "post.lua")
        with open(lua, "w") as f:
            f.write(LUA)
        bodies = {c[1]: write_bodies(tmp, c[1], c[2], c[3]) for c in CASES}
        times_file = os.path.join(tmp, "step_times.json")
        os.environ["OVMS_STEP_TIMES_FILE"] = times_file  # the server's step timers (inherited by ovms only)
        server_proc = Ovms(ovms, os.path.join(tmp, "config.json"), grpc_port, rest_port, tmp, [])
        del os.environ["OVMS_STEP_TIMES_FILE"]
        client = {}
        try:
            server_proc.wait_ready([c[1] for c in CASES])
            load_before = open("/proc/loadavg").read().split()[:3]
            for label, model, inp, shape in CASES:
                tfs_body, ks_body = bodies[model]
                for api in apis:
                    if api.endswith("gRPC"):
                        n, rps = run_grpc(args, api, grpc_port, model, inp, shape, seconds)
                    elif api == "TensorFlowServing REST":
                        n, rps = run_rest(f"http://127.0.0.1:{rest_port}/v1/models/{model}:predict", tfs_body, lua,
                                          seconds)
                    else:
                        n, rps = run_rest(f"http://127.0.0.1:{rest_port}/v2/models/{model}/infer", ks_body, lua, seconds)
                    client[(api, model)] = {"requests": n, "req_per_s": rps, "mean_us": 1e6 / rps}
            load_after = open("/proc/loadavg").read().split()[:3]
        finally:
            server_proc.stop()  # SIGTERM: ovms writes the step times as it shuts down
        if not os.path.exists(times_file):
            sys.exit("ovms wrote no step times:\n" + server_proc.tail())
        server = json.load(open(times_file))

    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores; load before "
          f"{' '.join(load_before)}, after {' '.join(load_after)}; 1 call in flight, {seconds} s per case")
    print("| API | request | client latency µs | in path µs | decode | validate | queue wait | engine | infer other "
          "| encode | lookup+select | outside the path µs | outside share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for label, model, _, _ in CASES:
        for api in apis:
            c = client[(api, model)]
            s = server.get(f"{api} {model}")
            if not s:
                sys.exit(f"no server times for {api} {model}")
            us = s["us_per_request"]
            total = us["total"]
            rest = total - sum(us[k] for k in STEPS)
            outside = c["mean_us"] - total
            rows.append({"api": api, "request": label, "client_us": c["mean_us"], "server": us,
                         "server_requests": s["requests"], "outside_us": outside})
            print(f"| {api} | {label} | {c['mean_us']:.1f} | {total:.1f} | "
                  + " | ".join(f"{us[k]:.1f}" for k in STEPS)
                  + f" | {rest:.1f} | {outside:.1f} | {100 * outside / c['mean_us']:.0f}% |")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
