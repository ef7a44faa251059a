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
FIXTURES_MISSING = "../shared fixtures not present"
# pytest's exit code when every test that ran passed but some were skipped; tests/e2e/CMakeLists.txt
# declares it as SKIP_RETURN_CODE so ctest reports the file as skipped rather than passed.
EXIT_SKIPPED = 77


def in_ci():
    ci = os.environ.get("CI", "")
    return ci not in ("", "0", "false")


def require_fixture(path):
    """Skips the test when a ../shared fixture is absent; under CI that is a failure instead."""
    if not os.path.exists(path):
        if in_ci():
            pytest.fail(f"CI is set and the fixture {path} is absent")
        pytest.skip(f"{FIXTURES_MISSING}: {path}")


# True when the binary under test is the AddressSanitizer build: its RSS counts ASan's quarantine of
# freed memory and its shadow memory, so RSS bounds are checked in the plain build only (LeakSanitizer
# checks for leaks at exit here instead).
SANITIZED = os.environ.get("OVMS_SANITIZED", "0") == "1"


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
        level = [] if "--log_level" in args else ["--log_level", "DEBUG"]
        self.args = [ovms_binary(), "--port", str(self.grpc_port), "--rest_port", str(self.rest_port)] + level + args
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

    def metrics(self):
        """Samples of GET /metrics (needs --metrics_enable) as {'name{labels}': value}."""
        status, _, body = http("GET", self.rest + "/metrics", timeout=10)
        assert status == 200, body
        samples = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                key, value = line.rsplit(" ", 1)
                samples[key] = float(value)
        return samples

    # The watcher logs these at TRACE (as OVMS does) around each look at config.json and the repositories.
    CYCLE_BEGIN = "Models configuration and filesystem check cycle begin"
    CYCLE_END = "Models configuration and filesystem check cycle end"

    def wait_watcher_looked(self, timeout=30):
        """Returns once a watcher cycle that began after this call has ended (needs --log_level TRACE).
        Use it after changing the disk, before asserting that the change was (or was not) acted on."""
        begun = self.read_log().count(self.CYCLE_BEGIN)
        deadline = time.time() + timeout
        while self.read_log().count(self.CYCLE_END) < begun + 1:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the watcher did not complete a cycle in {timeout}s:\n{self.read_log()}")
            time.sleep(0.05)

    def stop(self, timeout=30, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"ovms did not stop within {timeout} s of {signal.Signals(sig).name}")
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
    require_fixture(src)
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


# ---- skips are visible: failures under CI, one summary line and exit code 77 otherwise ----
_skipped = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.skipped or getattr(rep, "wasxfail", None) is not None:
        return
    reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    if in_ci() and "fixture" in reason:
        # Covers skip markers and pytest.skip() calls in any file, including module-level skipif.
        rep.outcome = "failed"
        rep.longrepr = f"CI is set and a fixture this test needs is absent ({reason})"
        return
    _skipped.append((item.nodeid, reason))


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        reasons = sorted({r.replace("Skipped: ", "") for _, r in _skipped})
        terminalreporter.write_line(f"SKIPPED {len(_skipped)} test(s) ({', '.join(n.split('::')[-1] for n, _ in _skipped)}) "
                                    f"because: {'; '.join(reasons)}")


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _skipped:
        session.exitstatus = EXIT_SKIPPED
