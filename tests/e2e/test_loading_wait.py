"""A request to a version that is still loading waits for it (up to 10 s, §4.2) instead of failing."""
import json
import time

from conftest import http
from test_kserve_grpc import start_slow_model


def test_request_waits_for_loading_version(start_server, tmp_path):
    def observe(srv, nodes):
        deadline = time.time() + 60
        status, _, body = http("GET", srv.rest + "/v1/models/slow/versions/1")
        while status == 404 and time.time() < deadline:  # the version is registered as the load starts
            time.sleep(0.01)
            status, _, body = http("GET", srv.rest + "/v1/models/slow/versions/1")
        assert status == 200, body
        versions = json.loads(body)["model_version_status"]
        assert len(versions) == 1
        if versions[0]["state"] != "LOADING":
            return False  # loaded before we could look; start_slow_model retries with a slower model
        started = time.time()
        status, _, body = http("POST", srv.rest + "/v1/models/slow/versions/1:predict",
                               json.dumps({"inputs": [[0.0, 0.0, 0.0, 0.0]]}), timeout=30)
        waited = time.time() - started
        if status == 200:
            assert json.loads(body)["outputs"] == [[float(nodes)] * 4]
            assert waited < 10.5
        else:
            # On a machine too loaded to finish the load in 10 s the request gives up after the wait, as OVMS.
            assert (status, json.loads(body)) == (404, {"error": "Model with requested version is not loaded yet"})
            assert waited >= 9.5, waited
            srv.wait_available("slow", timeout=120)
            status, _, body = http("POST", srv.rest + "/v1/models/slow/versions/1:predict",
                                   json.dumps({"inputs": [[0.0, 0.0, 0.0, 0.0]]}), timeout=30)
            assert status == 200, body

    start_slow_model(start_server, tmp_path, observe)
