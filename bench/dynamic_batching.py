#!/usr/bin/python3
"""Dynamic batching: throughput with N concurrent batch-1 gRPC clients and latency with 1 client, the same
model served without and with `dynamic_batching`, measured side by side in one run (servers alternate
within each round) and printed as ratios.

  /usr/bin/python3 bench/make_bench_models.py
  /usr/bin/python3 bench/dynamic_batching.py [--model bench/models/mobilenetv2] [--input input]
      [--shape 1,3,224,224] [--clients 16] [--seconds 10] [--rounds 3] [--max-batch 16] [--delay-us 2000]
      [--nireq 0] [--grpc-max-threads 64] [--grpc-load build/bench/grpc_load] [--ovms build/src/ovms]

Clients are TF-Serving gRPC Predict calls, each keeping one call in flight on its own channel (closed
loop), with zeros as tensor_content: bench/grpc_load.cpp when built (ninja -C build grpc_load), else
python3-grpcio threads sending a request serialized once (the GIL then caps how many calls are really in
flight). Both servers get --grpc_max_threads 64: the default (8 x cores = 16 here) answers "Server
Threadpool Exhausted" to 16 clients whose calls wait in the server. The servers' own /metrics give the
rows per engine run, the engine time per run and the 1-client queue wait. Targets (issue 14): throughput with
batching >= 1.5x without at 16 clients; 1-client p50 latency with batching <= p50 without + delay + 5%.
tests/e2e/test_dynamic_batching.py runs a short version of this script on a tiny model (a smoke test).
"""
import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _field(num, payload):  # a length-delimited protobuf field
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def predict_request_bytes(model, input_name, shape):
    """tensorflow.serving.PredictRequest with one DT_FLOAT input of zeros, hand-encoded (no stubs needed)."""
    count = 1
    for d in shape:
        count *= d
    dims = b"".join(_field(2, _varint(1 << 3) + _varint(d)) for d in shape)  # TensorShapeProto.dim{size}
    tensor = _varint(1 << 3) + _varint(1)  # dtype = DT_FLOAT
    tensor += _field(2, dims)  # tensor_shape
    tensor += _field(4, struct.pack(f"<{count}f", *([0.0] * count)))  # tensor_content
    entry = _field(1, input_name.encode()) + _field(2, tensor)  # map<string, TensorProto> entry
    return _field(1, _field(1, model.encode())) + _field(2, entry)  # model_spec{name}, inputs


class Server:
    def __init__(self, ovms, model_dir, workdir, batching, nireq, grpc_max_threads):
        self.grpc_port, self.rest_port = free_port(), free_port()
        config = {"name": "m", "base_path": os.path.abspath(model_dir)}
        if nireq:
            config["nireq"] = nireq
        if batching is not None:
            config["dynamic_batching"] = batching
        cfg = os.path.join(workdir, f"config_{self.grpc_port}.json")
        with open(cfg, "w") as f:
            json.dump({"model_config_list": [{"config": config}], "monitoring": {"metrics": {"enable": True}}}, f)
        self.log = open(os.path.join(workdir, f"ovms_{self.grpc_port}.log"), "wb")
        self.proc = subprocess.Popen([ovms, "--config_path", cfg, "--port", str(self.grpc_port), "--rest_port",
                                      str(self.rest_port), "--log_level", "WARNING", "--grpc_max_threads",
                                      str(grpc_max_threads)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ovms exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.rest_port}/v1/models/m", timeout=2) as r:
                    if b'"AVAILABLE"' in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("model not available in 120 s")

    def histograms(self):
        """(sum, count) of the server's per-request histograms for model m, from GET /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.rest_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            for family in ("ovms_wait_for_infer_req_time_us", "ovms_inference_time_us", "ovms_dynamic_batch_size"):
                for part in ("sum", "count"):
                    if line.startswith(f"{family}_{part}{{"):
                        out[(family, part)] = float(line.rsplit(" ", 1)[1])
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def load_python(address, request, clients, seconds):
    """Closed loop: `clients` threads, one call in flight each. Returns (calls per second, p50 ms, errors)."""
    import grpc
    latencies, errors = [], []
    lock = threading.Lock()
    go = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client():
        channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 1 << 30)])
        call = channel.unary_unary("/tensorflow.serving.PredictionService/Predict")
        call(request, timeout=60)  # connect before timing
        mine = []
        go.wait()
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            try:
                call(request, timeout=60)
            except grpc.RpcError as e:
                with lock:
                    errors.append(str(e.code()))
                continue
            mine.append(time.perf_counter() - t0)
        channel.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + 3600
    go.wait()
    start = time.perf_counter()
    stop_at[0] = start + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    return len(latencies) / elapsed, p50, errors


def load_cpp(grpc_load, address, input_name, shape, clients, seconds):
    """The same closed loop with bench/grpc_load.cpp (no Python GIL in the client): (calls/s, p50 ms, errors)."""
    out = subprocess.run([grpc_load, "--target", address, "--model", "m", "--input", input_name, "--shape",
                          ",".join(str(d) for d in shape), "--concurrency", str(clients), "--channels", str(clients),
                          "--seconds", str(seconds), "--warmup-seconds", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False, text=True).stdout
    line = [x for x in out.splitlines() if x.startswith("{")]
    if not line:
        raise RuntimeError(f"grpc_load failed: {out}")
    r = json.loads(line[-1])
    return r["req_per_s"], r["p50_ms"], ["error"] * int(r.get("errors", 0))


def run(ovms, model_dir, input_name="input", shape=(1, 3, 224, 224), clients=16, seconds=10.0, rounds=3,
        max_batch=16, delay_us=2000, nireq=0, quiet=False, grpc_load=None, grpc_max_threads=64):
    request = predict_request_bytes("m", input_name, list(shape))
    if grpc_load:
        def load(address, _request, n, secs):  # noqa: F811 (the C++ client replaces the Python one)
            return load_cpp(grpc_load, address, input_name, shape, n, secs)
    else:
        load = load_python
    batching = {"max_batch_size": max_batch, "max_queue_delay_microseconds": delay_us}
    results = {"plain": [], "batched": []}
    server = {"plain": [], "batched": []}  # the server's own means per round, from /metrics
    errors = []
    with tempfile.TemporaryDirectory() as workdir:
        for r in range(rounds):
            order = ["plain", "batched"] if r % 2 == 0 else ["batched", "plain"]
            for kind in order:
                srv = Server(ovms, model_dir, workdir, batching if kind == "batched" else None, nireq, grpc_max_threads)
                try:
                    address = f"127.0.0.1:{srv.grpc_port}"
                    load(address, request, clients, min(1.0, seconds / 4))  # warm up the sessions
                    h0 = srv.histograms()
                    rps, _, e1 = load(address, request, clients, seconds)
                    h1 = srv.histograms()
                    _, p50, e2 = load(address, request, 1, seconds / 2)
                    h2 = srv.histograms()
                finally:
                    srv.stop()
                errors += e1 + e2
                results[kind].append((rps, p50))

                def mean(a, b, family):  # per-observation mean of a histogram between two scrapes
                    n = b.get((family, "count"), 0) - a.get((family, "count"), 0)
                    return (b.get((family, "sum"), 0) - a.get((family, "sum"), 0)) / n if n else float("nan")
                server[kind].append({"rows_per_run": mean(h0, h1, "ovms_dynamic_batch_size"),
                                     "engine_us": mean(h0, h1, "ovms_inference_time_us"),
                                     "wait_us_1_client": mean(h1, h2, "ovms_wait_for_infer_req_time_us"),
                                     "engine_us_1_client": mean(h1, h2, "ovms_inference_time_us")})
                if not quiet:
                    s = server[kind][-1]
                    print(f"round {r + 1} {kind:8s}: {clients} clients {rps:8.1f} req/s (rows per engine run "
                          f"{s['rows_per_run']:.1f}, engine {s['engine_us'] / 1000:.1f} ms/run); 1 client p50 "
                          f"{p50:7.2f} ms (server: queue wait {s['wait_us_1_client'] / 1000:.2f} ms, engine "
                          f"{s['engine_us_1_client'] / 1000:.2f} ms)", flush=True)
    plain_rps = statistics.median(x for x, _ in results["plain"])
    batched_rps = statistics.median(x for x, _ in results["batched"])
    plain_p50 = statistics.median(y for _, y in results["plain"])
    batched_p50 = statistics.median(y for _, y in results["batched"])
    allowed = plain_p50 * 1.05 + delay_us / 1000
    summary = {
        "clients": clients, "rounds": rounds, "seconds": seconds, "max_batch_size": max_batch,
        "max_queue_delay_us": delay_us, "plain_req_per_s": round(plain_rps, 1),
        "batched_req_per_s": round(batched_rps, 1), "throughput_ratio": round(batched_rps / plain_rps, 3),
        "plain_p50_ms_1_client": round(plain_p50, 2), "batched_p50_ms_1_client": round(batched_p50, 2),
        "latency_cost_ms": round(batched_p50 - plain_p50, 2), "latency_allowed_ms": round(allowed, 2),
        "latency_ratio_to_allowed": round(batched_p50 / allowed, 3), "errors": len(errors),
        "batched_rows_per_run": round(statistics.median(s["rows_per_run"] for s in server["batched"]), 2),
        "plain_wait_us_1_client": round(statistics.median(s["wait_us_1_client"] for s in server["plain"]), 1),
        "batched_wait_us_1_client": round(statistics.median(s["wait_us_1_client"] for s in server["batched"]), 1),
    }
    if not quiet:
        print(f"clients: {'bench/grpc_load' if grpc_load else 'Python grpcio'}")
        print(f"throughput with / without batching at {clients} clients: {summary['throughput_ratio']:.2f}x "
              f"(target >= 1.5x)")
        print(f"1-client p50: {batched_p50:.2f} ms with, {plain_p50:.2f} ms without; cost "
              f"{summary['latency_cost_ms']:.2f} ms, allowed {delay_us / 1000:.2f} ms delay + 5% = {allowed:.2f} ms "
              f"p50 (ratio {summary['latency_ratio_to_allowed']:.2f}, target <= 1)")
        print(json.dumps(summary))
    return summary


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ovms", default=os.path.join(ROOT, "build", "src", "ovms"))
    p.add_argument("--model", default=os.path.join(ROOT, "bench", "models", "mobilenetv2"))
    p.add_argument("--input", default="input")
    p.add_argument("--shape", default="1,3,224,224")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-batch", type=int, default=16)
    p.add_argument("--delay-us", type=int, default=2000)
    p.add_argument("--nireq", type=int, default=0, help="0 = the server's default")
    p.add_argument("--grpc-max-threads", type=int, default=64,
                   help="both servers; the default (8 x cores) refuses 16 blocking calls on 2 cores")
    p.add_argument("--grpc-load", default=os.path.join(ROOT, "build", "bench", "grpc_load"),
                   help="C++ load client (ninja -C build grpc_load); Python clients when the file is absent")
    a = p.parse_args()
    if not os.path.isdir(a.model):
        sys.exit(f"{a.model} is missing: run /usr/bin/python3 bench/make_bench_models.py first")
    run(a.ovms, a.model, a.input, [int(d) for d in a.shape.split(",")], a.clients, a.seconds, a.rounds,
        a.max_batch, a.delay_us, a.nireq, grpc_load=a.grpc_load if os.path.exists(a.grpc_load) else None,
        grpc_max_threads=a.grpc_max_threads)


if __name__ == "__main__":
    main()
