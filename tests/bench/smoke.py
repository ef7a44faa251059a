#!/usr/bin/python3
"""Runs one benchmark of the repository in its shortest form and checks it ran end to end.

    smoke.py load_curves|server|engine|json_cpu|step_times   (ctest bench.<name>; env OVMS_BINARY, BENCH_BUILD_DIR)

Checks: exit status 0, the result table with every expected row, zero errors, ratios printed. Never a
timing: the numbers of a one-second run on a shared machine mean nothing, only that they exist."""
import os
import re
import socket
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OVMS = os.environ.get("OVMS_BINARY", "")
BUILD_DIR = os.environ.get("BENCH_BUILD_DIR", "")
PY = "/usr/bin/python3"


def free_port_block(n):
    """A base port with n free consecutive ports on 127.0.0.1 (the scripts take BASE_PORT..BASE_PORT+n-1)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n >= 65535:
            continue
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    sys.exit("no free port block")


def run(cmd, env_extra, timeout=280):
    env = dict(os.environ, **env_extra)
    print("+", " ".join(f"{k}={v}" for k, v in env_extra.items()), " ".join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    print(p.stdout)
    print(p.stderr, file=sys.stderr)
    if p.returncode != 0:
        sys.exit(f"FAIL: exit status {p.returncode}")
    return p.stdout


def table_rows(out, first_cell_pattern):
    """Markdown rows (split in cells) whose first cell matches."""
    rows = []
    for line in out.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if re.fullmatch(first_cell_pattern, cells[0]):
                rows.append(cells)
    return rows


def expect(cond, msg):
    if not cond:
        sys.exit(f"FAIL: {msg}")


def number(cell):
    return float(cell.rstrip("x"))


def load_curves():
    out = run([PY, "bench/load_curves.py"],
              {"MODELS": "mobilenetv2", "CLIENTS": "1 4", "SECONDS": "1", "WARMUP": "0.5", "BUILD": "0",
               "BUILD_DIR": BUILD_DIR, "OVMS_BIN": OVMS, "BASE_PORT": str(free_port_block(2))})
    rows = table_rows(out, "mobilenetv2")
    apis = ["in-process", "tfs-grpc", "kserve-grpc", "tfs-rest", "kserve-rest-binary"]
    expect(sorted((r[1], r[2]) for r in rows) == sorted((a, c) for a in apis for c in ("1", "4")),
           f"expected one row per API and client count, got {[(r[1], r[2]) for r in rows]}")
    for r in rows:
        expect(number(r[3]) > 0 and number(r[4]) > 0 and number(r[5]) > 0, f"empty measurement: {r}")
        expect(number(r[6]) > 0 and number(r[7]) > 0, f"no ratios: {r}")
        expect(r[-1] == "0", f"errors: {r}")
    for api in ("tfs-grpc", "kserve-grpc"):
        expect(re.search(rf"- mobilenetv2 {api}: batch-1 latency at 1 client [\d.]+x of in-process .*: (met|not met)", out),
               f"no latency verdict for {api}")


def server():
    out = run(["bash", "tools/bench_server.sh"],
              {"SECONDS_PER_RUN": "1", "ROUNDS": "1", "CONCURRENCY": "2", "BUILD_DIR": BUILD_DIR, "OVMS_BIN": OVMS,
               "BASE_PORT": str(free_port_block(4))})
    rows = table_rows(out, r"(grpc|rest)-(small|large)")
    expect(sorted(r[0] for r in rows) == ["grpc-large", "grpc-small", "rest-large", "rest-small"],
           f"expected the four cases, got {[r[0] for r in rows]}")
    for r in rows:
        expect(number(r[1]) > 0 and number(r[2]) > 0 and number(r[3]) > 0, f"empty measurement: {r}")
        expect(r[-1] == "0", f"errors: {r}")


def engine():
    out = run(["bash", "tools/bench_engine.sh"],
              {"RUNS": "3", "WARMUP": "1", "ROUNDS": "1", "BATCH": "2", "MODELS": "demo mobilenetv2",
               "BUILD_DIR": BUILD_DIR})
    rows = table_rows(out, "demo|mobilenetv2")
    expect(sorted(r[0] for r in rows) == ["demo", "mobilenetv2"], f"expected two models, got {[r[0] for r in rows]}")
    for r in rows:
        expect(number(r[3]) > 0 and number(r[6]) > 0, f"no ratios: {r}")
        expect(r[7].startswith("yes"), f"the two engines' outputs differ: {r}")


def json_cpu():
    out = run([PY, "bench/json_cpu_bench.py", "--server", f"first={OVMS}", "--server", f"second={OVMS}",
               "--seconds", "1", "--rounds", "1", "--concurrency", "2", "--big-mb", "2"], {})
    rows = table_rows(out, "tfs-row|tfs-column|kserve")
    expect(len(rows) == 6, f"expected 3 cases x 2 servers, got {rows}")
    for r in rows:
        expect(number(r[2]) > 0 and number(r[3]) > 0 and int(r[5]) > 0, f"empty measurement: {r}")
    expect("responses byte-identical across servers: yes" in out, "responses not compared")
    expect(len(table_rows(out, r"batch \d+")) == 2, "no memory rows")


def step_times():
    out = run([PY, "bench/step_times.py", "--seconds", "1", "--ovms", OVMS, "--build-dir", BUILD_DIR,
               "--base-port", str(free_port_block(2))], {})
    rows = table_rows(out, r"(TensorFlowServing|KServe) (gRPC|REST)")
    apis = ["TensorFlowServing gRPC", "KServe gRPC", "TensorFlowServing REST", "KServe REST"]
    expect(sorted((r[0], r[1].split()[0]) for r in rows) == sorted((a, s) for a in apis for s in ("small", "large")),
           f"expected one row per API and request size, got {[(r[0], r[1]) for r in rows]}")
    for r in rows:
        client, in_path, engine = number(r[2]), number(r[3]), number(r[7])
        # The server's own timers were written and add up: every step is part of the path, the path part of
        # what the client waited for.
        expect(client > 0 and in_path > 0 and engine > 0, f"empty measurement: {r}")
        expect(sum(number(c) for c in r[4:11]) <= in_path * 1.01 + 1, f"steps exceed the path: {r}")
        # (Means over slightly different request sets: the server also timed the clients' warm-up calls.)
        expect(in_path <= client * 1.5, f"the path took longer than the client waited: {r}")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("load_curves", "server", "engine", "json_cpu", "step_times"):
        sys.exit(__doc__)
    if sys.argv[1] != "engine":
        expect(OVMS and os.access(OVMS, os.X_OK), f"OVMS_BINARY={OVMS!r} is not an executable")
    expect(BUILD_DIR and os.path.isdir(BUILD_DIR), f"BENCH_BUILD_DIR={BUILD_DIR!r} is not a build tree")
    globals()[sys.argv[1]]()
    print(f"PASS: {sys.argv[1]} ran end to end")


if __name__ == "__main__":
    main()
