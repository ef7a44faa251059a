"""Native string tensors end to end, on all four APIs, against an ONNX Identity on tensor(string).

Wire encodings as OVMS uses them: KServe gRPC takes bytes_contents or raw_input_contents with a 4-byte
little-endian length before each element and answers raw_output_contents in that layout; KServe REST
takes and answers JSON strings (datatype BYTES); TF-Serving gRPC takes and answers string_val (DT_STRING);
TF-Serving REST takes JSON strings or {"b64": ...} and answers strings."""
import base64
import json
import struct

import grpc
import pytest

import model_factory
from conftest import http

# An empty element, an embedded NUL, multi-byte UTF-8 and a byte that is not UTF-8.
ELEMENTS = [b"a", b"", b"x\x00yz", "h\u00e9llo \u2603".encode(), b"\xff\xfe"]
TEXT_ELEMENTS = ["a", "", "h\u00e9llo \u2603", "tab\tquote\" back\\slash"]


def packed(items):
    return b"".join(struct.pack("<I", len(s)) + s for s in items)


@pytest.fixture
def strings_server(start_server, tmp_path):
    repo = model_factory.string_identity(str(tmp_path / "strings"))
    return start_server(["--model_name", "strings", "--model_path", repo], wait_for="strings")


@pytest.fixture(scope="module")
def kpb():
    from conftest import stubs_dir
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def kserve_stub(kpb, srv):
    return kpb[1].GRPCInferenceServiceStub(grpc.insecure_channel(srv.grpc_address))


def test_metadata_reports_string_tensors(kpb, strings_server):
    md = kserve_stub(kpb, strings_server).ModelMetadata(kpb[0].ModelMetadataRequest(name="strings"), timeout=10)
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("text", "BYTES", [-1])]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [("text_out", "BYTES", [-1])]


def test_kserve_grpc_bytes_contents(kpb, strings_server):
    stub = kserve_stub(kpb, strings_server)
    req = kpb[0].ModelInferRequest(model_name="strings")
    req.inputs.add(name="text", datatype="BYTES", shape=[len(ELEMENTS)]).contents.bytes_contents.extend(ELEMENTS)
    resp = stub.ModelInfer(req, timeout=10)
    out = resp.outputs[0]
    assert (out.name, out.datatype, list(out.shape)) == ("text_out", "BYTES", [len(ELEMENTS)])
    # OVMS answers every output in raw_output_contents, BYTES in the length-prefixed layout.
    assert list(resp.raw_output_contents) == [packed(ELEMENTS)]
    assert not out.HasField("contents")


def test_kserve_grpc_raw_input_contents(kpb, strings_server):
    stub = kserve_stub(kpb, strings_server)
    for elements in [ELEMENTS, [b""], [b"only"], [bytes(range(256)) * 40]]:
        req = kpb[0].ModelInferRequest(model_name="strings")
        req.inputs.add(name="text", datatype="BYTES", shape=[len(elements)])
        req.raw_input_contents.append(packed(elements))
        resp = stub.ModelInfer(req, timeout=10)
        assert list(resp.outputs[0].shape) == [len(elements)]
        assert resp.raw_output_contents[0] == packed(elements)
    # A wrong element count is still refused as OVMS does, and the server keeps serving strings.
    req = kpb[0].ModelInferRequest(model_name="strings")
    req.inputs.add(name="text", datatype="BYTES", shape=[3]).contents.bytes_contents.extend([b"a"])
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details() == ("Invalid number of values in tensor proto container - Expected: 3; Actual: 1; "
                                 "input name: text")
    req = kpb[0].ModelInferRequest(model_name="strings")
    req.inputs.add(name="text", datatype="BYTES", shape=[1]).contents.bytes_contents.append(b"again")
    assert stub.ModelInfer(req, timeout=10).raw_output_contents[0] == packed([b"again"])


def test_kserve_rest_json_strings(strings_server):
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(TEXT_ELEMENTS)], "data": TEXT_ELEMENTS}]}
    status, _, raw = http("POST", strings_server.rest + "/v2/models/strings/infer", json.dumps(body))
    assert status == 200, raw
    out = json.loads(raw)["outputs"]
    assert out == [{"name": "text_out", "datatype": "BYTES", "shape": [len(TEXT_ELEMENTS)], "data": TEXT_ELEMENTS}]


def test_kserve_rest_binary_bytes(strings_server):
    header = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(ELEMENTS)],
                                     "parameters": {"binary_data_size": len(packed(ELEMENTS))}}],
                         "outputs": [{"name": "text_out", "parameters": {"binary_data": True}}]}).encode()
    status, headers, raw = http("POST", strings_server.rest + "/v2/models/strings/infer", header + packed(ELEMENTS),
                                {"Inference-Header-Content-Length": str(len(header))})
    assert status == 200, raw
    json_len = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
    out = json.loads(raw[:json_len])["outputs"][0]
    assert out["datatype"] == "BYTES" and out["shape"] == [len(ELEMENTS)]
    assert out["parameters"] == {"binary_data_size": len(packed(ELEMENTS))}
    assert raw[json_len:] == packed(ELEMENTS)


def test_tfs_grpc_string_val(pb, strings_server):
    stub = pb.prediction_grpc.PredictionServiceStub(grpc.insecure_channel(strings_server.grpc_address))
    req = pb.predict.PredictRequest()
    req.model_spec.name = "strings"
    t = req.inputs["text"]
    t.dtype = pb.types.DT_STRING
    t.tensor_shape.dim.add().size = len(ELEMENTS)
    t.string_val.extend(ELEMENTS)
    resp = stub.Predict(req, timeout=10)
    out = resp.outputs["text_out"]
    assert out.dtype == pb.types.DT_STRING
    assert [d.size for d in out.tensor_shape.dim] == [len(ELEMENTS)]
    assert list(out.string_val) == ELEMENTS
    assert out.tensor_content == b""
    # OVMS leaves PredictResponse.model_spec unset (its TFS serializer ignores the servable name/version).
    assert not resp.HasField("model_spec")


def test_tfs_rest_strings_and_b64(strings_server):
    url = strings_server.rest + "/v1/models/strings:predict"
    status, _, raw = http("POST", url, json.dumps({"instances": TEXT_ELEMENTS}))
    assert status == 200, raw
    assert json.loads(raw) == {"predictions": TEXT_ELEMENTS}
    b64 = [{"b64": base64.b64encode(e).decode()} for e in ELEMENTS[:3]]
    status, _, raw = http("POST", url, json.dumps({"inputs": {"text": b64}}))
    assert status == 200, raw
    # Outputs whose name does not end in "_bytes" come back as plain strings.
    assert json.loads(raw) == {"outputs": [e.decode() for e in ELEMENTS[:3]]}
