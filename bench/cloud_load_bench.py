#!/usr/bin/python3
"""Load time of a ~100 MB model from s3:// (s3rver) and gs:// (tests/e2e/fake_gcs.py) on loopback
against the same files on local disk, and the server's peak RSS while it downloads a 500 MB
version folder against loading the same folder locally. Runs alternate local/S3/GCS; medians.

  /usr/bin/python3 bench/cloud_load_bench.py --ovms build/src/ovms [--runs 5] [--model-mb 100] [--rss-mb 500]

Needs tools/install_test_peers.sh (s3rver). Prints one table and the ratios."""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import cloud_peers  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from conftest import free_port  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def big_model(path, mb):
    n = int((mb * 1024 * 1024 / 4) ** 0.5)
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((n, n), dtype=np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(m, path)


def small_model(path):
    c = numpy_helper.from_array(np.array(1.0, dtype=np.float32), "c")
    g = helper.make_graph([helper.make_node("Add", ["b", "c"], ["a"])], "small",
                          [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 10])],
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 10])], [c])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(m, path)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def time_to_available(ovms, model_path, env, workdir):
    """Seconds from exec to the model's AVAILABLE status, and the server's peak RSS (KiB) then."""
    port, rest = free_port(), free_port()
    full_env = dict(os.environ, OVMS_STORAGE_CACHE_DIR=workdir, **env)
    log = open(os.path.join(workdir, "ovms.log"), "ab")
    t0 = time.perf_counter()
    p = subprocess.Popen([ovms, "--model_name", "m", "--model_path", model_path, "--port", str(port), "--rest_port",
                          str(rest), "--file_system_poll_wait_seconds", "0"], env=full_env, stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"ovms exited {p.returncode}; see {workdir}/ovms.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{rest}/v1/models/m", timeout=2) as r:
                    if b'"AVAILABLE"' in r.read():
                        return time.perf_counter() - t0, peak_rss_kib(p.pid)
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError("timeout")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        log.close()


def download_ms(workdir):
    """The download time the server logged ("Downloaded ... in N ms"), 0 for local paths."""
    with open(os.path.join(workdir, "ovms.log"), errors="replace") as f:
        for line in f:
            m = re.search(r"Downloaded \S+ to \S+ \(\d+ bytes in (\d+) ms\)", line)
            if m:
                return int(m.group(1))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ovms", default=os.path.join(HERE, "..", "build", "src", "ovms"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model-mb", type=int, default=100)
    ap.add_argument("--rss-mb", type=int, default=500)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cloud-bench-")
    try:
        local = os.path.join(tmp, "local", "m")
        big_model(os.path.join(local, "1", "model.onnx"), a.model_mb)
        model_file = os.path.join(local, "1", "model.onnx")
        size = os.path.getsize(model_file)
        s3 = cloud_peers.S3rver(tmp)
        gcs = cloud_peers.FakeGcs(tmp)
        with open(model_file, "rb") as f:
            data = f.read()
        s3.put("m/1/model.onnx", data)
        gcs.put("m/1/model.onnx", data)
        del data
        cases = [("local", local, {}), ("s3", "s3://models/m", s3.env()),
                 ("gcs", "gs://models/m", {"STORAGE_EMULATOR_HOST": gcs.url})]
        times = {name: [] for name, _, _ in cases}
        downloads = {name: [] for name, _, _ in cases}
        for _ in range(a.runs):
            for name, path, env in cases:
                wd = tempfile.mkdtemp(dir=tmp)
                times[name].append(time_to_available(a.ovms, path, env, wd)[0])
                downloads[name].append(download_ms(wd) / 1000)
                shutil.rmtree(wd)
        print(f"model: {size / 1e6:.1f} MB ONNX (MatMul weight), {a.runs} runs each, alternating")
        print("| source | median s | min s | max s | median / local | download s (median) |")
        print("|---|---|---|---|---|---|")
        base = statistics.median(times["local"])
        for name, _, _ in cases:
            t = times[name]
            print(f"| {name} | {statistics.median(t):.3f} | {min(t):.3f} | {max(t):.3f} | "
                  f"{statistics.median(t) / base:.2f} | {statistics.median(downloads[name]):.3f} |", flush=True)
        # Peak RSS: a small model next to a large unused file, so that loading costs little and the
        # download's own memory shows.
        rss_local = os.path.join(tmp, "rss", "m")
        small_model(os.path.join(rss_local, "1", "model.onnx"))
        blob = os.path.join(rss_local, "1", "padding.bin")
        with open(blob, "wb") as f:
            chunk = os.urandom(1024 * 1024)
            for _ in range(a.rss_mb):
                f.write(chunk)
        with open(os.path.join(rss_local, "1", "model.onnx"), "rb") as f:
            s3.put("rss/1/model.onnx", f.read())
        # Upload the padding in one PUT streamed from the file.
        req = urllib.request.Request(f"{s3.url}/models/rss/1/padding.bin", data=open(blob, "rb"), method="PUT",
                                     headers={"Content-Length": str(os.path.getsize(blob))})
        urllib.request.urlopen(req, timeout=600).read()
        gcs_dir = os.path.join(gcs.root, "models", "rss", "1")
        os.makedirs(gcs_dir, exist_ok=True)
        shutil.copy(blob, gcs_dir)
        shutil.copy(os.path.join(rss_local, "1", "model.onnx"), gcs_dir)
        rss = {}
        for name, path, env in [("local", rss_local, {}), ("s3", "s3://models/rss", s3.env()),
                                ("gcs", "gs://models/rss", {"STORAGE_EMULATOR_HOST": gcs.url})]:
            wd = tempfile.mkdtemp(dir=tmp)
            t, kib = time_to_available(a.ovms, path, env, wd)
            rss[name] = kib
            shutil.rmtree(wd)
            print(f"{a.rss_mb} MB version folder from {name}: available after {t:.2f} s, peak RSS {kib / 1024:.1f} MiB"
                  + ("" if name == "local" else f" ({(kib - rss['local']) / 1024:+.1f} MiB vs local)"))
        s3.stop()
        gcs.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
