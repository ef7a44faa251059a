#!/usr/bin/env python3
"""Soak run (issue 9, point 10): one ovms under mixed load for a while, RSS sampled every second.

    /usr/bin/python3 bench/soak.py --binary build/src/ovms --minutes 20 [--out soak.csv]

Load, all at once: TF-Serving REST predict (small and ~4 MB bodies) and gRPC Predict, KServe REST
and gRPC infer, status/metadata calls, malformed bodies, and a model repository that changes all the
time (versions added and deleted, config.json rewritten so a second model comes and goes).
Prints the request counts, unexpected failures, and the RSS slope (least squares over the samples
after the first minute, in MB per hour). Exit code 1 when a request failed unexpectedly or the
server died. Not a ctest; tests/e2e/test_hardening_soak.py runs a 40-second version."""
import argparse
import http.client as httpclient
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import model_factory  # noqa: E402

ROW = [5.1, 3.5, 1.4, 0.2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def slope_mb_per_hour(samples):
    """Least-squares slope of (t seconds, rss kB) in MB/h."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    num = sum((t - mt) * (r - mr) for t, r in samples)
    den = sum((t - mt) ** 2 for t, _ in samples) or 1.0
    return num / den * 3600 / 1024


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts, self.failures = {}, []

    def add(self, kind, ok, detail=""):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if not ok and len(self.failures) < 1000:
                self.failures.append(f"{kind}: {detail}"[:300])


def rest_call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()


def rest_worker(port, stats, stop, big):
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=60)
    small = json.dumps({"instances": [ROW] * 4})
    kserve = json.dumps({"inputs": [{"name": "features", "shape": [2, 4], "datatype": "FP32", "data": ROW * 2}]})
    i = 0
    while not stop.is_set():
        i += 1
        try:
            kind = ("tfs_rest_small", "kserve_rest", "status", "metadata", "malformed", "tfs_rest_big")[i % 6]
            if kind == "tfs_rest_small":
                code, body = rest_call(conn, "POST", "/v1/models/demo:predict", small)
                stats.add(kind, code == 200, body[:200])
            elif kind == "kserve_rest":
                code, body = rest_call(conn, "POST", "/v2/models/demo/infer", kserve)
                stats.add(kind, code == 200, body[:200])
            elif kind == "status":
                code, body = rest_call(conn, "GET", "/v1/models/demo")
                stats.add(kind, code == 200, body[:200])
                code, body = rest_call(conn, "GET", "/v1/models/churn")  # comes and goes: 200 or 404
                stats.add("status_churn", code in (200, 404), body[:200])
            elif kind == "metadata":
                code, body = rest_call(conn, "GET", "/v2/models/demo")
                stats.add(kind, code == 200, body[:200])
            elif kind == "malformed":
                code, body = rest_call(conn, "POST", "/v1/models/demo:predict", '{"instances": [[1.0, "x"]')
                stats.add(kind, 400 <= code < 500, f"{code} {body[:200]!r}")
            elif i % 30 == 5:  # every 5th round: ~4 MB body
                code, body = rest_call(conn, "POST", "/v1/models/demo:predict", big)
                stats.add(kind, code == 200, body[:200])
        except (OSError, httpclient.HTTPException) as e:
            stats.add("rest_connection", False, repr(e))
            conn.close()
            conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=60)


def grpc_worker(address, stats, stop, stubs):
    sys.path.insert(0, stubs)
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    from kserve import grpc_predict_v2_pb2 as v2, grpc_predict_v2_pb2_grpc as v2_grpc
    import struct
    ch = grpc.insecure_channel(address)
    tfs = prediction_service_pb2_grpc.PredictionServiceStub(ch)
    ks = v2_grpc.GRPCInferenceServiceStub(ch)
    p = predict_pb2.PredictRequest()
    p.model_spec.name = "demo"
    t = p.inputs["features"]
    t.dtype = 1
    t.tensor_shape.dim.add().size = 2
    t.tensor_shape.dim.add().size = 4
    t.tensor_content = struct.pack("<8f", *(ROW * 2))
    k = v2.ModelInferRequest(model_name="demo")
    k.inputs.add(name="features", datatype="FP32", shape=[2, 4])
    k.raw_input_contents.append(struct.pack("<8f", *(ROW * 2)))
    i = 0
    while not stop.is_set():
        i += 1
        try:
            if i % 2:
                tfs.Predict(p, timeout=30)
                stats.add("tfs_grpc", True)
            else:
                ks.ModelInfer(k, timeout=30)
                stats.add("kserve_grpc", True)
        except grpc.RpcError as e:
            stats.add("grpc", False, f"{e.code()} {e.details()}")
    ch.close()


def churn_worker(workdir, config_path, demo_repo, stats, stop):
    """Adds and deletes versions of `demo`, and adds/removes the `churn` model in config.json."""
    churn_repo = os.path.join(workdir, "churn")
    model_factory.add_const(churn_repo, value=1.0, version=1)
    i = 0
    while not stop.wait(2.0):
        i += 1
        try:
            v2 = os.path.join(demo_repo, "2")
            if i % 2:
                staging = os.path.join(workdir, f".v2_{i}")
                shutil.copytree(os.path.join(demo_repo, "1"), staging)
                os.rename(staging, v2)
            else:
                shutil.rmtree(v2, ignore_errors=True)
            models = [{"config": {"name": "demo", "base_path": demo_repo}}]
            if i % 4 < 2:
                models.append({"config": {"name": "churn", "base_path": churn_repo}})
            tmp = config_path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"model_config_list": models}, f)
            os.replace(tmp, config_path)
            stats.add("reload", True)
        except OSError as e:
            stats.add("reload", False, repr(e))


def run(binary, seconds, out_csv=None, rest_threads=3, grpc_threads=2, quiet=False):
    workdir = tempfile.mkdtemp(prefix="ovms-soak-")
    demo_repo = os.path.join(workdir, "demo")
    shutil.copytree(os.path.join(ROOT, "models", "demo_classifier"), demo_repo)
    config_path = os.path.join(workdir, "config.json")
    with open(config_path, "w") as f:
        json.dump({"model_config_list": [{"config": {"name": "demo", "base_path": demo_repo}}]}, f)
    stubs = os.path.join(workdir, "stubs")
    subprocess.run(["bash", os.path.join(ROOT, "tools", "gen_python_stubs.sh"), stubs], check=True,
                   stdout=subprocess.DEVNULL)
    grpc_port, rest_port = free_port(), free_port()
    log = open(os.path.join(workdir, "ovms.log"), "wb")
    proc = subprocess.Popen([binary, "--config_path", config_path, "--port", str(grpc_port), "--rest_port",
                             str(rest_port), "--file_system_poll_wait_seconds", "1", "--log_level", "INFO"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = httpclient.HTTPConnection("127.0.0.1", rest_port, timeout=2)
            if rest_call(c, "GET", "/v1/models/demo")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    big = json.dumps({"instances": [ROW] * 170000})
    stats, stop = Stats(), threading.Event()
    threads = [threading.Thread(target=rest_worker, args=(rest_port, stats, stop, big)) for _ in range(rest_threads)]
    threads += [threading.Thread(target=grpc_worker, args=(f"127.0.0.1:{grpc_port}", stats, stop, stubs))
                for _ in range(grpc_threads)]
    threads.append(threading.Thread(target=churn_worker, args=(workdir, config_path, demo_repo, stats, stop)))
    for t in threads:
        t.start()
    samples, t0 = [], time.time()
    died = False
    while time.time() - t0 < seconds:
        time.sleep(1)
        if proc.poll() is not None:
            died = True
            break
        samples.append((time.time() - t0, rss_kb(proc.pid)))
        if not quiet and len(samples) % 60 == 0:
            print(f"{len(samples) // 60} min: RSS {samples[-1][1] / 1024:.0f} MB, requests {sum(stats.counts.values())}",
                  flush=True)
    stop.set()
    for t in threads:
        t.join(60)
    rc = None
    if not died:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
    log.close()
    if out_csv:
        with open(out_csv, "w") as f:
            f.write("seconds,rss_kb\n")
            for t, r in samples:
                f.write(f"{t:.1f},{r}\n")
    steady = [s for s in samples if s[0] >= min(60, seconds / 3)]
    result = {
        "seconds": round(time.time() - t0),
        "requests": dict(sorted(stats.counts.items())),
        "failures": stats.failures,
        "rss_mb_start": round(samples[0][1] / 1024, 1) if samples else None,
        "rss_mb_end": round(samples[-1][1] / 1024, 1) if samples else None,
        "rss_mb_max": round(max(r for _, r in samples) / 1024, 1) if samples else None,
        "rss_slope_mb_per_hour": round(slope_mb_per_hour(steady), 1),
        "server_died": died,
        "exit_code": rc,
        "log": os.path.join(workdir, "ovms.log"),
    }
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "src", "ovms"))
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--out", help="CSV of the RSS samples")
    a = ap.parse_args()
    r = run(a.binary, a.minutes * 60, a.out)
    failures = r.pop("failures")
    print(json.dumps(r, indent=1))
    print(f"unexpected failures: {len(failures)}")
    for f in failures[:20]:
        print("  ", f)
    return 1 if failures or r["server_died"] or r["exit_code"] != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
