"""A request to a version that is still loading waits for it (up to 10 s, §4.2) instead of failing."""
import json
import socket
import time

from conftest import http
from test_kserve_grpc import slow_model


def test_request_waits_for_loading_version(start_server, tmp_path):
    srv = start_server(["--model_name", "slow", "--model_path", slow_model(str(tmp_path / "slow"), nodes=8000)])
    deadline = time.time() + 60
    while True:  # REST listens before the models are loaded
        try:
            socket.create_connection(("127.0.0.1", srv.rest_port), timeout=1).close()
            break
        except OSError:
            assert time.time() < deadline and srv.proc.poll() is None
            time.sleep(0.01)
    status, _, body = http("GET", srv.rest + "/v1/models/slow/versions/1")
    while status == 404 and time.time() < deadline:  # the version is registered as the load starts
        time.sleep(0.01)
        status, _, body = http("GET", srv.rest + "/v1/models/slow/versions/1")
    assert status == 200, body
    versions = json.loads(body)["model_version_status"]
    assert len(versions) == 1
    state = versions[0]["state"]
    assert state == "LOADING", "the model loaded too fast for this test to observe the wait"
    started = time.time()
    status, _, body = http("POST", srv.rest + "/v1/models/slow/versions/1:predict",
                           json.dumps({"inputs": [[0.0, 0.0, 0.0, 0.0]]}), timeout=30)
    waited = time.time() - started
    assert status == 200, body
    assert json.loads(body)["outputs"] == [[8000.0] * 4]
    assert waited < 10.5
