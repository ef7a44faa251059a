"""The ovms process as an operator sees it: flags, exit codes, logs, shutdown."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import grpc
import numpy as np
import pytest

import model_factory
from conftest import DEMO_MODEL, free_port, http, ovms_binary


def run(args, timeout=30):
    p = subprocess.run([ovms_binary()] + args, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_help_and_version():
    rc, out, _ = run([])
    assert rc == 0 and "--model_path" in out and "--rest_port" in out
    rc, out, _ = run(["--help"])
    assert rc == 0 and "--config_path" in out
    rc, out, _ = run(["--version"])
    assert rc == 0 and out.startswith("OpenVINO Model Server ")


@pytest.mark.parametrize("args,message", [
    (["--config_path", "/c.json", "--model_name", "m"], "Use either config_path or model_path with model_name"),
    (["--model_name", "m"], "Use config_path or model_path with model_name"),
    (["--config_path", "/c.json", "--nireq", "2"], "Model parameters in CLI are exclusive with the config file"),
    (["--model_name", "m", "--model_path", "/x", "--metrics_enable"],
     "rest_port setting is missing, metrics are enabled on rest port"),
    (["--model_name", "m", "--model_path", "/x", "--port", "0"], "port and rest_port cannot both be unset"),
    (["--model_name", "m", "--model_path", "/x", "--rest_port", "8000", "--rest_workers", "1"],
     "rest_workers count should be from 2 to 10000"),
    (["--model_name", "m", "--model_path", "/x", "--port", "70000"], "port number out of range from 0 to 65535"),
    (["--model_name", "m", "--model_path", "/x", "--port", "8000", "--rest_port", "8000"],
     "port and rest_port cannot have the same values"),
    (["--model_name", "m", "--model_path", "/x", "--log_level", "VERBOSE"],
     "log_level should be one of: TRACE, DEBUG, INFO, WARNING, ERROR"),
    (["--model_name", "m", "--model_path", "/x", "--no_such_flag", "1"], "error parsing options - unmatched arguments"),
])
def test_invalid_command_lines_exit_64(args, message):
    rc, _, err = run(args)
    assert rc == 64
    assert message in err


def test_missing_model_path_exits_1(tmp_path):
    log = tmp_path / "ovms.log"
    rc, out, _ = run(["--model_name", "m", "--model_path", str(tmp_path / "nope"), "--port", str(free_port()),
                      "--log_path", str(log)])
    assert rc == 1
    assert "The provided base path is invalid or doesn't exists" in log.read_text()


def test_busy_port_exits_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        rc, out, err = run(["--model_name", "demo", "--model_path", DEMO_MODEL, "--port", str(free_port()),
                            "--rest_port", str(port), "--rest_bind_address", "127.0.0.1"])
    assert rc == 1


LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[(serving|modelmanager)\]\[(trace|debug|info|warning|error)\]\[[\w.]+:\d+\] ")


def test_log_format_and_state_changes(start_server, tmp_path):
    log = tmp_path / "file.log"
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--log_path", str(log)], wait_for="demo")
    text = log.read_text()
    lines = [l for l in text.splitlines() if l]
    assert lines and all(LINE.match(l) for l in lines), text
    assert f"Started gRPC server on port {srv.grpc_port}" in text
    assert "Started REST server" in text
    assert "Started model manager thread" in text
    assert ('STATUS CHANGE: Version 1 of model demo status change. New status: '
            '( "state": "AVAILABLE", "error_code": "OK" )') in text


def test_highest_version_served_and_new_versions_picked_up(start_server, tmp_path):
    repo = str(tmp_path / "m")
    model_factory.add_const(repo, 1.0, version=1)
    model_factory.add_const(repo, 2.0, version=2)
    srv = start_server(["--model_name", "m", "--model_path", repo], wait_for="m")
    body = json.dumps({"instances": [[0.0] * 10]})

    def answer():
        status, _, resp = http("POST", srv.rest + "/v1/models/m:predict", body)
        assert status == 200, resp
        return json.loads(resp)["predictions"][0][0]

    assert answer() == 2.0
    st = json.loads(http("GET", srv.rest + "/v1/models/m")[2])
    assert [v["version"] for v in st["model_version_status"]] == ["2"]
    model_factory.add_const(repo, 3.0, version=3)
    deadline = time.time() + 20
    while answer() != 3.0 and time.time() < deadline:
        time.sleep(0.2)
    assert answer() == 3.0
    st = json.loads(http("GET", srv.rest + "/v1/models/m")[2])
    assert [(v["version"], v["state"]) for v in st["model_version_status"]] == [("2", "END"), ("3", "AVAILABLE")]
    status, _, resp = http("POST", srv.rest + "/v1/models/m/versions/2:predict", body)
    assert (status, json.loads(resp)) == (404, {"error": "Model with requested version is retired"})


def test_broken_version_falls_back(start_server, tmp_path):
    repo = str(tmp_path / "m")
    model_factory.add_const(repo, 1.0, version=1)
    os.makedirs(os.path.join(repo, "2"))
    with open(os.path.join(repo, "2", "model.onnx"), "wb") as f:
        f.write(b"this is not an onnx model")
    srv = start_server(["--model_name", "m", "--model_path", repo], wait_for="m")
    st = json.loads(http("GET", srv.rest + "/v1/models/m")[2])
    states = {v["version"]: (v["state"], v["status"]["error_code"]) for v in st["model_version_status"]}
    assert states == {"1": ("AVAILABLE", "OK"), "2": ("LOADING", "UNKNOWN")}
    status, _, resp = http("POST", srv.rest + "/v1/models/m:predict", json.dumps({"instances": [[0.0] * 10]}))
    assert status == 200 and json.loads(resp)["predictions"] == [[1.0] * 10]


def metric_samples(rest_port):
    _, _, body = http("GET", f"http://127.0.0.1:{rest_port}/metrics", timeout=10)
    return {k: float(v) for k, v in (line.rsplit(" ", 1) for line in body.decode().splitlines()
                                     if line and not line.startswith("#"))}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_signal_lets_in_flight_requests_finish(pb, tmp_path, sig):
    """Requests the server is working on when SIGTERM or SIGINT (Ctrl-C) arrives complete; then it exits 0."""
    import shape_models
    from test_tfs_grpc import make_tensor, predict_request
    width, layers = 512, 32
    repo = shape_models.heavy(str(tmp_path / "heavy"), width=width, layers=layers)
    grpc_port, rest_port = free_port(), free_port()
    log = open(tmp_path / "log", "wb")
    proc = subprocess.Popen([ovms_binary(), "--model_name", "heavy", "--model_path", repo, "--port", str(grpc_port),
                             "--rest_port", str(rest_port), "--nireq", "2", "--metrics_enable",
                             "--metrics_list", "ovms_current_requests,ovms_infer_req_active"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if b'"AVAILABLE"' in http("GET", f"http://127.0.0.1:{rest_port}/v1/models/heavy", timeout=2)[2]:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        # One connection per request: the server allows `cores` concurrent streams per connection
        # (OVMS's default), so requests beyond that would still be queued in the client.
        channels = [grpc.insecure_channel(f"127.0.0.1:{grpc_port}",
                                          options=[("grpc.max_receive_message_length", 1 << 30),
                                                   ("grpc.use_local_subchannel_pool", 1)]) for _ in range(4)]
        x = np.random.default_rng(0).standard_normal((2048, width)).astype(np.float32)  # 4 MiB, ~0.3 s each
        req = predict_request(pb, "heavy", {"x": make_tensor(pb, x, "DT_FLOAT")})
        done_at = []
        futures = [pb.prediction_grpc.PredictionServiceStub(ch).Predict.future(req, timeout=120) for ch in channels]
        for f in futures:
            f.add_done_callback(lambda _: done_at.append(time.time()))
        # Signal only once the server holds all four: two computing, two waiting for an infer slot.
        while True:
            samples = metric_samples(rest_port)
            current = samples.get('ovms_current_requests{name="heavy",version="1"}')
            active = samples.get('ovms_infer_req_active{name="heavy",version="1"}')
            if (current, active) == (4, 2):
                break
            assert not done_at, f"a request finished before all four were in the server ({current}, {active})"
            assert time.time() < deadline
            time.sleep(0.01)
        signalled_at = time.time()
        proc.send_signal(sig)
        results = [f.result() for f in futures]
        assert max(done_at) > signalled_at, "no request was still in flight when the signal was sent"
        expected = shape_models.heavy_reference(repo, x[:4], width=width, layers=layers)
        for r in results:
            out = r.outputs["y"]
            got = np.frombuffer(out.tensor_content, np.float32).reshape([d.size for d in out.tensor_shape.dim])
            assert got.shape == (2048, width)
            np.testing.assert_allclose(got[:4], expected, rtol=1e-3, atol=1e-3)
        assert proc.wait(timeout=5) == 0  # and the process exits promptly
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
