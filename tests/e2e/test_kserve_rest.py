"""KServe v2 REST API end to end over plain HTTP, including the binary data extension."""
import json
import os
import struct

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import model_factory
from conftest import DEMO_MODEL, http
from demo_reference import demo_probabilities

DEMO_ONNX = os.path.join(DEMO_MODEL, "1", "model.onnx")
SAMPLES = [[5.1, 3.5, 1.4, 0.2], [6.0, 2.8, 4.5, 1.4], [6.7, 3.0, 5.8, 2.2]]
DEMO_METADATA = ('{"name":"demo","versions":["1"],"platform":"OpenVINO","inputs":[{"name":"features",'
                 '"datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"probabilities","datatype":"FP32",'
                 '"shape":[-1,3]}]}')


def identity_model(repo, specs, version=1):
    nodes, ins, outs = [], [], []
    for name, et, dims in specs:
        nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]))
        ins.append(helper.make_tensor_value_info(f"in_{name}", et, dims))
        outs.append(helper.make_tensor_value_info(f"out_{name}", et, dims))
    m = helper.make_model(helper.make_graph(nodes, "identity", ins, outs),
                          opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    return repo


def post(srv, path, body, headers=None):
    return http("POST", srv.rest + path, body, headers)


def error_of(result):
    status, _, body = result
    return status, json.loads(body)


def binary_request(header, binary=b""):
    js = json.dumps(header).encode()
    return js + binary, {"Inference-Header-Content-Length": str(len(js))}


def split_binary_response(headers, body):
    n = int(headers["inference-header-content-length"])
    return json.loads(body[:n]), body[n:]


def bytes_packed(items):
    return b"".join(struct.pack("<I", len(s)) + s for s in items)


@pytest.fixture
def fixed(start_server, tmp_path):
    """out a = b + 1 on FP32 (1,10), like OVMS's dummy."""
    return start_server(["--model_name", "dummy", "--model_path", model_factory.add_const(str(tmp_path / "d"))],
                        wait_for="dummy")


# ---------------------------------------------------------------------------------------------
# server and model routes


def test_server_routes(demo_server):
    status, headers, body = http("GET", demo_server.rest + "/v2")
    assert status == 200 and headers["Content-Type"] == "application/json"
    j = json.loads(body)
    assert body.decode() == '{"name":"OpenVINO Model Server","version":"%s"}' % j["version"]
    for path in ["/v2/health/live", "/v2/health/ready"]:
        status, _, body = http("GET", demo_server.rest + path)
        assert (status, body) == (200, b""), path


def test_model_metadata_and_ready(demo_server):
    for path in ["/v2/models/demo", "/v2/models/demo/", "/v2/models/demo/versions/1", "/v2/models/demo/versions/1/",
                 "/v2/models/demo/versions/0", "/v2/models/d%65mo"]:
        status, headers, body = http("GET", demo_server.rest + path)
        assert (status, body.decode()) == (200, DEMO_METADATA), path
        assert headers["Content-Type"] == "application/json"
    for path in ["/v2/models/demo/ready", "/v2/models/demo/versions/1/ready", "/v2/models/demo/versions/0/ready"]:
        assert http("GET", demo_server.rest + path)[::2] == (200, b""), path
    nf_name = (404, {"error": "Model with requested name is not found"})
    nf_version = (404, {"error": "Model with requested version is not found"})
    assert error_of(http("GET", demo_server.rest + "/v2/models/nope")) == nf_name
    assert error_of(http("GET", demo_server.rest + "/v2/models/nope/ready")) == nf_name
    assert error_of(http("GET", demo_server.rest + "/v2/models/demo/versions/2")) == nf_version
    assert error_of(http("GET", demo_server.rest + "/v2/models/demo/versions/2/ready")) == nf_version
    assert error_of(http("GET", demo_server.rest + "/v2/models/demo/versions/99999999999999999999")) == nf_version
    bad_url = (400, {"error": "Invalid request URL"})
    for path in ["/v2/models/demo/versions/x", "/v2/models/demo/versions/x/ready", "/v2/models", "/v2/model/demo",
                 "/v2/health", "/v2/models/demo/versions/1/infer/x"]:
        assert error_of(http("GET", demo_server.rest + path)) == bad_url, path


def test_wrong_methods(demo_server):
    unsupported = (406, {"error": "Unsupported method"})
    for method, path in [("POST", "/v2"), ("POST", "/v2/health/live"), ("POST", "/v2/health/ready"),
                         ("POST", "/v2/models/demo"), ("POST", "/v2/models/demo/ready"),
                         ("POST", "/v2/models/demo/versions/1/ready"), ("GET", "/v2/models/demo/infer"),
                         ("GET", "/v2/models/demo/versions/1/infer"), ("PUT", "/v2/models/demo/infer"),
                         ("DELETE", "/v2")]:
        assert error_of(http(method, demo_server.rest + path, b"{}" if method != "GET" else None)) == unsupported, \
            (method, path)


def test_metadata_versions_and_version_specific_infer(start_server, tmp_path):
    repo = str(tmp_path / "m")
    for v in (1, 2):
        model_factory.add_const(repo, value=float(v * 10), version=v)
    srv = start_server(["--model_name", "m", "--model_path", repo, "--model_version_policy", '{"all": {}}'],
                       wait_for="m")
    srv.wait_available("m", 1)
    srv.wait_available("m", 2)  # versions load one after the other: both must be AVAILABLE to be listed
    status, _, body = http("GET", srv.rest + "/v2/models/m/versions/1")
    assert status == 200 and json.loads(body)["versions"] == ["1", "2"]
    req = {"inputs": [{"name": "b", "shape": [1, 10], "datatype": "FP32", "data": [0] * 10}]}
    status, _, body = post(srv, "/v2/models/m/versions/1/infer", json.dumps(req))
    assert status == 200
    j = json.loads(body)
    assert j["model_version"] == "1" and j["outputs"][0]["data"] == [10.0] * 10
    status, _, body = post(srv, "/v2/models/m/infer", json.dumps(req))
    assert json.loads(body)["model_version"] == "2"


# ---------------------------------------------------------------------------------------------
# infer: JSON


def test_infer_exact_body(fixed):
    req = {"id": "id-7", "inputs": [{"name": "b", "shape": [1, 10], "datatype": "FP32",
                                     "data": [[0, 1, 2, 3, 4, 5, 6, 7, 8, 0.5]]}]}
    status, headers, body = post(fixed, "/v2/models/dummy/infer", json.dumps(req))
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    assert "inference-header-content-length" not in {k.lower() for k in headers}
    assert body.decode() == """{
    "model_name": "dummy",
    "id": "id-7",
    "model_version": "1",
    "outputs": [{
            "name": "a",
            "shape": [1, 10],
            "datatype": "FP32",
            "data": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.5]
        }]
}"""
    del req["id"]
    status, _, body = post(fixed, "/v2/models/dummy/versions/1/infer", json.dumps(req))
    assert status == 200 and '"id"' not in body.decode()
    assert list(json.loads(body)) == ["model_name", "model_version", "outputs"]


def test_infer_demo_matches_reference(demo_server):
    req = {"inputs": [{"name": "features", "shape": [3, 4], "datatype": "FP32",
                       "data": [v for row in SAMPLES for v in row]}],
           "model_name": "ignored"}
    status, _, body = post(demo_server, "/v2/models/demo/infer", json.dumps(req))
    assert status == 200, body
    out = json.loads(body)["outputs"][0]
    assert (out["name"], out["shape"], out["datatype"]) == ("probabilities", [3, 3], "FP32")
    got = np.array(out["data"], np.float32).reshape(3, 3)
    np.testing.assert_allclose(got, demo_probabilities(DEMO_ONNX, np.array(SAMPLES, np.float32)),
                               rtol=1e-5, atol=1e-6)


def _sample(dt, rng):
    if dt == np.bool_:
        return rng.integers(0, 2, size=(2, 3)).astype(np.bool_)
    if np.issubdtype(dt, np.floating):
        return rng.normal(size=(2, 3)).astype(dt)
    info = np.iinfo(dt)
    return np.array([[info.min, info.max, 0], [1, 2, 3]], dtype=dt)


def test_all_precisions_json_and_binary(start_server, tmp_path):
    srv = start_server(["--model_name", "all", "--model_path", model_factory.all_types(str(tmp_path / "all"))],
                       wait_for="all")
    rng = np.random.default_rng(5)
    arrays = {n: (_sample(dt, rng), kdt) for n, (_, dt, _, kdt) in model_factory.PRECISIONS.items()}
    # JSON for everything but FP16, which may only be sent as binary data.
    inputs, binary = [], b""
    for name, (a, kdt) in arrays.items():
        entry = {"name": f"in_{name}", "shape": list(a.shape), "datatype": kdt}
        if name == "fp16":
            entry["parameters"] = {"binary_data_size": a.nbytes}
            binary += a.tobytes()
        else:
            entry["data"] = a.tolist()
        inputs.append(entry)
    body, headers = binary_request({"inputs": inputs}, binary)
    status, _, resp = post(srv, "/v2/models/all/infer", body, headers)
    assert status == 200, resp
    outs = json.loads(resp)["outputs"]
    assert [o["name"] for o in outs] == sorted(f"out_{n}" for n in arrays)
    for o in outs:
        a, kdt = arrays[o["name"][4:]]
        assert (o["datatype"], o["shape"]) == (kdt, [2, 3])
        np.testing.assert_array_equal(np.array(o["data"], dtype=a.dtype).reshape(a.shape), a, err_msg=o["name"])

    # everything binary, both ways
    inputs, binary = [], b""
    for name, (a, kdt) in arrays.items():
        inputs.append({"name": f"in_{name}", "shape": list(a.shape), "datatype": kdt,
                       "parameters": {"binary_data_size": a.nbytes}})
        binary += a.tobytes()
    body, headers = binary_request({"inputs": inputs, "parameters": {"binary_data_output": True}}, binary)
    status, rheaders, resp = post(srv, "/v2/models/all/infer", body, headers)
    assert status == 200, resp
    header, data = split_binary_response(rheaders, resp)
    offset = 0
    for o in header["outputs"]:
        a, kdt = arrays[o["name"][4:]]
        assert "data" not in o and o["parameters"] == {"binary_data_size": a.nbytes}
        got = np.frombuffer(data[offset:offset + a.nbytes], a.dtype).reshape(a.shape)
        np.testing.assert_array_equal(got, a, err_msg=o["name"])
        offset += a.nbytes
    assert offset == len(data)


def test_json_value_type_errors(start_server, tmp_path):
    srv = start_server(["--model_name", "all", "--model_path", model_factory.all_types(str(tmp_path / "all"))],
                       wait_for="all")
    bad_input = (400, {"error": "Could not parse input content. Not valid ndarray detected"})
    for kdt, value in [("FP32", "x"), ("INT32", 1.5), ("UINT8", -1), ("BOOL", 1), ("INT64", True)]:
        req = {"inputs": [{"name": "in_x", "shape": [1], "datatype": kdt, "data": [value]}]}
        assert error_of(post(srv, "/v2/models/all/infer", json.dumps(req))) == bad_input, kdt
    req = {"inputs": [{"name": "in_fp16", "shape": [1], "datatype": "FP16", "data": [1.0]}]}
    assert error_of(post(srv, "/v2/models/all/infer", json.dumps(req))) == \
        (400, {"error": "Could not parse input content. Unsupported data precision detected"})


def test_infer_errors(fixed):
    url = "/v2/models/dummy/infer"

    def req(**kw):
        inp = {"name": "b", "shape": [1, 10], "datatype": "FP32", "data": [0.0] * 10}
        inp.update(kw)
        return json.dumps({"inputs": [inp]})

    cases = [
        (post(fixed, "/v2/models/nope/infer", req()), 404, "Pipeline with requested name is not found"),
        (post(fixed, "/v2/models/dummy/versions/5/infer", req()), 404, "Model with requested version is not found"),
        (post(fixed, url, req(datatype="INT32", data=[0] * 10)), 400,
         "Invalid input precision - Expected: FP32; Actual: INT32; input name: b"),
        (post(fixed, url, req(shape=[1, 10, 1])), 400,
         "Invalid number of shape dimensions - Expected: (1,10); Actual: (1,10,1); input name: b"),
        (post(fixed, url, req(shape=[2, 5])), 400, "Invalid input batch size - Expected: 1; Actual: 2; input name: b"),
        (post(fixed, url, req(shape=[1, 9])), 400, "Invalid input shape - Expected: (1,10); Actual: (1,9); input name: b"),
        (post(fixed, url, req(data=[0.0] * 9)), 400,
         "Invalid number of values in tensor proto container - Expected: 10; Actual: 9; input name: b"),
        (post(fixed, url, req(name="c")), 400, "Missing input with specific name - Required input: b"),
        (post(fixed, url, '{"inputs": []}'), 400, "Invalid number of inputs - Expected: 1; Actual: 0"),
        (post(fixed, url, '{"inputs": [1}'), 412, "The file is not valid json"),
        (post(fixed, url, '[]'), 400, "Request body should be JSON object"),
        (post(fixed, url, '{"id": "x"}'), 400, "Invalid JSON structure, missing inputs"),
        (post(fixed, url, '{"inputs": [], "parameters": {"x": 1.5}}'), 400, "Could not parse request parameters"),
        (post(fixed, url, '{"inputs": [], "outputs": [{"x": 1}]}'), 400, "Could not parse output content."),
        (post(fixed, url, json.dumps({"inputs": json.loads(req())["inputs"], "outputs": [{"name": "zzz"}]})), 400,
         "Missing output with specific name - Required output: zzz"),
        (post(fixed, url, req(shape=[1, -10])), 400,
         "Invalid input shape - Negative or zero dimension size is not acceptable: (1,-10); input name: b"),
    ]
    for (status, _, body), code, message in cases:
        assert (status, json.loads(body)) == (code, {"error": message}), message


def test_outputs_filtering(start_server, tmp_path):
    srv = start_server(["--model_name", "two", "--model_path", model_factory.two_inputs(str(tmp_path / "two"))],
                       wait_for="two")
    inputs = [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]},
              {"name": "y", "shape": [1, 2], "datatype": "FP32", "data": [3, 4]}]
    status, _, body = post(srv, "/v2/models/two/infer", json.dumps({"inputs": inputs}))
    assert [o["name"] for o in json.loads(body)["outputs"]] == ["product", "sum"]
    status, _, body = post(srv, "/v2/models/two/infer", json.dumps({"inputs": inputs, "outputs": [{"name": "sum"}]}))
    outs = json.loads(body)["outputs"]
    assert [(o["name"], o["data"]) for o in outs] == [("sum", [4.0, 6.0])]
    status, _, body = post(srv, "/v2/models/two/infer",
                           json.dumps({"inputs": inputs, "outputs": [{"name": "sum"}, {"name": "product"}]}))
    assert [o["name"] for o in json.loads(body)["outputs"]] == ["sum", "product"]
    # per-output binary_data, mixed with JSON outputs
    status, headers, body = post(srv, "/v2/models/two/infer", json.dumps(
        {"inputs": inputs, "outputs": [{"name": "product", "parameters": {"binary_data": True}}, {"name": "sum"}]}))
    assert status == 200
    header, data = split_binary_response(headers, body)
    assert header["outputs"][0] == {"name": "product", "shape": [1, 2], "datatype": "FP32",
                                    "parameters": {"binary_data_size": 8}}
    assert header["outputs"][1]["data"] == [4.0, 6.0]
    np.testing.assert_array_equal(np.frombuffer(data, np.float32), [3.0, 8.0])
    # binary_data_output for all, one output opting out
    status, headers, body = post(srv, "/v2/models/two/infer", json.dumps(
        {"inputs": inputs, "parameters": {"binary_data_output": True},
         "outputs": [{"name": "product", "parameters": {"binary_data": False}}, {"name": "sum"}]}))
    header, data = split_binary_response(headers, body)
    assert header["outputs"][0]["data"] == [3.0, 8.0]
    np.testing.assert_array_equal(np.frombuffer(data, np.float32), [4.0, 6.0])


# ---------------------------------------------------------------------------------------------
# binary data extension, built byte by byte


def test_binary_inputs_byte_by_byte(start_server, tmp_path):
    srv = start_server(["--model_name", "two", "--model_path", model_factory.two_inputs(str(tmp_path / "two"))],
                       wait_for="two")
    js = (b'{"id":"bin","inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}},'
          b'{"name":"y","shape":[1,2],"datatype":"FP32"}],"parameters":{"binary_data_output":true}}')
    binary = struct.pack("<2f", 1.0, 2.0) + struct.pack("<2f", 10.0, 20.0)
    status, headers, body = post(srv, "/v2/models/two/infer", js + binary,
                                 {"Inference-Header-Content-Length": str(len(js))})
    assert status == 200, body
    n = int(headers["inference-header-content-length"])
    assert headers["Content-Type"] == "application/json"
    header = json.loads(body[:n])
    assert header["id"] == "bin"
    assert [(o["name"], o["parameters"]["binary_data_size"]) for o in header["outputs"]] == [("product", 8), ("sum", 8)]
    assert body[n:] == struct.pack("<2f", 10.0, 40.0) + struct.pack("<2f", 11.0, 22.0)
    assert body[:n].decode().startswith('{\n    "model_name": "two",\n    "id": "bin",')

    # one binary input and one JSON input
    js = (b'{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]},'
          b'{"name":"y","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}')
    status, headers, body = post(srv, "/v2/models/two/infer", js + struct.pack("<2f", 3.0, 4.0),
                                 {"Inference-Header-Content-Length": str(len(js))})
    assert status == 200
    assert [o["data"] for o in json.loads(body)["outputs"]] == [[3.0, 8.0], [4.0, 6.0]]


def test_binary_extension_errors(fixed):
    url = "/v2/models/dummy/infer"
    js = b'{"inputs":[{"name":"b","shape":[1,10],"datatype":"FP32","parameters":{"binary_data_size":40}}]}'
    full = js + bytes(40)
    ok = post(fixed, url, full, {"Inference-Header-Content-Length": str(len(js))})
    assert ok[0] == 200
    assert json.loads(ok[2])["outputs"][0]["data"] == [1.0] * 10
    cases = [
        ({"Inference-Header-Content-Length": "abc"}, full, 500, "Inference header content length is invalid"),
        ({"Inference-Header-Content-Length": "-5"}, full, 500, "Inference header content length is invalid"),
        ({"Inference-Header-Content-Length": str(len(full) + 1)}, full, 500,
         "Inference header content length exceeded JSON size"),
        ({"Inference-Header-Content-Length": str(len(js))}, js + bytes(39), 400,
         "Received buffer size is smaller than binary_data_size parameter indicates"),
        ({}, js, 400, "Received buffer size is smaller than binary_data_size parameter indicates"),
        ({"Inference-Header-Content-Length": str(len(js) - 1)}, full, 412, "The file is not valid json"),
    ]
    for headers, body, code, message in cases:
        assert error_of(post(fixed, url, body, headers)) == (code, {"error": message}), message
    both = b'{"inputs":[{"name":"b","shape":[1,10],"datatype":"FP32","data":[0,0,0,0,0,0,0,0,0,0],' \
           b'"parameters":{"binary_data_size":40}}]}'
    assert error_of(post(fixed, url, both + bytes(40), {"Inference-Header-Content-Length": str(len(both))})) == \
        (500, {"error": "Request has binary_data_size parameter but data field is not empty"})
    bad_size = b'{"inputs":[{"name":"b","shape":[1,10],"datatype":"FP32","parameters":{"binary_data_size":"40"}}]}'
    assert error_of(post(fixed, url, bad_size + bytes(40), {"Inference-Header-Content-Length": str(len(bad_size))})) \
        == (400, {"error": "binary_data_size parameter is invalid and cannot be parsed"})
    # size from shape x datatype when binary_data_size is absent
    implicit = b'{"inputs":[{"name":"b","shape":[1,10],"datatype":"FP32"}]}'
    status, _, body = post(fixed, url, implicit + struct.pack("<10f", *range(10)),
                           {"Inference-Header-Content-Length": str(len(implicit))})
    assert status == 200 and json.loads(body)["outputs"][0]["data"] == [float(i + 1) for i in range(10)]
    # wrong byte count for the shape
    sized = b'{"inputs":[{"name":"b","shape":[1,10],"datatype":"FP32","parameters":{"binary_data_size":36}}]}'
    assert error_of(post(fixed, url, sized + bytes(36), {"Inference-Header-Content-Length": str(len(sized))})) == \
        (400, {"error": "Invalid content size of tensor proto - Expected: 40 bytes; Actual: 36 bytes; input name: b"})


def test_bytes_inputs(start_server, tmp_path, fixed):
    srv = start_server(["--model_name", "s", "--model_path",
                        identity_model(str(tmp_path / "s"), [("s", TensorProto.STRING, [3])])], wait_for="s")
    url = "/v2/models/s/infer"
    # A lone BYTES input without binary_data_size takes the whole binary part.
    js = b'{"inputs":[{"name":"in_s","shape":[3],"datatype":"BYTES"}]}'
    payload = bytes_packed([b"a", b"", b"xyz", b"q"])
    assert error_of(post(srv, url, js + payload, {"Inference-Header-Content-Length": str(len(js))})) == \
        (400, {"error": "Invalid number of values in tensor proto container - Expected: 3; Actual: 4; "
                        "input name: in_s"})
    payload = struct.pack("<I", 9) + b"xy"
    assert error_of(post(srv, url, js + payload, {"Inference-Header-Content-Length": str(len(js))})) == \
        (400, {"error": "Invalid content size of tensor proto - Batch length metadata exceeded buffer size, "
                        "buffer size: 6, batch length: 9; input name: in_s"})
    req = {"inputs": [{"name": "in_s", "shape": [3], "datatype": "BYTES", "data": ["a", "b"]}]}
    assert error_of(post(srv, url, json.dumps(req))) == \
        (400, {"error": "Invalid number of values in tensor proto container - Expected: 3; Actual: 2; "
                        "input name: in_s"})
    # BYTES with another input needs binary_data_size
    js = (b'{"inputs":[{"name":"in_s","shape":[1],"datatype":"BYTES"},'
          b'{"name":"other","shape":[1],"datatype":"INT8","data":[1]}]}')
    assert error_of(post(srv, url, js + bytes_packed([b"a"]), {"Inference-Header-Content-Length": str(len(js))})) \
        == (400, {"error": "Could not parse input content. Not valid ndarray detected"})
    # BYTES to a numeric input: binary-input conversion is not implemented yet
    status, _, body = post(fixed, "/v2/models/dummy/infer", json.dumps(
        {"inputs": [{"name": "b", "shape": [1], "datatype": "BYTES", "data": ["abc"]}]}))
    assert status == 500
    assert json.loads(body)["error"].startswith("Not implemented - BYTES data for input b")
