"""Hardening (issue 9) of the model lifecycle and the process: a failed version is retried with
backoff (at once when its files change) and says why in its status; SIGTERM stops taking requests,
lets those in flight finish, and exits 0."""
import http.client as httpclient
import json
import os
import shutil
import signal
import socket
import threading
import time

from conftest import DEMO_MODEL, http
from test_lifecycle import add_version, broken_version, make_repo, predict_value, wait_for


def load_errors(server, version):
    needle = f"Error occurred while loading model: m; version: {version};"
    return server.read_log().count(needle)


def version_status(server, version):
    code, _, body = http("GET", f"{server.rest}/v1/models/m/versions/{version}")
    assert code == 200, body
    return json.loads(body)["model_version_status"][0]


def test_failed_version_backs_off_reports_why_and_retries_when_fixed(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1})
    broken_version(repo, 2)
    srv = start_server(["--model_name", "m", "--model_path", repo, "--file_system_poll_wait_seconds", "1"], wait_for="m")
    wait_for(lambda: load_errors(srv, 2) >= 1, 10, "first failure", srv)
    st = version_status(srv, 2)
    assert st["state"] == "LOADING" and st["status"]["error_code"] == "UNKNOWN", st
    # The reason, not only the code's name.
    assert st["status"]["error_message"].startswith("UNKNOWN: "), st
    assert len(st["status"]["error_message"]) > len("UNKNOWN: "), st
    assert version_status(srv, 1)["status"]["error_message"] == "OK"
    # Polled every second, retried after 2, 4, 8 s: at most 3 attempts in 7 s (it was 7 before).
    time.sleep(7)
    attempts = load_errors(srv, 2)
    assert 2 <= attempts <= 3, srv.read_log()[-4000:]
    assert predict_value(srv.rest_port, "m") == (200, 1.0)
    # The next retry is seconds away; fixing the files retries at once.
    shutil.rmtree(os.path.join(repo, "2"))
    add_version(repo, 2, 2)
    t0 = time.time()
    wait_for(lambda: version_status(srv, 2)["state"] == "AVAILABLE", 5, "v2 fixed", srv)
    assert time.time() - t0 < 4
    assert version_status(srv, 2)["status"]["error_message"] == "OK"
    assert predict_value(srv.rest_port, "m") == (200, 2.0)


def test_grpc_status_carries_the_reason(start_server, tmp_path, pb):
    import grpc
    repo = make_repo(str(tmp_path), "m", {1: 1})
    broken_version(repo, 2)
    srv = start_server(["--model_name", "m", "--model_path", repo], wait_for="m")
    with grpc.insecure_channel(srv.grpc_address) as ch:
        stub = pb.model_grpc.ModelServiceStub(ch)
        req = pb.status.GetModelStatusRequest()
        req.model_spec.name = "m"
        req.model_spec.version.value = 2
        r = stub.GetModelStatus(req, timeout=10)
    s = r.model_version_status[0]
    assert s.state == 20 and s.status.error_code == 2
    assert s.status.error_message.startswith("UNKNOWN: ") and len(s.status.error_message) > 9


def predict_body(rows):
    return json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]] * rows})


def test_sigterm_refuses_new_requests_finishes_in_flight_and_exits_0(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--shutdown_grace_period_seconds", "20"],
                       wait_for="demo")
    results, lock, stop = [], threading.Lock(), threading.Event()

    def client():
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = httpclient.HTTPConnection("127.0.0.1", srv.rest_port, timeout=30)
                conn.request("POST", "/v1/models/demo:predict", body=predict_body(2000))
                r = conn.getresponse()
                data = r.read()
                ok = r.status == 200 and len(json.loads(data)["predictions"]) == 2000
                with lock:
                    results.append("ok" if ok else f"bad {r.status} {data[:200]!r}")
            except (ConnectionError, httpclient.RemoteDisconnected, httpclient.BadStatusLine, socket.timeout,
                    OSError):
                # Refused or closed before a response started: the request was not taken.
                with lock:
                    results.append("refused")
                conn = None
                time.sleep(0.01)
            except Exception as e:  # a cut or malformed response: the request was taken and not finished
                with lock:
                    results.append(f"bad {e!r}")
                conn = None

    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: results.count("ok") >= 20, 30, "traffic")
    t0 = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout=30)
    elapsed = time.time() - t0
    stop.set()
    for t in threads:
        t.join(10)
    assert rc == 0
    assert elapsed < 20
    bad = [r for r in results if r not in ("ok", "refused")]
    assert bad == [], bad[:3]
    log = srv.read_log()
    assert "shutting down: not ready any more" in log
    assert "Shutdown complete" in log
    # New connections are refused once it has begun.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", srv.rest_port)) != 0


def test_sigterm_readiness_goes_false_at_once(start_server, pb):
    """KServe ServerReady over gRPC answers false (or the call is refused) as soon as shutdown begins."""
    import grpc
    from kserve import grpc_predict_v2_pb2 as v2, grpc_predict_v2_pb2_grpc as v2_grpc  # pb fixture made them
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL], wait_for="demo")
    with grpc.insecure_channel(srv.grpc_address) as ch:
        stub = v2_grpc.GRPCInferenceServiceStub(ch)
        assert stub.ServerReady(v2.ServerReadyRequest(), timeout=10).ready
        srv.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        answer = True
        while time.time() < deadline:
            try:
                answer = stub.ServerReady(v2.ServerReadyRequest(), timeout=2).ready
            except grpc.RpcError:
                answer = False
            if not answer:
                break
            time.sleep(0.02)
        assert answer is False
    assert srv.proc.wait(timeout=30) == 0
