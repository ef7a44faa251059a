"""KServe v2 gRPC API (inference.GRPCInferenceService) end to end, with stubs from our protos."""
import os
import time
import struct

import grpc
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import model_factory
from conftest import DEMO_MODEL, http, stubs_dir
from demo_reference import demo_probabilities

DEMO_ONNX = os.path.join(DEMO_MODEL, "1", "model.onnx")
SAMPLES = np.array([[5.1, 3.5, 1.4, 0.2], [6.0, 2.8, 4.5, 1.4], [6.7, 3.0, 5.8, 2.2]], dtype=np.float32)

# KServe datatype -> contents field for typed data
TYPED_FIELD = {"FP32": "fp32_contents", "FP64": "fp64_contents", "INT8": "int_contents", "INT16": "int_contents",
               "INT32": "int_contents", "INT64": "int64_contents", "UINT8": "uint_contents",
               "UINT16": "uint_contents", "UINT32": "uint_contents", "UINT64": "uint64_contents",
               "BOOL": "bool_contents", "BYTES": "bytes_contents"}


@pytest.fixture(scope="session")
def kpb():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def channel(srv):
    return grpc.insecure_channel(srv.grpc_address, options=[("grpc.max_send_message_length", 1 << 30),
                                                             ("grpc.max_receive_message_length", 1 << 30)])


@pytest.fixture
def demo(kpb, demo_server):
    ch = channel(demo_server)
    yield kpb[1].GRPCInferenceServiceStub(ch), demo_server
    ch.close()


def start_model(start_server, name, repo):
    srv = start_server(["--model_name", name, "--model_path", repo], wait_for=name)
    return srv


def identity_model(repo, specs, version=1):
    """Identity per (name, onnx elem type, dims): in_<name> -> out_<name>."""
    nodes, ins, outs = [], [], []
    for name, et, dims in specs:
        nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]))
        ins.append(helper.make_tensor_value_info(f"in_{name}", et, dims))
        outs.append(helper.make_tensor_value_info(f"out_{name}", et, dims))
    g = helper.make_graph(nodes, "identity", ins, outs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    return repo


def add_input(req, name, array, datatype, typed=False):
    inp = req.inputs.add()
    inp.name = name
    inp.datatype = datatype
    inp.shape.extend(array.shape)
    if typed:
        field = getattr(inp.contents, TYPED_FIELD[datatype])
        field.extend(array.reshape(-1).tolist())
    else:
        req.raw_input_contents.append(array.tobytes())
    return inp


def infer_request(kpb, model, version="", rid=""):
    req = kpb[0].ModelInferRequest()
    req.model_name = model
    req.model_version = version
    req.id = rid
    return req


def output_array(resp, index, dtype):
    out = resp.outputs[index]
    return np.frombuffer(resp.raw_output_contents[index], dtype=dtype).reshape(list(out.shape))


def expect_error(fn, code, message):
    with pytest.raises(grpc.RpcError) as e:
        fn()
    assert (e.value.code(), e.value.details()) == (code, message)


def assert_demo_still_serves(kpb, stub):
    """After error requests, a good request on the same server gets the right answer."""
    req = infer_request(kpb, "demo")
    add_input(req, "features", SAMPLES, "FP32")
    resp = stub.ModelInfer(req, timeout=10)
    np.testing.assert_allclose(output_array(resp, 0, np.float32), demo_probabilities(DEMO_ONNX, SAMPLES),
                               rtol=1e-5, atol=1e-6)


def bytes_packed(items):
    return b"".join(struct.pack("<I", len(s)) + s for s in items)


# ---------------------------------------------------------------------------------------------


def test_server_live_ready_metadata(kpb, demo):
    stub, srv = demo
    assert stub.ServerLive(kpb[0].ServerLiveRequest(), timeout=10).live is True
    assert stub.ServerReady(kpb[0].ServerReadyRequest(), timeout=10).ready is True
    md = stub.ServerMetadata(kpb[0].ServerMetadataRequest(), timeout=10)
    assert md.name == "OpenVINO Model Server"
    assert md.version and list(md.extensions) == []
    status, _, body = http("GET", srv.rest + "/v2")
    assert status == 200
    assert body.decode() == '{"name":"OpenVINO Model Server","version":"%s"}' % md.version


def test_model_ready(kpb, demo):
    stub, _ = demo
    for version in ["", "1", "0"]:
        assert stub.ModelReady(kpb[0].ModelReadyRequest(name="demo", version=version), timeout=10).ready is True
    expect_error(lambda: stub.ModelReady(kpb[0].ModelReadyRequest(name="demo", version="2"), timeout=10),
                 grpc.StatusCode.NOT_FOUND, "Model with requested version is not found")
    expect_error(lambda: stub.ModelReady(kpb[0].ModelReadyRequest(name="demo", version="x1"), timeout=10),
                 grpc.StatusCode.INVALID_ARGUMENT, "invalid model version format in request")
    expect_error(lambda: stub.ModelReady(kpb[0].ModelReadyRequest(name="nope"), timeout=10),
                 grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")


def test_model_metadata(kpb, demo):
    stub, _ = demo
    for version in ["", "1"]:
        md = stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="demo", version=version), timeout=10)
        assert md.name == "demo"
        assert list(md.versions) == ["1"]
        assert md.platform == "OpenVINO"
        assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("features", "FP32", [-1, 4])]
        assert [(t.name, t.datatype, list(t.shape)) for t in md.outputs] == [("probabilities", "FP32", [-1, 3])]
    expect_error(lambda: stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="demo", version="3"), timeout=10),
                 grpc.StatusCode.NOT_FOUND, "Model with requested version is not found")
    expect_error(lambda: stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="demo", version="v"), timeout=10),
                 grpc.StatusCode.INVALID_ARGUMENT, "invalid model version format in request")
    expect_error(lambda: stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="nope"), timeout=10),
                 grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")


def test_metadata_lists_available_versions(kpb, start_server, tmp_path):
    repo = str(tmp_path / "m")
    for v in (1, 2, 3):
        model_factory.add_const(repo, value=float(v), version=v)
    srv = start_server(["--model_name", "m", "--model_path", repo, "--model_version_policy", '{"all": {}}'],
                       wait_for="m")
    for v in (1, 2):
        srv.wait_available("m", v)
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    md = stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="m", version="1"), timeout=10)
    assert list(md.versions) == ["1", "2", "3"]
    assert [(t.name, t.datatype, list(t.shape)) for t in md.inputs] == [("b", "FP32", [1, 10])]
    # version-specific inference answers with the version used
    req = infer_request(kpb, "m", "2")
    add_input(req, "b", np.zeros((1, 10), np.float32), "FP32")
    resp = stub.ModelInfer(req, timeout=10)
    assert resp.model_version == "2"
    np.testing.assert_array_equal(output_array(resp, 0, np.float32), np.full((1, 10), 2.0, np.float32))
    req = infer_request(kpb, "m")
    add_input(req, "b", np.zeros((1, 10), np.float32), "FP32")
    assert stub.ModelInfer(req, timeout=10).model_version == "3"
    ch.close()


@pytest.mark.parametrize("typed", [False, True], ids=["raw", "typed"])
def test_infer_demo_matches_reference(kpb, demo, typed):
    stub, _ = demo
    req = infer_request(kpb, "demo", rid="my-id-1")
    add_input(req, "features", SAMPLES, "FP32", typed)
    resp = stub.ModelInfer(req, timeout=30)
    assert (resp.model_name, resp.model_version, resp.id) == ("demo", "1", "my-id-1")
    assert [(o.name, o.datatype, list(o.shape)) for o in resp.outputs] == [("probabilities", "FP32", [3, 3])]
    assert len(resp.raw_output_contents) == 1
    assert len(resp.outputs[0].contents.fp32_contents) == 0
    got = output_array(resp, 0, np.float32)
    np.testing.assert_allclose(got, demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)
    req.model_version = "1"
    req.id = ""
    resp = stub.ModelInfer(req, timeout=30)
    assert resp.id == ""


def _sample(dt, rng):
    if dt == np.bool_:
        return rng.integers(0, 2, size=(2, 3)).astype(np.bool_)
    if np.issubdtype(dt, np.floating):
        return rng.normal(size=(2, 3)).astype(dt)
    info = np.iinfo(dt)
    return np.array([[info.min, info.max, 0], [1, 2, 3]], dtype=dt)


def test_all_precisions_raw(kpb, start_server, tmp_path):
    srv = start_model(start_server, "all", model_factory.all_types(str(tmp_path / "all")))
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    rng = np.random.default_rng(7)
    arrays = {}
    req = infer_request(kpb, "all")
    for name, (_, dt, _, kdt) in model_factory.PRECISIONS.items():
        arrays[name] = (_sample(dt, rng), kdt)
        add_input(req, f"in_{name}", arrays[name][0], kdt)
    resp = stub.ModelInfer(req, timeout=30)
    assert [o.name for o in resp.outputs] == sorted(f"out_{n}" for n in model_factory.PRECISIONS)
    for i, o in enumerate(resp.outputs):
        name = o.name[len("out_"):]
        a, kdt = arrays[name]
        assert o.datatype == kdt
        np.testing.assert_array_equal(output_array(resp, i, a.dtype), a, err_msg=name)
    ch.close()


def test_all_precisions_typed_and_fp16_only_raw(kpb, start_server, tmp_path):
    specs = [(n, et, ["n", 3]) for n, (et, _, _, _) in model_factory.PRECISIONS.items() if n != "fp16"]
    srv = start_model(start_server, "typed", identity_model(str(tmp_path / "typed"), specs))
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    rng = np.random.default_rng(3)
    arrays = {}
    req = infer_request(kpb, "typed")
    for name, (_, dt, _, kdt) in model_factory.PRECISIONS.items():
        if name == "fp16":
            continue
        arrays[name] = (_sample(dt, rng), kdt)
        add_input(req, f"in_{name}", arrays[name][0], kdt, typed=True)
    resp = stub.ModelInfer(req, timeout=30)
    for i, o in enumerate(resp.outputs):
        a, kdt = arrays[o.name[len("out_"):]]
        assert o.datatype == kdt
        np.testing.assert_array_equal(output_array(resp, i, a.dtype), a, err_msg=o.name)
    ch.close()

    # FP16 has no typed container: typed requests carry no values for it.
    srv16 = start_model(start_server, "h", identity_model(str(tmp_path / "h"), [("h", TensorProto.FLOAT16, [2])]))
    ch = channel(srv16)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    req = infer_request(kpb, "h")
    inp = req.inputs.add(name="in_h", datatype="FP16", shape=[2])
    inp.contents.fp32_contents.extend([1.0, 2.0])
    expect_error(lambda: stub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of values in tensor proto container - Expected: 2; Actual: 0; input name: in_h")
    req = infer_request(kpb, "h")
    add_input(req, "in_h", np.array([1.5, -2.25], np.float16), "FP16")
    resp = stub.ModelInfer(req, timeout=10)
    assert resp.outputs[0].datatype == "FP16"
    np.testing.assert_array_equal(output_array(resp, 0, np.float16), np.array([1.5, -2.25], np.float16))
    ch.close()


def test_outputs_filtering(kpb, start_server, tmp_path):
    srv = start_model(start_server, "two", model_factory.two_inputs(str(tmp_path / "two")))
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    x = np.array([[1, 2], [3, 4]], np.float32)
    y = np.array([[10, 20], [30, 40]], np.float32)

    def request(outputs):
        req = infer_request(kpb, "two")
        add_input(req, "x", x, "FP32")
        add_input(req, "y", y, "FP32")
        for o in outputs:
            req.outputs.add(name=o)
        return req

    resp = stub.ModelInfer(request([]), timeout=10)
    assert [o.name for o in resp.outputs] == ["product", "sum"]  # all, OVMS order (by name)
    np.testing.assert_array_equal(output_array(resp, 0, np.float32), x * y)
    np.testing.assert_array_equal(output_array(resp, 1, np.float32), x + y)
    resp = stub.ModelInfer(request(["sum"]), timeout=10)
    assert [o.name for o in resp.outputs] == ["sum"] and len(resp.raw_output_contents) == 1
    np.testing.assert_array_equal(output_array(resp, 0, np.float32), x + y)
    resp = stub.ModelInfer(request(["sum", "product"]), timeout=10)
    assert [o.name for o in resp.outputs] == ["sum", "product"]
    np.testing.assert_array_equal(output_array(resp, 1, np.float32), x * y)
    expect_error(lambda: stub.ModelInfer(request(["sum", "nope"]), timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Missing output with specific name - Required output: nope")
    # inputs given in another order than the model's
    req = infer_request(kpb, "two")
    add_input(req, "y", y, "FP32")
    add_input(req, "x", x, "FP32")
    resp = stub.ModelInfer(req, timeout=10)
    np.testing.assert_array_equal(output_array(resp, 1, np.float32), x + y)
    ch.close()


def test_infer_errors(kpb, demo):
    stub, _ = demo
    INVALID = grpc.StatusCode.INVALID_ARGUMENT

    def req_with(array, datatype="FP32", name="features", typed=False, model="demo", version=""):
        req = infer_request(kpb, model, version)
        add_input(req, name, array, datatype, typed)
        return req

    cases = [
        (req_with(SAMPLES, model="nope"), grpc.StatusCode.NOT_FOUND, "Pipeline with requested name is not found"),
        (req_with(SAMPLES, version="2"), grpc.StatusCode.NOT_FOUND, "Model with requested version is not found"),
        (req_with(SAMPLES, version="one"), INVALID, "invalid model version format in request"),
        (req_with(SAMPLES, version="one", model="nope"), INVALID, "invalid model version format in request"),
        (req_with(SAMPLES.astype(np.int32), "INT32"), INVALID,
         "Invalid input precision - Expected: FP32; Actual: INT32; input name: features"),
        (req_with(SAMPLES, "FLOAT"), INVALID,
         "Invalid input precision - Expected: FP32; Actual: FLOAT; input name: features"),
        (req_with(SAMPLES.reshape(3, 4, 1)), INVALID,
         "Invalid number of shape dimensions - Expected: (-1,4); Actual: (3,4,1); input name: features"),
        (req_with(np.zeros((3, 5), np.float32)), INVALID,
         "Invalid input shape - Expected: (-1,4); Actual: (3,5); input name: features"),
        (req_with(SAMPLES, name="feat"), INVALID, "Missing input with specific name - Required input: features"),
        (infer_request(kpb, "demo"), INVALID, "Invalid number of inputs - Expected: 1; Actual: 0"),
    ]
    two = req_with(SAMPLES)
    add_input(two, "other", SAMPLES, "FP32")
    cases.append((two, INVALID, "Invalid number of inputs - Expected: 1; Actual: 2"))
    short_raw = req_with(SAMPLES)
    short_raw.raw_input_contents[0] = SAMPLES.tobytes()[:-4]
    cases.append((short_raw, INVALID,
                  "Invalid content size of tensor proto - Expected: 48 bytes; Actual: 44 bytes; input name: features"))
    short_typed = req_with(SAMPLES, typed=True)
    del short_typed.inputs[0].contents.fp32_contents[-1]
    cases.append((short_typed, INVALID,
                  "Invalid number of values in tensor proto container - Expected: 12; Actual: 11; input name: features"))
    wrong_field = req_with(SAMPLES.astype(np.int32), typed=True, datatype="INT32")
    wrong_field.inputs[0].datatype = "FP32"  # values in int_contents, datatype FP32
    cases.append((wrong_field, INVALID,
                  "Invalid number of values in tensor proto container - Expected: 12; Actual: 0; input name: features"))
    negative = req_with(SAMPLES)
    negative.inputs[0].shape[0] = -3
    cases.append((negative, INVALID, "Invalid input shape - Negative or zero dimension size is not acceptable: "
                                     "(-3,4); input name: features"))
    for req, code, message in cases:
        expect_error(lambda: stub.ModelInfer(req, timeout=10), code, message)
    assert_demo_still_serves(kpb, stub)


def test_batch_size_error(kpb, start_server, tmp_path):
    srv = start_model(start_server, "fixed", model_factory.add_const(str(tmp_path / "fixed")))
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    req = infer_request(kpb, "fixed")
    add_input(req, "b", np.zeros((2, 10), np.float32), "FP32")
    expect_error(lambda: stub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input batch size - Expected: 1; Actual: 2; input name: b")
    req = infer_request(kpb, "fixed")
    add_input(req, "b", np.arange(10, dtype=np.float32).reshape(1, 10), "FP32")
    np.testing.assert_array_equal(output_array(stub.ModelInfer(req, timeout=10), 0, np.float32),
                                  np.arange(10, dtype=np.float32).reshape(1, 10) + 1)
    ch.close()


def test_typed_and_raw_together_rejected(kpb, start_server, tmp_path):
    srv = start_model(start_server, "two", model_factory.two_inputs(str(tmp_path / "two")))
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    x = np.ones((1, 2), np.float32)
    req = infer_request(kpb, "two")
    add_input(req, "x", x, "FP32")                 # raw
    add_input(req, "y", x, "FP32", typed=True)     # typed
    expect_error(lambda: stub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Passing buffers both in ModelInferRequest::InferInputTensor::contents and in "
                 "ModelInferRequest::raw_input_contents is not allowed - Passing buffers both in InferInputTensor "
                 "contents and in raw_input_contents is not allowed. Detected buffer in InferInputTensor contents "
                 "for input: y")
    req = infer_request(kpb, "two")
    add_input(req, "x", x, "FP32")
    req.inputs.add(name="y", datatype="FP32", shape=[1, 2])  # no buffer for y
    expect_error(lambda: stub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Passing buffers both in ModelInferRequest::InferInputTensor::contents and in "
                 "ModelInferRequest::raw_input_contents is not allowed - Size of raw_input_contents: 1 is different "
                 "than number of inputs: 2")
    req = infer_request(kpb, "two")
    add_input(req, "x", x, "FP32")
    add_input(req, "y", x * 3, "FP32")
    resp = stub.ModelInfer(req, timeout=10)
    outputs = {o.name: output_array(resp, i, np.float32) for i, o in enumerate(resp.outputs)}
    np.testing.assert_array_equal(outputs["sum"], x * 4)
    np.testing.assert_array_equal(outputs["product"], x * 3)
    ch.close()


def test_bytes_inputs(kpb, demo, start_server, tmp_path):
    stub, _ = demo
    # BYTES to a numeric input needs a binary-input conversion (not implemented yet).
    req = infer_request(kpb, "demo")
    req.inputs.add(name="features", datatype="BYTES", shape=[1]).contents.bytes_contents.append(b"abc")
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert e.value.details().startswith("Not implemented - BYTES data for input features")
    # malformed length prefixes in raw BYTES
    for raw, detail in [(struct.pack("<I", 9) + b"xy", "Batch length metadata exceeded buffer size, buffer size: 6, "
                                                       "batch length: 9; input name: features"),
                        (bytes_packed([b"ab"]) + b"\x01", "Processed bytes: 6 do not equal to buffer size: 7; "
                                                          "input name: features")]:
        req = infer_request(kpb, "demo")
        req.inputs.add(name="features", datatype="BYTES", shape=[1])
        req.raw_input_contents.append(raw)
        expect_error(lambda: stub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                     "Invalid content size of tensor proto - " + detail)

    # A native string input: element counts come from bytes_contents or the length prefixes.
    srv = start_model(start_server, "s", identity_model(str(tmp_path / "s"), [("s", TensorProto.STRING, [3])]))
    ch = channel(srv)
    sstub = kpb[1].GRPCInferenceServiceStub(ch)
    req = infer_request(kpb, "s")
    req.inputs.add(name="in_s", datatype="BYTES", shape=[3]).contents.bytes_contents.extend([b"a", b"bc"])
    expect_error(lambda: sstub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of values in tensor proto container - Expected: 3; Actual: 2; input name: in_s")
    req = infer_request(kpb, "s")
    req.inputs.add(name="in_s", datatype="BYTES", shape=[3])
    req.raw_input_contents.append(bytes_packed([b"a", b"", b"xyz", b"q"]))
    expect_error(lambda: sstub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of values in tensor proto container - Expected: 3; Actual: 4; input name: in_s")
    req = infer_request(kpb, "s")
    req.inputs.add(name="in_s", datatype="FP32", shape=[3])
    req.raw_input_contents.append(bytes(12))
    expect_error(lambda: sstub.ModelInfer(req, timeout=10), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input precision - Expected: STRING; Actual: FP32; input name: in_s")
    assert_demo_still_serves(kpb, stub)
    ch.close()


def test_string_identity_round_trip(kpb, start_server, tmp_path):
    srv = start_model(start_server, "s", identity_model(str(tmp_path / "s"), [("s", TensorProto.STRING, [3])]))
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    req = infer_request(kpb, "s")
    req.inputs.add(name="in_s", datatype="BYTES", shape=[3]).contents.bytes_contents.extend([b"a", b"", b"xyz"])
    resp = stub.ModelInfer(req, timeout=10)
    assert resp.outputs[0].datatype == "BYTES" and list(resp.outputs[0].shape) == [3]
    assert resp.raw_output_contents[0] == bytes_packed([b"a", b"", b"xyz"])
    ch.close()


def test_model_stream_infer_in_order(kpb, demo):
    stub, _ = demo

    def requests():
        for i, model in enumerate(["demo", "nope", "demo", "demo"]):
            req = infer_request(kpb, model, rid=f"r{i}")
            add_input(req, "features", SAMPLES[: i + 1], "FP32")
            if i == 3:
                req.model_version = "x"
            yield req

    answers = list(stub.ModelStreamInfer(requests(), timeout=30))
    assert len(answers) == 4
    assert answers[0].error_message == "" and answers[0].infer_response.id == "r0"
    assert list(answers[0].infer_response.outputs[0].shape) == [1, 3]
    assert answers[1].error_message == "Pipeline with requested name is not found"
    assert not answers[1].HasField("infer_response")
    assert answers[2].infer_response.id == "r2"
    np.testing.assert_allclose(output_array(answers[2].infer_response, 0, np.float32),
                               demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)
    assert answers[3].error_message == "invalid model version format in request"
    # an empty stream is fine
    assert list(stub.ModelStreamInfer(iter([]), timeout=10)) == []


def test_unknown_model_metadata_and_ready_for_other_names(kpb, demo):
    """Names that only resemble a served one (empty, other case, padded, with a version path, very long,
    non-ASCII) are unknown models to both ModelReady and ModelMetadata; the server keeps serving."""
    stub, _ = demo
    for name in ["", "Demo", "demo ", " demo", "demo/1", "demo\x00", "d" * 4096, "démo"]:
        for version in ["", "1"]:
            expect_error(lambda: stub.ModelReady(kpb[0].ModelReadyRequest(name=name, version=version), timeout=10),
                         grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")
            expect_error(lambda: stub.ModelMetadata(kpb[0].ModelMetadataRequest(name=name, version=version),
                                                    timeout=10),
                         grpc.StatusCode.NOT_FOUND, "Model with requested name is not found")
    assert stub.ModelReady(kpb[0].ModelReadyRequest(name="demo"), timeout=10).ready is True
    assert_demo_still_serves(kpb, stub)


def slow_model(repo, nodes=12000):
    """A long chain of Adds: ONNX Runtime takes seconds to load it."""
    from onnx import numpy_helper
    graph_nodes, inits, prev = [], [], "x"
    for i in range(nodes):
        inits.append(numpy_helper.from_array(np.ones((1, 4), np.float32), f"c{i}"))
        out = f"t{i}" if i < nodes - 1 else "y"
        graph_nodes.append(helper.make_node("Add", [prev, f"c{i}"], [out]))
        prev = out
    g = helper.make_graph(graph_nodes, "slow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.join(repo, "1"))
    onnx.save(m, os.path.join(repo, "1", "model.onnx"))
    return repo


def wait_listening(srv, port, timeout=60):
    """Returns as soon as `port` accepts connections (the servers listen before models are loaded)."""
    import socket
    import time
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.time() < deadline and srv.proc.poll() is None
            time.sleep(0.01)


def start_slow_model(start_server, tmp_path, observe, nodes=1000, attempts=4):
    """Starts a server with one slowly loading model and calls observe(srv) once its ports listen.
    observe returns False if the load had already finished when it looked (a fast machine): the server
    is stopped and the test repeated with a model 4x slower, so the loading state is always seen."""
    for attempt in range(attempts):
        srv = start_server(["--model_name", "slow", "--model_path",
                            slow_model(str(tmp_path / f"slow{attempt}"), nodes=nodes)])
        wait_listening(srv, srv.grpc_port)
        wait_listening(srv, srv.rest_port)
        if observe(srv, nodes) is not False:
            return srv
        srv.stop()
        nodes *= 4
    pytest.fail(f"the model loaded before the test could look, {attempts} times (last with {nodes // 4} nodes)")


def test_readiness_follows_initial_load(kpb, start_server, tmp_path):
    import time

    def observe(srv, nodes):
        # a fresh channel: one that saw "connection refused" would back off for a while
        ch = channel(srv)
        stub = kpb[1].GRPCInferenceServiceStub(ch)
        try:
            assert stub.ServerLive(kpb[0].ServerLiveRequest(), timeout=5).live is True
            if stub.ServerReady(kpb[0].ServerReadyRequest(), timeout=5).ready:
                # Ready must mean loaded: the version may not still be loading.
                status, _, body = http("GET", srv.rest + "/v1/models/slow")
                assert status == 200 and b'"AVAILABLE"' in body, f"ready while the model is loading: {body}"
                return False
            assert http("GET", srv.rest + "/v2/health/live")[::2] == (200, b"")
            status, _, body = http("GET", srv.rest + "/v2/health/ready")
            # Readiness only goes one way: not ready (as gRPC just said) or, if the load finished meanwhile, ready.
            assert (status, body) in [(503, b'{"error":"Server is not ready"}'), (200, b"")]
            deadline = time.time() + 120
            while not stub.ServerReady(kpb[0].ServerReadyRequest(), timeout=5).ready:
                assert time.time() < deadline and srv.proc.poll() is None
                time.sleep(0.05)
            assert http("GET", srv.rest + "/v2/health/ready")[::2] == (200, b"")
            assert stub.ModelReady(kpb[0].ModelReadyRequest(name="slow"), timeout=5).ready is True
        finally:
            ch.close()

    start_slow_model(start_server, tmp_path, observe)


def test_version_that_failed_to_load(kpb, start_server, tmp_path):
    repo = str(tmp_path / "m")
    model_factory.add_const(repo, version=1)
    os.makedirs(os.path.join(repo, "2"))
    with open(os.path.join(repo, "2", "model.onnx"), "wb") as f:
        f.write(b"not an onnx model")
    srv = start_server(["--model_name", "m", "--model_path", repo, "--model_version_policy", '{"all": {}}'],
                       wait_for="m")
    ch = channel(srv)
    stub = kpb[1].GRPCInferenceServiceStub(ch)
    # Ready once every version's first load was attempted, even with one failed (version 2 may still be
    # failing when version 1 is AVAILABLE: versions load concurrently).
    deadline = time.time() + 20
    while not stub.ServerReady(kpb[0].ServerReadyRequest(), timeout=5).ready and time.time() < deadline:
        time.sleep(0.05)
    assert stub.ServerReady(kpb[0].ServerReadyRequest(), timeout=5).ready is True
    assert stub.ModelReady(kpb[0].ModelReadyRequest(name="m", version="2"), timeout=5).ready is False
    assert stub.ModelReady(kpb[0].ModelReadyRequest(name="m"), timeout=5).ready is True  # default = 1
    expect_error(lambda: stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="m", version="2"), timeout=5),
                 grpc.StatusCode.UNAVAILABLE, "Model with requested version is not loaded yet")
    assert list(stub.ModelMetadata(kpb[0].ModelMetadataRequest(name="m"), timeout=5).versions) == ["1"]
    status, _, body = http("GET", srv.rest + "/v2/models/m/versions/2/ready")
    assert (status, body) == (404, b'{"error":"Model with requested version is not loaded yet"}')
    status, _, body = http("GET", srv.rest + "/v2/models/m/versions/2")
    assert (status, body) == (404, b'{"error":"Model with requested version is not loaded yet"}')
    ch.close()
