"""The drifts between the four front ends that issue #8 found are gone: every API runs the one
inference path (src/serving/inference_path.h). One test per drift, each on all APIs it concerns."""
import json
import os
import re

import grpc
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import http, stubs_dir
from test_metrics import flat, req_key, scrape


@pytest.fixture(scope="module")
def kpb():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


@pytest.fixture(scope="module")
def tpb():
    stubs_dir()
    from tensorflow.core.framework import types_pb2
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    return predict_pb2, prediction_service_pb2_grpc, types_pb2


def int8_identity(repo):
    """Identity on x: INT8 [1,2] -> y."""
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "i8",
                          [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, [1, 2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.join(repo, "1"), exist_ok=True)
    onnx.save(m, os.path.join(repo, "1", "model.onnx"))
    return repo


@pytest.fixture
def i8(start_server, tmp_path):
    srv = start_server(["--model_name", "i8", "--model_path", int8_identity(str(tmp_path / "i8")),
                        "--metrics_enable"], wait_for="i8")
    ch = grpc.insecure_channel(srv.grpc_address)
    yield srv, ch
    ch.close()


def tfs_rest(srv, values, model="i8"):
    return http("POST", f"{srv.rest}/v1/models/{model}:predict", json.dumps({"inputs": {"x": [values]}}))


def kserve_rest(srv, values, model="i8"):
    body = {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "INT8", "data": values}]}
    return http("POST", f"{srv.rest}/v2/models/{model}/infer", json.dumps(body))


def kserve_grpc(kpb, ch, values, model="i8"):
    req = kpb[0].ModelInferRequest(model_name=model)
    inp = req.inputs.add(name="x", datatype="INT8", shape=[1, 2])
    inp.contents.int_contents.extend(values)
    return kpb[1].GRPCInferenceServiceStub(ch).ModelInfer(req, timeout=10)


def tfs_grpc(tpb, ch, values, model="i8"):
    req = tpb[0].PredictRequest()
    req.model_spec.name = model
    t = req.inputs["x"]
    t.dtype = tpb[2].DT_INT8
    t.tensor_shape.dim.add(size=1)
    t.tensor_shape.dim.add(size=2)
    t.int_val.extend(values)
    return tpb[1].PredictionServiceStub(ch).Predict(req, timeout=10)


def test_in_range_integers_pass_on_every_api(i8, kpb, tpb):
    srv, ch = i8
    status, _, body = tfs_rest(srv, [-128, 127])
    assert status == 200, body
    assert json.loads(body)["outputs"] == [[-128, 127]]
    status, _, body = kserve_rest(srv, [-128, 127])
    assert status == 200, body
    assert json.loads(body)["outputs"][0]["data"] == [-128, 127]
    resp = kserve_grpc(kpb, ch, [-128, 127])
    assert np.frombuffer(resp.raw_output_contents[0], np.int8).tolist() == [-128, 127]
    resp = tfs_grpc(tpb, ch, [-128, 127])
    assert np.frombuffer(resp.outputs["y"].tensor_content, np.int8).tolist() == [-128, 127]


@pytest.mark.parametrize("bad", [300, -129])
def test_out_of_range_integers_are_rejected_on_every_api(i8, kpb, tpb, bad):
    # KServe REST used to store 300 as 44; every API now rejects it as a client error.
    srv, ch = i8
    for send in (tfs_rest, kserve_rest):
        status, _, body = send(srv, [bad, 1])
        assert status == 400, (send.__name__, body)
        assert "Could not parse input content" in json.loads(body)["error"] or \
               "Could not parse instance content" in json.loads(body)["error"]
    for send, stubs in ((kserve_grpc, kpb), (tfs_grpc, tpb)):
        with pytest.raises(grpc.RpcError) as e:
            send(stubs, ch, [bad, 1])
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, send.__name__
        assert f"value {bad} is out of the range" in e.value.details()


def test_non_integral_values_are_rejected_on_both_rest_apis(i8):
    srv, _ = i8
    for send in (tfs_rest, kserve_rest):
        status, _, body = send(srv, [1.5, 1])
        assert status == 400, (send.__name__, body)


def test_string_mixed_into_a_numeric_row_is_a_client_error(i8):
    srv, _ = i8
    status, _, body = tfs_rest(srv, [1, "x"])
    assert status == 400, body
    status, _, body = http("POST", f"{srv.rest}/v1/models/i8:predict", json.dumps({"instances": [[1, "x"]]}))
    assert status == 400, body
    assert json.loads(body)["error"] == "Could not parse instance content. Not valid ndarray detected"
    status, _, body = kserve_rest(srv, [1, "x"])
    assert status == 400, body


def test_the_model_is_looked_up_before_the_body_is_decoded(i8):
    # KServe REST used to parse the body first (412 for an unknown model); gRPC looked up first.
    srv, _ = i8
    status, _, body = http("POST", f"{srv.rest}/v2/models/nope/infer", "{not json")
    assert status == 404, body
    assert json.loads(body)["error"] == "Pipeline with requested name is not found"
    status, _, body = http("POST", f"{srv.rest}/v1/models/nope:predict", "{not json")
    assert status == 404, body
    assert json.loads(body)["error"] == "Model with requested name is not found"
    status, _, body = http("POST", f"{srv.rest}/v2/models/i8/infer", "{not json")
    assert status == 412, body


def test_stream_infer_records_metrics(i8, kpb):
    # ModelStreamInfer used to count nothing; each streamed request is now one ModelInfer.
    srv, ch = i8
    success = req_key("ovms_requests_success", "KServe", "gRPC", "ModelInfer", "i8", 1)
    fail = req_key("ovms_requests_fail", "KServe", "gRPC", "ModelInfer", "i8", 1)
    before = flat(scrape(srv))

    def requests():
        for values in ([1, 2], [3, 4], [300, 1]):
            req = kpb[0].ModelInferRequest(model_name="i8")
            req.inputs.add(name="x", datatype="INT8", shape=[1, 2]).contents.int_contents.extend(values)
            yield req

    answers = list(kpb[1].GRPCInferenceServiceStub(ch).ModelStreamInfer(requests(), timeout=10))
    assert [bool(a.error_message) for a in answers] == [False, False, True]
    after = flat(scrape(srv))
    assert after[success] - before[success] == 2
    assert after[fail] - before[fail] == 1
    inference = ("ovms_inference_time_us_count", tuple(sorted({"name": "i8", "version": "1"}.items())))
    assert after[inference] - before[inference] == 2


def test_each_request_logs_one_escaped_debug_line(i8, kpb):
    srv, ch = i8
    kserve_rest(srv, [1, 2])
    http("POST", f"{srv.rest}/v2/models/bad%0Aname%1B[31m/infer", "{}")
    kserve_grpc(kpb, ch, [5, 6])
    http("GET", f"{srv.rest}/v2/models/i8")
    http("GET", f"{srv.rest}/v1/models/i8/versions/3")
    log = srv.read_log()
    # Every method logs the same line, not only inferences.
    assert re.search(r"Request: model i8; version 0; KServe REST ModelMetadata; status: OK; time: \d+ us", log), log
    assert "Request: model i8; version 3; TensorFlowServing REST GetModelStatus; status: " \
           "Model with requested version is not found" in log, log
    assert re.search(r"Request: model i8; version 1; KServe REST ModelInfer; status: OK; time: \d+ us", log), log
    assert re.search(r"Request: model i8; version 1; KServe gRPC ModelInfer; status: OK; time: \d+ us", log), log
    # A client-supplied name never puts raw control characters into the log.
    assert "Request: model bad\\nname\\x1b[31m; version 0; KServe REST ModelInfer; status: " \
           "Pipeline with requested name is not found" in log, log
    assert "\x1b[31m" not in log


def image_and_vector(repo):
    """Inputs in model order: a FP32 [1,2], then img U8 [1,4,4,3] (an image input)."""
    g = helper.make_graph([helper.make_node("Identity", ["a"], ["a_out"]), helper.make_node("Identity", ["img"], ["img_out"])],
                          "two", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 2]),
                                  helper.make_tensor_value_info("img", TensorProto.UINT8, [1, 4, 4, 3])],
                          [helper.make_tensor_value_info("a_out", TensorProto.FLOAT, [1, 2]),
                           helper.make_tensor_value_info("img_out", TensorProto.UINT8, [1, 4, 4, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.join(repo, "1"), exist_ok=True)
    onnx.save(m, os.path.join(repo, "1", "model.onnx"))
    return repo


def test_images_decode_at_the_same_validation_step_on_every_api(start_server, tmp_path, kpb, tpb):
    # TF-Serving used to decode images before validating anything; KServe only at the precision
    # step. Now every API validates in model order: the missing input `a` (first in model order) is
    # reported before the undecodable image.
    import base64
    srv = start_server(["--model_name", "two", "--model_path", image_and_vector(str(tmp_path / "two"))],
                       wait_for="two")
    ch = grpc.insecure_channel(srv.grpc_address)
    missing = "Missing input with specific name - Required input: a"
    broken = b"not an image"
    # TF-Serving gRPC
    req = tpb[0].PredictRequest()
    req.model_spec.name = "two"
    t = req.inputs["img"]
    t.dtype = tpb[2].DT_STRING
    t.tensor_shape.dim.add(size=1)
    t.string_val.append(broken)
    w = req.inputs["wrong"]
    w.dtype = tpb[2].DT_FLOAT
    w.tensor_shape.dim.add(size=1)
    w.tensor_shape.dim.add(size=2)
    w.float_val.extend([1, 2])
    with pytest.raises(grpc.RpcError) as e:
        tpb[1].PredictionServiceStub(ch).Predict(req, timeout=10)
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, missing)
    # KServe gRPC
    kreq = kpb[0].ModelInferRequest(model_name="two")
    kreq.inputs.add(name="img", datatype="BYTES", shape=[1]).contents.bytes_contents.append(broken)
    kreq.inputs.add(name="wrong", datatype="FP32", shape=[1, 2]).contents.fp32_contents.extend([1, 2])
    with pytest.raises(grpc.RpcError) as e:
        kpb[1].GRPCInferenceServiceStub(ch).ModelInfer(kreq, timeout=10)
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, missing)
    # TF-Serving REST
    body = {"inputs": {"img": [{"b64": base64.b64encode(broken).decode()}], "wrong": [[1.0, 2.0]]}}
    status, _, resp = http("POST", f"{srv.rest}/v1/models/two:predict", json.dumps(body))
    assert (status, json.loads(resp)) == (400, {"error": missing})
    # KServe REST
    body = {"inputs": [{"name": "img", "shape": [1], "datatype": "BYTES", "data": [broken.decode()]},
                       {"name": "wrong", "shape": [1, 2], "datatype": "FP32", "data": [1.0, 2.0]}]}
    status, _, resp = http("POST", f"{srv.rest}/v2/models/two/infer", json.dumps(body))
    assert (status, json.loads(resp)) == (400, {"error": missing})
    # With `a` present, the image is decoded (and fails: IMAGE_PARSING_FAILED, gRPC UNKNOWN / REST
    # 500, §7.4) at the precision step, on every API alike.
    kreq.inputs[1].name = "a"
    with pytest.raises(grpc.RpcError) as e:
        kpb[1].GRPCInferenceServiceStub(ch).ModelInfer(kreq, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNKNOWN
    req.inputs["a"].CopyFrom(req.inputs["wrong"])
    del req.inputs["wrong"]
    with pytest.raises(grpc.RpcError) as e:
        tpb[1].PredictionServiceStub(ch).Predict(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNKNOWN
    body = {"inputs": {"img": [{"b64": base64.b64encode(broken).decode()}], "a": [[1.0, 2.0]]}}
    status, _, resp = http("POST", f"{srv.rest}/v1/models/two:predict", json.dumps(body))
    assert (status, json.loads(resp)) == (500, {"error": "Image parsing failed"})
    ch.close()
