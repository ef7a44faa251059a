"""TF-Serving REST API end to end, over plain HTTP."""
import json
import os
import socket

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import model_factory
from conftest import DEMO_MODEL, http
from demo_reference import demo_probabilities

DEMO_ONNX = os.path.join(DEMO_MODEL, "1", "model.onnx")
SAMPLES = [[5.1, 3.5, 1.4, 0.2], [6.0, 2.8, 4.5, 1.4], [6.7, 3.0, 5.8, 2.2]]

STATUS_BODY = """{
 "model_version_status": [
  {
   "version": "1",
   "state": "AVAILABLE",
   "status": {
    "error_code": "OK",
    "error_message": "OK"
   }
  }
 ]
}"""


def test_model_status_exact_body(demo_server):
    for path in ["/v1/models/demo", "/v1/models/demo/versions/1", "/v1/models/demo/versions/0",
                 "/v1/models/demo/labels/anything"]:
        status, headers, body = http("GET", demo_server.rest + path)
        assert status == 200, path
        assert headers["Content-Type"] == "application/json"
        assert body.decode().strip() == STATUS_BODY, path


def test_model_status_errors(demo_server):
    status, _, body = http("GET", demo_server.rest + "/v1/models/nope")
    assert (status, json.loads(body)) == (404, {"error": "Model with requested name is not found"})
    status, _, body = http("GET", demo_server.rest + "/v1/models/demo/versions/3")
    assert (status, json.loads(body)) == (404, {"error": "Model with requested version is not found"})
    status, _, body = http("GET", demo_server.rest + "/v1/models/demo/versions/99999999999999999999999")
    assert status == 404
    status, _, body = http("GET", demo_server.rest + "/v1/models")
    assert (status, json.loads(body)) == (404, {"error": "Model with requested name is not found"})
    status, _, body = http("GET", demo_server.rest + "/v1/models/demo/versions/x")
    assert (status, json.loads(body)) == (400, {"error": "Invalid request URL"})


def test_metadata(demo_server):
    status, _, body = http("GET", demo_server.rest + "/v1/models/demo/metadata")
    assert status == 200
    text = body.decode()
    assert text.startswith('{\n "modelSpec": {\n  "name": "demo",\n  "signatureName": "",\n  "version": "1"\n }')
    j = json.loads(text)
    sig = j["metadata"]["signature_def"]
    assert sig["@type"] == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    inp = sig["signatureDef"]["serving_default"]["inputs"]["features"]
    assert inp["dtype"] == "DT_FLOAT" and inp["name"] == "features"
    assert inp["tensorShape"] == {"dim": [{"size": "-1", "name": ""}, {"size": "4", "name": ""}], "unknownRank": False}
    out = sig["signatureDef"]["serving_default"]["outputs"]["probabilities"]
    assert [d["size"] for d in out["tensorShape"]["dim"]] == ["-1", "3"]


def test_predict_row_and_column(demo_server):
    expected = demo_probabilities(DEMO_ONNX, np.array(SAMPLES, np.float32))
    url = demo_server.rest + "/v1/models/demo:predict"
    for body in [{"instances": SAMPLES}, {"instances": [{"features": s} for s in SAMPLES]},
                 {"signature_name": "serving_default", "instances": SAMPLES}]:
        status, _, resp = http("POST", url, json.dumps(body))
        assert status == 200, resp
        np.testing.assert_allclose(np.array(json.loads(resp)["predictions"]), expected, rtol=1e-5, atol=1e-6)
    for body in [{"inputs": SAMPLES}, {"inputs": {"features": SAMPLES}}]:
        status, _, resp = http("POST", demo_server.rest + "/v1/models/demo/versions/1:predict", json.dumps(body))
        assert status == 200, resp
        np.testing.assert_allclose(np.array(json.loads(resp)["outputs"]), expected, rtol=1e-5, atol=1e-6)


def test_predict_errors(demo_server):
    url = demo_server.rest + "/v1/models/demo:predict"
    cases = [
        ("{not json", 412, "The file is not valid json"),
        ("[1,2]", 400, "Request body should be JSON object"),
        ('{"foo": 1}', 400, "Invalid JSON structure. Could not detect row or column format"),
        ('{"instances": [], "inputs": {}}', 400, "Invalid JSON structure. Could not detect row or column format"),
        ('{"instances": []}', 400, "Invalid JSON structure. Missing instances in row format"),
        ('{"inputs": [[1,2,3,4],[1,2]]}', 400, "Could not parse input content. Not valid ndarray detected"),
        ('{"inputs": {"wrong": [[1,2,3,4]]}}', 400, "Missing input with specific name - Required input: features"),
        ('{"inputs": [[1,2,3]]}', 400, "Invalid input shape - Expected: (-1,4); Actual: (1,3); input name: features"),
    ]
    for body, code, message in cases:
        status, _, resp = http("POST", url, body)
        assert (status, json.loads(resp)) == (code, {"error": message}), body
    status, _, resp = http("POST", demo_server.rest + "/v1/models/nope:predict", '{"instances": [[1,2,3,4]]}')
    assert (status, json.loads(resp)) == (404, {"error": "Model with requested name is not found"})
    status, _, resp = http("POST", demo_server.rest + "/v1/models/demo/versions/2:predict", '{"instances": [[1,2,3,4]]}')
    assert (status, json.loads(resp)) == (404, {"error": "Model with requested version is not found"})
    status, _, resp = http("POST", demo_server.rest + "/v1/models/demo:classify", '{"instances": [[1,2,3,4]]}')
    assert (status, json.loads(resp)) == (404, {"error": "Requested REST resource not found"})
    # the same server still answers a good request correctly
    status, _, resp = http("POST", url, json.dumps({"instances": SAMPLES}))
    assert status == 200, resp
    np.testing.assert_allclose(json.loads(resp)["predictions"],
                               demo_probabilities(DEMO_ONNX, np.array(SAMPLES, np.float32)), rtol=1e-5, atol=1e-6)


def test_methods_and_routes(demo_server):
    assert http("GET", demo_server.rest + "/v1/models/demo:predict")[0] == 406
    assert http("POST", demo_server.rest + "/v1/models/demo", "{}")[0] == 406
    assert http("PUT", demo_server.rest + "/v1/models/demo", "{}")[0] == 406
    assert http("DELETE", demo_server.rest + "/v1/models/demo")[0] == 406
    status, _, body = http("GET", demo_server.rest + "/nothing/here")
    assert (status, json.loads(body)) == (400, {"error": "Invalid request URL"})
    status, headers, _ = http("OPTIONS", demo_server.rest + "/v1/models/demo")
    assert status == 200 and headers.get("Access-Control-Allow-Origin") == "*"


def test_config_endpoints(demo_server):
    status, _, body = http("GET", demo_server.rest + "/v1/config")
    assert status == 200
    assert body.decode() == '{\n"demo" : \n' + STATUS_BODY + "\n}"
    status, _, body = http("POST", demo_server.rest + "/v1/config/reload", "")
    assert status == 200 and json.loads(body)["demo"]["model_version_status"][0]["state"] == "AVAILABLE"
    assert http("POST", demo_server.rest + "/v1/config", "")[0] == 406
    assert http("GET", demo_server.rest + "/v1/config/reload")[0] == 406


def test_keep_alive_and_garbage(demo_server):
    # Several requests on one connection, then garbage: the server answers 400 and keeps serving.
    with socket.create_connection(("127.0.0.1", demo_server.rest_port), timeout=10) as s:
        for _ in range(3):
            s.sendall(b"GET /v1/models/demo HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                data += s.recv(65536)
            assert data.startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", demo_server.rest_port), timeout=10) as s:
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")
    assert http("GET", demo_server.rest + "/v1/models/demo")[0] == 200


def test_predict_precisions_converted(start_server, tmp_path):
    repo = model_factory.all_types(str(tmp_path / "all"))
    srv = start_server(["--model_name", "all", "--model_path", repo], wait_for="all")
    inputs = {f"in_{n}": [[1, 0, 1], [0, 1, 1]] for n in model_factory.PRECISIONS if n not in ("fp16", "bool")}
    inputs["in_fp16"] = [[1, 0, 1], [0, 1, 1]]
    inputs["in_bool"] = [[True, False, True], [False, True, True]]
    status, _, resp = http("POST", srv.rest + "/v1/models/all:predict", json.dumps({"inputs": inputs}))
    # As OVMS: BOOL, U32 and U64 outputs fail when the TensorProto response is built (no details), FP16 when
    # its JSON is written.
    assert (status, json.loads(resp)) == (500, {"error": "Unsupported serialization precision"})
    for name in ("bool", "u32", "u64", "fp16"):
        one = start_server(["--model_name", name, "--model_path",
                            model_factory.all_types(str(tmp_path / name), precisions=[name])], wait_for=name)
        status, _, resp = http("POST", one.rest + f"/v1/models/{name}:predict",
                               json.dumps({"inputs": {f"in_{name}": inputs[f"in_{name}"]}}))
        detail = " - Actual: FP16" if name == "fp16" else ""
        assert (status, json.loads(resp)) == (500, {"error": "Unsupported serialization precision" + detail}), name

    # Every precision's input converted from JSON: integers at their limits; FP16, BOOL and U16 (which OVMS's
    # JSON writer cannot serialize either) read back through a Cast to FP32 / INT32; U32 and U64 (which its
    # TensorProto serializer refuses) through a Cast to INT64 (U64's max reads back as -1: same bits).
    nodes, ins, outs, values, expected = [], [], [], {}, {}
    read_back = {"fp16": TensorProto.FLOAT, "bool": TensorProto.FLOAT, "u16": TensorProto.INT32,
                 "u32": TensorProto.INT64, "u64": TensorProto.INT64}
    for name, (et, dt, _, _) in model_factory.PRECISIONS.items():
        if name in read_back:
            nodes.append(helper.make_node("Cast", [f"in_{name}"], [f"out_{name}"], to=read_back[name]))
            out_et = read_back[name]
        else:
            nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]))
            out_et = et
        ins.append(helper.make_tensor_value_info(f"in_{name}", et, ["n", 3]))
        outs.append(helper.make_tensor_value_info(f"out_{name}", out_et, ["n", 3]))
        if name == "bool":
            values[name] = [[True, False, True], [False, True, True]]
            expected[name] = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
        elif np.issubdtype(dt, np.floating):
            values[name] = expected[name] = [[0.5, -2.25, 1024.0], [0.0, 3.0, -0.125]]
        else:
            info = np.iinfo(dt)
            values[name] = expected[name] = [[int(info.min), int(info.max), 0], [1, 2, 3]]
            if name == "u64":
                expected[name] = [[0, -1, 0], [1, 2, 3]]
    g = helper.make_graph(nodes, "converted", ins, outs)
    conv_repo = str(tmp_path / "conv")
    os.makedirs(os.path.join(conv_repo, "1"))
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(conv_repo, "1", "model.onnx"))
    conv = start_server(["--model_name", "conv", "--model_path", conv_repo], wait_for="conv")
    body = json.dumps({"inputs": {f"in_{n}": v for n, v in values.items()}})
    status, _, resp = http("POST", conv.rest + "/v1/models/conv:predict", body)
    assert status == 200, resp
    got = json.loads(resp)["outputs"]
    for name in model_factory.PRECISIONS:
        assert got[f"out_{name}"] == expected[name], name
