"""Shared fixtures for end-to-end tests: they start the real `ovms` binary on free loopback ports
and talk to it as clients do (gRPC stubs generated from our protos, plain HTTP)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
DEMO_MODEL = os.path.join(ROOT, "models", "demo_classifier")
TEST_MODELS = os.path.join(SHARED, "fixtures", "ovms-test-models")


def ovms_binary():
    path = os.environ.get("OVMS_BINARY", os.path.join(ROOT, "build", "src", "ovms"))
    if not os.path.exists(path):
        pytest.exit(f"ovms binary not found at {path}; set OVMS_BINARY", returncode=2)
    return path


_stub_dir = None


def stubs_dir():
    """Generates Python gRPC stubs from our .proto files once per session."""
    global _stub_dir
    if _stub_dir is None:
        _stub_dir = tempfile.mkdtemp(prefix="ovms-stubs-")
        subprocess.run(["bash", os.path.join(ROOT, "tools", "gen_python_stubs.sh"), _stub_dir], check=True)
        sys.path.insert(0, _stub_dir)
    return _stub_dir


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=30):
    """Returns (status, headers, body bytes) without raising on HTTP errors."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class OvmsServer:
    def __init__(self, args, workdir):
        self.grpc_port = free_port()
        self.rest_port = free_port()
        self.log_path = os.path.join(workdir, "ovms.log")
        self.args = [ovms_binary(), "--port", str(self.grpc_port), "--rest_port", str(self.rest_port),
                     "--log_level", "DEBUG"] + args
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def rest(self):
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def grpc_address(self):
        return f"127.0.0.1:{self.grpc_port}"

    def wait_available(self, model, version=None, timeout=60):
        url = f"{self.rest}/v1/models/{model}" + (f"/versions/{version}" if version else "")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ovms exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                status, _, body = http("GET", url, timeout=2)
                if status == 200 and b'"AVAILABLE"' in body:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"model {model} not available in {timeout}s:\n{self.read_log()}")

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("ovms did not stop within 30 s of SIGTERM")
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def _start(args, wait_for=None):
        srv = OvmsServer(args, str(tmp_path))
        servers.append(srv)
        if wait_for:
            srv.wait_available(wait_for)
        return srv

    yield _start
    for s in servers:
        rc = s.stop()
        assert rc == 0, f"ovms exit code {rc}\n{s.read_log()}"


@pytest.fixture
def demo_server(start_server):
    return start_server(["--model_name", "demo", "--model_path", DEMO_MODEL], wait_for="demo")


@pytest.fixture
def dummy_repo(tmp_path):
    """A copy of OVMS's `dummy` test model (b + 1 on (1,10) FP32) in a writable repository."""
    src = os.path.join(TEST_MODELS, "dummy")
    if not os.path.isdir(src):
        pytest.skip("../shared fixtures not present")
    dst = tmp_path / "dummy"
    shutil.copytree(src, dst)
    return str(dst)


@pytest.fixture(scope="session")
def pb():
    """Generated protobuf and gRPC modules."""
    stubs_dir()
    import grpc  # noqa: F401  (Debian's python3-grpcio)
    from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc,
                                         predict_pb2, prediction_service_pb2_grpc)
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

    class P:
        pass

    p = P()
    p.predict = predict_pb2
    p.metadata = get_model_metadata_pb2
    p.status = get_model_status_pb2
    p.prediction_grpc = prediction_service_pb2_grpc
    p.model_grpc = model_service_pb2_grpc
    p.tensor = tensor_pb2
    p.shape = tensor_shape_pb2
    p.types = types_pb2
    return p
