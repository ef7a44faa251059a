#!/usr/bin/python3
"""First-request latency with and without warmup, measured in one run.

For each round, ovms is started twice on the same model: once plain and once with --warmup_iterations N
(order alternates between rounds). When the version is AVAILABLE, one KServe gRPC ModelInfer (batch 1,
zeros, raw_input_contents) is timed on a channel that is already connected (ServerLive first), then
`--followers` more requests are timed; the median of those is the "steady" latency. Prints one line per
start and the medians and ratios at the end.

Usage: /usr/bin/python3 bench/warmup_first_request.py --model bench/models/mobilenetv2 [--rounds 5]
       [--warmup 3] [--ovms build/src/ovms]
(models: /usr/bin/python3 bench/make_bench_models.py). Needs python3-grpcio and python3-numpy.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import grpc
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stubs():
    out = tempfile.mkdtemp(prefix="ovms-bench-stubs-")
    subprocess.run(["bash", os.path.join(ROOT, "tools", "gen_python_stubs.sh"), out], check=True,
                   stdout=subprocess.DEVNULL)
    sys.path.insert(0, out)
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def one_start(args, kpb, kgrpc, warmup, log_dir):
    port = free_port()
    cmd = [args.ovms, "--port", str(port), "--model_name", "m", "--model_path", os.path.abspath(args.model),
           "--log_level", "INFO"]
    if warmup:
        cmd += ["--warmup_iterations", str(warmup)]
    log = open(os.path.join(log_dir, f"ovms-{port}.log"), "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        ch = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = kgrpc.GRPCInferenceServiceStub(ch)
        deadline = time.time() + 120
        meta = None
        while time.time() < deadline:
            try:
                if stub.ModelReady(kpb.ModelReadyRequest(name="m"), timeout=2).ready:
                    meta = stub.ModelMetadata(kpb.ModelMetadataRequest(name="m"), timeout=5)
                    break
            except grpc.RpcError:
                pass
            time.sleep(0.02)
        if meta is None:
            raise RuntimeError("model not ready")
        req = kpb.ModelInferRequest(model_name="m")
        for t in meta.inputs:
            shape = [1 if d < 0 else d for d in t.shape]
            inp = req.inputs.add(name=t.name, datatype=t.datatype, shape=shape)
            assert t.datatype == "FP32", "the bench feeds FP32 inputs"
            req.raw_input_contents.append(np.zeros(shape, dtype=np.float32).tobytes())
            del inp
        times = []
        for _ in range(1 + args.followers):
            t0 = time.perf_counter()
            stub.ModelInfer(req, timeout=60)
            times.append((time.perf_counter() - t0) * 1000)
        ch.close()
        return times[0], statistics.median(times[1:])
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "bench", "models", "mobilenetv2"))
    p.add_argument("--ovms", default=os.path.join(ROOT, "build", "src", "ovms"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--followers", type=int, default=20)
    args = p.parse_args()
    kpb, kgrpc = stubs()
    log_dir = tempfile.mkdtemp(prefix="ovms-bench-warmup-")
    first = {0: [], args.warmup: []}
    steady = {0: [], args.warmup: []}
    for r in range(args.rounds):
        order = [0, args.warmup] if r % 2 == 0 else [args.warmup, 0]
        for w in order:
            f, s = one_start(args, kpb, kgrpc, w, log_dir)
            first[w].append(f)
            steady[w].append(s)
            print(f"round {r + 1} warmup={w}: first request {f:.1f} ms, steady median {s:.1f} ms", flush=True)
    cold, warm = statistics.median(first[0]), statistics.median(first[args.warmup])
    s_cold, s_warm = statistics.median(steady[0]), statistics.median(steady[args.warmup])
    print(f"model {args.model}, {args.rounds} rounds, warmup {args.warmup} iterations")
    print(f"first request, no warmup:   median {cold:.1f} ms ({cold / s_cold:.2f}x its steady {s_cold:.1f} ms)")
    print(f"first request, with warmup: median {warm:.1f} ms ({warm / s_warm:.2f}x its steady {s_warm:.1f} ms)")
    print(f"first-request ratio no-warmup/warmup: {cold / warm:.2f}x")


if __name__ == "__main__":
    main()
