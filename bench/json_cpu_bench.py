#!/usr/bin/env python3
"""Server CPU and peak memory per JSON tensor request, for several ovms binaries in one run.

    /usr/bin/python3 bench/json_cpu_bench.py --server before=/tmp/ovms_old --server after=build/src/ovms

Each server (NAME=BINARY) serves bench/models/add_one (y = x + 1, x f32 [N,3,224,224]; made by
bench/make_bench_models.py if missing). For each case, a 1x3x224x224 FP32 tensor as JSON:
  tfs-row     TF-Serving :predict {"instances": [...]}
  tfs-column  TF-Serving :predict {"inputs": {"x": [...]}}
  kserve      KServe /v2/.../infer {"inputs": [{"name": "x", ..., "data": [...]}]}
CONCURRENCY clients (default 2) send requests back to back for SECONDS (default 5) after a warm-up;
the server's CPU time per request is utime+stime from /proc/<pid>/stat over the run divided by the
requests answered (so the load client's own CPU does not count). The servers run one after the
other in each round (ROUNDS, default 2; the best of each is kept), and every response body must be
byte-identical across servers. Then the peak RSS of one large TF-Serving JSON request (--big-mb,
default 18 MB; batch N of the same image) on a fresh server: VmHWM after the request minus VmRSS
before it. Prints one table with the ratios of every server to the first. Not a ctest.
Values are float32 numbers printed by Python's repr (up to 17 digits), as numpy's tolist() gives."""
import argparse
import http.client as httpclient
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def image(batch, rng):
    import struct
    n = 3 * 224 * 224
    # float32 values in [-0.5, 0.5) as numpy's tolist() would give them (repr of the float32 as a double)
    vals = [struct.unpack("f", struct.pack("f", rng.random() - 0.5))[0] for _ in range(n)]
    img = [[[vals[(c * 224 + y) * 224:(c * 224 + y + 1) * 224] for y in range(224)] for c in range(3)]]
    return img * batch


def bodies():
    rng = random.Random(14)
    img = image(1, rng)
    flat = [v for c in img[0] for row in c for v in row]
    sep = (",", ":")
    return {
        "tfs-row": ("/v1/models/add_one:predict", json.dumps({"instances": img}, separators=sep)),
        "tfs-column": ("/v1/models/add_one:predict", json.dumps({"inputs": {"x": img}}, separators=sep)),
        "kserve": ("/v2/models/add_one/infer", json.dumps(
            {"inputs": [{"name": "x", "shape": [1, 3, 224, 224], "datatype": "FP32", "data": flat}]}, separators=sep)),
    }


class Server:
    def __init__(self, name, binary, tmp):
        self.name, self.binary = name, binary
        self.port = free_port()
        cfg = os.path.join(tmp, f"config_{name}.json")
        with open(cfg, "w") as f:
            json.dump({"model_config_list": [{"config": {"name": "add_one",
                                                         "base_path": os.path.join(ROOT, "bench/models/add_one")}}]}, f)
        self.log = open(os.path.join(tmp, f"{name}.log"), "w")
        self.proc = subprocess.Popen([binary, "--config_path", cfg, "--port", str(free_port()), "--rest_port",
                                      str(self.port), "--grpc_bind_address", "127.0.0.1", "--rest_bind_address",
                                      "127.0.0.1", "--log_level", "WARNING"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v1/models/add_one")
                if b"AVAILABLE" in c.getresponse().read():
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        sys.exit(f"{name}: server did not start (log in {self.log.name})")

    def post(self, conn, path, body):
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"{self.name}: {path} answered {r.status}: {data[:200]!r}")
        return data

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_case(server, path, body, seconds, concurrency):
    conns = [httpclient.HTTPConnection("127.0.0.1", server.port, timeout=60) for _ in range(concurrency)]
    first = server.post(conns[0], path, body)
    for c in conns:
        server.post(c, path, body)  # warm-up
    count = [0] * concurrency
    stop = time.time() + seconds
    cpu0 = cpu_seconds(server.proc.pid)

    def client(i):
        while time.time() < stop:
            server.post(conns[i], path, body)
            count[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    cpu = cpu_seconds(server.proc.pid) - cpu0
    for c in conns:
        c.close()
    n = sum(count)
    return {"cpu_ms": 1000 * cpu / n, "req_s": n / wall, "requests": n}, first


def peak_rss(name, binary, tmp, big_mb):
    rng = random.Random(9)
    one = json.dumps(image(1, rng), separators=(",", ":"))
    batch = max(1, round(big_mb * 1e6 / len(one)))
    body = '{"instances":[' + ",".join([one[1:-1]] * batch) + "]}"
    server = Server(name, binary, tmp)
    try:
        conn = httpclient.HTTPConnection("127.0.0.1", server.port, timeout=120)
        small = '{"instances":' + json.dumps(image(1, rng), separators=(",", ":")) + "}"
        server.post(conn, "/v1/models/add_one:predict", small)  # first-request allocations
        time.sleep(0.5)
        before = status_kb(server.proc.pid, "VmRSS")
        server.post(conn, "/v1/models/add_one:predict", body)
        peak = status_kb(server.proc.pid, "VmHWM")
        conn.close()
        return {"body_mb": len(body) / 1e6, "batch": batch, "rss_before_mb": before / 1024,
                "peak_added_mb": (peak - before) / 1024}
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", action="append", required=True, help="NAME=BINARY (the first is the baseline)")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SECONDS", 5)))
    ap.add_argument("--concurrency", type=int, default=int(os.environ.get("CONCURRENCY", 2)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 2)))
    ap.add_argument("--big-mb", type=float, default=18)
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    servers = [s.split("=", 1) for s in args.server]
    if not os.path.exists(os.path.join(ROOT, "bench/models/add_one/1/model.onnx")):
        subprocess.check_call(["/usr/bin/python3", os.path.join(ROOT, "bench/make_bench_models.py")],
                              stdout=subprocess.DEVNULL)
    cases = bodies()
    with open("/proc/loadavg") as f:
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {os.cpu_count()} cores, load before: "
              f"{' '.join(f.read().split()[:3])}")
    for case, (path, body) in cases.items():
        print(f"# {case}: {len(body)} byte body")
    best = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for name, binary in order:
                server = Server(name, binary, tmp)
                try:
                    for case, (path, body) in cases.items():
                        res, response = run_case(server, path, body, args.seconds, args.concurrency)
                        key = (name, case)
                        if key not in best or res["cpu_ms"] < best[key]["cpu_ms"]:
                            best[key] = res
                        ref = best.setdefault(("response", case), response)
                        if response != ref:
                            sys.exit(f"{name}: {case} response differs from the other server's")
                finally:
                    server.stop()
        base = servers[0][0]
        print("| case | server | server CPU ms/request | vs " + base + " | req/s | requests |")
        print("|---|---|---|---|---|---|")
        for case in cases:
            for name, _ in servers:
                r = best[(name, case)]
                print(f"| {case} | {name} | {r['cpu_ms']:.2f} | {r['cpu_ms'] / best[(base, case)]['cpu_ms']:.2f}x "
                      f"| {r['req_s']:.1f} | {r['requests']} |")
        print("# responses byte-identical across servers: yes")
        if not args.no_memory:
            print("| one large TFS JSON request | server | body MB | RSS before MB | peak added MB | peak added / body |")
            print("|---|---|---|---|---|---|")
            for name, binary in servers:
                m = peak_rss(name, binary, tmp, args.big_mb)
                print(f"| batch {m['batch']} | {name} | {m['body_mb']:.1f} | {m['rss_before_mb']:.0f} | "
                      f"{m['peak_added_mb']:.0f} | {m['peak_added_mb'] / m['body_mb']:.1f}x |")
    with open("/proc/loadavg") as f:
        print(f"# load after: {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
