"""API key (--api_key_file, else env API_KEY): every REST route class and gRPC method except health needs
"Authorization: Bearer <key>"; missing or wrong keys get REST 401 / gRPC UNAUTHENTICATED."""
import json
import time

import grpc
import pytest

from conftest import DEMO_MODEL, http, stubs_dir
from security_helpers import DEMO_INFER, run_to_exit

KEY = "s3cret-Key_123"

# (method, path, body) per route class; the status each gets with the right key.
ROUTES = [
    ("POST", "/v2/models/demo/infer", DEMO_INFER, 200),                 # inference (KServe)
    ("POST", "/v1/models/demo:predict", '{"instances":[[5.1,3.5,1.4,0.2]]}', 200),  # inference (TFS)
    ("GET", "/v2/models/demo", None, 200),                              # metadata (KServe)
    ("GET", "/v1/models/demo/metadata", None, 200),                     # metadata (TFS)
    ("GET", "/v2", None, 200),                                          # server metadata
    ("GET", "/v1/models/demo", None, 200),                              # status (TFS)
    ("GET", "/v2/models/demo/ready", None, 200),                        # status (KServe)
    ("GET", "/v1/config", None, 200),                                   # config
    ("POST", "/v1/config/reload", "", None),                            # reload (single-model mode: not 401)
    ("GET", "/metrics", None, 200),                                     # metrics
]
HEALTH = ["/v2/health/live", "/v2/health/ready"]


@pytest.fixture(scope="module")
def kserve():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def wait_ready(srv, key, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(srv.read_log())
        try:
            status, _, body = http("GET", srv.rest + "/v1/models/demo", headers={"Authorization": f"Bearer {key}"},
                                   timeout=2)
            if status == 200 and b'"AVAILABLE"' in body:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(srv.read_log())


@pytest.fixture
def keyed_server(start_server, tmp_path):
    key_file = tmp_path / "api_key.txt"
    key_file.write_text(f"  {KEY}\n")
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--metrics_enable",
                        "--api_key_file", str(key_file)])
    wait_ready(srv, KEY)
    srv.key_file = key_file
    return srv


def assert_unauthorized(status, headers, body):
    assert status == 401, body
    assert headers.get("WWW-Authenticate") == "Bearer"
    assert "error" in json.loads(body)
    assert headers.get("Access-Control-Allow-Origin") == "*"  # CORS headers as on every response


def test_rest_every_route_class_needs_the_key(keyed_server):
    srv = keyed_server
    for method, path, body, ok_status in ROUTES:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY},
                        {"Authorization": f"Basic {KEY}"}, {"Authorization": f"Bearer {KEY}x"}):
            assert_unauthorized(*http(method, srv.rest + path, body, headers=headers))
        for good in (f"Bearer {KEY}", f"bearer {KEY}", f"Bearer   {KEY} "):
            status, _, resp = http(method, srv.rest + path, body, headers={"Authorization": good})
            assert status != 401, (path, resp)
            if ok_status:
                assert status == ok_status, (path, resp)


def test_rest_health_and_preflight_stay_open(keyed_server):
    for path in HEALTH:
        status, _, _ = http("GET", keyed_server.rest + path)
        assert status == 200, path
    status, headers, _ = http("OPTIONS", keyed_server.rest + "/v2/models/demo/infer")
    assert status == 200 and headers.get("Access-Control-Allow-Origin") == "*"


def test_grpc_every_method_needs_the_key(keyed_server, kserve, pb):
    srv = keyed_server
    kpb, kgrpc = kserve
    good = [("authorization", f"Bearer {KEY}")]
    with grpc.insecure_channel(srv.grpc_address) as ch:
        ks = kgrpc.GRPCInferenceServiceStub(ch)
        pred = pb.prediction_grpc.PredictionServiceStub(ch)
        model = pb.model_grpc.ModelServiceStub(ch)
        spec_req = pb.status.GetModelStatusRequest()
        spec_req.model_spec.name = "demo"
        meta_req = pb.metadata.GetModelMetadataRequest()
        meta_req.model_spec.name = "demo"
        meta_req.metadata_field.append("signature_def")
        predict_req = pb.predict.PredictRequest()
        predict_req.model_spec.name = "demo"
        from tensorflow_serving.apis.model_management_pb2 import ReloadConfigRequest
        calls = [
            ("ModelReady", lambda md: ks.ModelReady(kpb.ModelReadyRequest(name="demo"), metadata=md, timeout=10)),
            ("ServerMetadata", lambda md: ks.ServerMetadata(kpb.ServerMetadataRequest(), metadata=md, timeout=10)),
            ("ModelMetadata", lambda md: ks.ModelMetadata(kpb.ModelMetadataRequest(name="demo"), metadata=md,
                                                          timeout=10)),
            ("ModelInfer", lambda md: ks.ModelInfer(kpb.ModelInferRequest(model_name="demo"), metadata=md,
                                                    timeout=10)),
            ("ModelStreamInfer", lambda md: list(ks.ModelStreamInfer(iter([kpb.ModelInferRequest(model_name="demo")]),
                                                                     metadata=md, timeout=10))),
            ("GetModelStatus", lambda md: model.GetModelStatus(spec_req, metadata=md, timeout=10)),
            ("HandleReloadConfigRequest", lambda md: model.HandleReloadConfigRequest(ReloadConfigRequest(),
                                                                                     metadata=md, timeout=10)),
            ("GetModelMetadata", lambda md: pred.GetModelMetadata(meta_req, metadata=md, timeout=10)),
            ("Predict", lambda md: pred.Predict(predict_req, metadata=md, timeout=10)),
        ]
        for name, call in calls:
            for md in (None, [("authorization", "Bearer nope")], [("authorization", KEY)]):
                with pytest.raises(grpc.RpcError) as e:
                    call(md)
                assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
            try:
                call(good)
            except grpc.RpcError as e:  # e.g. INVALID_ARGUMENT for the empty infer requests
                assert e.code() != grpc.StatusCode.UNAUTHENTICATED, name
        assert ks.ModelReady(kpb.ModelReadyRequest(name="demo"), metadata=good, timeout=10).ready
        # Health stays open
        assert ks.ServerLive(kpb.ServerLiveRequest(), timeout=10).live
        assert ks.ServerReady(kpb.ServerReadyRequest(), timeout=10).ready
    assert KEY not in srv.read_log()


def test_key_from_env(start_server, monkeypatch):
    monkeypatch.setenv("API_KEY", f"{KEY}\n")
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL])
    wait_ready(srv, KEY)
    assert_unauthorized(*http("GET", srv.rest + "/v1/models/demo"))
    assert "key from env API_KEY" in srv.read_log()
    assert KEY not in srv.read_log()


def test_no_key_no_auth(demo_server):
    status, _, _ = http("GET", demo_server.rest + "/v1/config")
    assert status == 200


def test_key_file_reloaded(keyed_server):
    srv = keyed_server
    srv.key_file.write_text("second-key\n")
    deadline = time.time() + 20
    while http("GET", srv.rest + "/v1/config", headers={"Authorization": "Bearer second-key"})[0] != 200:
        assert time.time() < deadline, srv.read_log()
        time.sleep(0.2)
    assert_unauthorized(*http("GET", srv.rest + "/v1/config", headers={"Authorization": f"Bearer {KEY}"}))
    # An emptied file keeps the key in use and says why
    srv.key_file.write_text("\n")
    deadline = time.time() + 20
    while "API key file changed but is not used" not in srv.read_log():
        assert time.time() < deadline, srv.read_log()
        time.sleep(0.2)
    assert http("GET", srv.rest + "/v1/config", headers={"Authorization": "Bearer second-key"})[0] == 200
    assert "second-key" not in srv.read_log()


@pytest.mark.parametrize("content,expected", [(None, "Cannot read the API key file given by --api_key_file"),
                                              (" \n", "The API key file given by --api_key_file is empty")])
def test_bad_key_file_stops_the_server(tmp_path, content, expected):
    path = tmp_path / "key.txt"
    if content is not None:
        path.write_text(content)
    rc, log = run_to_exit(["--model_name", "demo", "--model_path", DEMO_MODEL, "--api_key_file", str(path)], tmp_path)
    assert rc == 1 and expected in log, log
