#!/usr/bin/env python3
"""Memory under a burst of large REST bodies (issue 9, point 2), measured for several servers in one run.

    /usr/bin/python3 bench/memory_burst.py --server ours=build/src/ovms \
        --server main=/path/to/other/ovms --server ours+jemalloc=build/src/ovms:/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

Each server (NAME=BINARY[:LD_PRELOAD]) serves the demo model; CLIENTS clients each POST one
BODY_MB MB JSON body at once (valid, then invalid JSON), and RSS is sampled every 20 ms. Prints
RSS before, peak, 2 s after each burst ("after") and after one more small request ("next"), and the
after/before, next/before and peak/(bytes in flight + before) ratios.
Extra ovms flags for every server: --args "...". Not a ctest."""
import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client as httpclient

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


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


def post(port, body, out, i):
    try:
        c = httpclient.HTTPConnection("127.0.0.1", port, timeout=300)
        c.request("POST", "/v1/models/demo:predict", body=body)
        r = c.getresponse()
        r.read()
        out[i] = r.status
        c.close()
    except Exception as e:  # noqa: BLE001
        out[i] = repr(e)


def burst(pid, port, body, clients, small):
    before = rss_kb(pid)
    results = [None] * clients
    threads = [threading.Thread(target=post, args=(port, body, results, i)) for i in range(clients)]
    for t in threads:
        t.start()
    peak = before
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_kb(pid))
        time.sleep(0.02)
    time.sleep(2)
    after = rss_kb(pid)
    # The engine gives its arena back on the first run after a burst of large ones (1 s later):
    # one ordinary request, then RSS again.
    post(port, small, [None], 0)
    time.sleep(0.5)
    after_next = rss_kb(pid)
    codes = {}
    for r in results:
        codes[r] = codes.get(r, 0) + 1
    return before, peak, after, after_next, codes


def measure(name, binary, preload, clients, body_mb, extra):
    port = free_port()
    env = dict(os.environ)
    if preload:
        env["LD_PRELOAD"] = preload
    log = tempfile.NamedTemporaryFile(prefix=f"ovms-burst-{name}-", suffix=".log", delete=False)
    proc = subprocess.Popen([binary, "--model_name", "demo", "--model_path", os.path.join(ROOT, "models", "demo_classifier"),
                             "--port", "0", "--rest_port", str(port), *extra], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(300):
            try:
                c = httpclient.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/v1/models/demo")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        rows = int(body_mb * 1024 * 1024 / 24)
        valid = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]] * rows}).encode()
        invalid = b'{"instances": [' + b"1.0," * int(body_mb * 1024 * 1024 / 4) + b"]"
        small = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
        for _ in range(3):
            post(port, small, [None], 0)
        time.sleep(1)
        out = []
        for label, body in (("valid", valid), ("invalid", invalid)):
            before, peak, after, after_next, codes = burst(proc.pid, port, body, clients, small)
            inflight_kb = clients * len(body) / 1024
            out.append((label, before, peak, after, after_next, codes, inflight_kb))
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="append", required=True, help="NAME=BINARY[:LD_PRELOAD]")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--body_mb", type=float, default=10)
    ap.add_argument("--args", default="", help="extra ovms flags")
    a = ap.parse_args()
    print(f"{a.clients} clients x {a.body_mb} MB bodies; RSS in MB")
    print(f"{'server':24} {'body':8} {'before':>7} {'peak':>7} {'after':>7} {'next':>7} {'after/before':>12} "
          f"{'next/before':>11} {'peak/(inflight+before)':>22}  answers")
    for spec in a.server:
        name, rest = spec.split("=", 1)
        binary, _, preload = rest.partition(":")
        for label, before, peak, after, after_next, codes, inflight in measure(
                name, binary, preload, a.clients, a.body_mb, shlex.split(a.args)):
            print(f"{name:24} {label:8} {before / 1024:7.0f} {peak / 1024:7.0f} {after / 1024:7.0f} "
                  f"{after_next / 1024:7.0f} {after / before:12.2f} {after_next / before:11.2f} "
                  f"{peak / (inflight + before):22.2f}  {codes}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
