"""DAG pipelines end to end (docs/pipelines.md, spec §9): the face -> crop -> age/gender example
served by the real binary and called with a JPEG, demultiplexing, a pipeline over every front end,
status/metadata/config/metrics as version 1, an invalid pipeline, a failing custom node and a
pipeline reload under load. The executor itself is tested in tests/pipeline."""
import json
import os
import struct
import threading
import time

import grpc
import numpy as np
import pytest

from conftest import SHARED, http, ovms_binary, stubs_dir

OMZ = os.path.join(SHARED, "fixtures", "omz-ir")
MESSI = os.path.join(SHARED, "fixtures", "images", "messi5.jpg")

def require_fixtures():
    if not (os.path.isdir(OMZ) and os.path.exists(MESSI)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"../shared fixtures missing: {OMZ}")
        pytest.skip("../shared fixtures not present")


def node_library(name):
    path = os.path.join(os.path.dirname(ovms_binary()), "custom_nodes", f"libcustom_node_{name}.so")
    assert os.path.exists(path), f"build the example custom node first: {path}"
    return path


def crop_library():
    return node_library("image_crop")


def face_config(tmp_path, threshold="0.7", max_batch="100"):
    cfg = {
        "model_config_list": [
            {"config": {"name": "face_detection", "base_path": os.path.join(OMZ, "face-detection-retail-0004"),
                        "layout": {"data": "NHWC:NCHW"}}},
            {"config": {"name": "age_gender", "base_path": os.path.join(OMZ, "age-gender-recognition-retail-0013")}},
        ],
        "custom_node_library_config_list": [{"name": "image_crop", "base_path": crop_library()}],
        "pipeline_config_list": [{
            "name": "find_face_age_gender",
            "inputs": ["image"],
            "nodes": [
                {"name": "face_detection_node", "type": "DL model", "model_name": "face_detection",
                 "inputs": [{"data": {"node_name": "request", "data_item": "image"}}],
                 "outputs": [{"data_item": "detection_out", "alias": "detection"}]},
                {"name": "crop_node", "type": "custom", "library_name": "image_crop",
                 "inputs": [{"image": {"node_name": "request", "data_item": "image"}},
                            {"detection": {"node_name": "face_detection_node", "data_item": "detection"}}],
                 "outputs": [{"data_item": "images", "alias": "face_images"},
                             {"data_item": "coordinates", "alias": "face_coordinates"},
                             {"data_item": "confidences", "alias": "confidence_levels"}],
                 "params": {"target_image_width": "62", "target_image_height": "62",
                            "confidence_threshold": threshold, "max_output_batch": max_batch,
                            "original_image_layout": "NHWC"},
                 "demultiply_count": 0},
                {"name": "age_gender_node", "type": "DL model", "model_name": "age_gender",
                 "inputs": [{"data": {"node_name": "crop_node", "data_item": "face_images"}}],
                 "outputs": [{"data_item": "age_conv3", "alias": "age"}, {"data_item": "prob", "alias": "gender"}]},
            ],
            "outputs": [{"age": {"node_name": "age_gender_node", "data_item": "age"}},
                        {"gender": {"node_name": "age_gender_node", "data_item": "gender"}},
                        {"face_coordinates": {"node_name": "crop_node", "data_item": "face_coordinates"}},
                        {"confidence_levels": {"node_name": "crop_node", "data_item": "confidence_levels"}}],
        }],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return str(path)


@pytest.fixture
def face_server(start_server, tmp_path):
    require_fixtures()
    # Waits for the models only: the pipeline's own state is what the tests check.
    srv = start_server(["--config_path", face_config(tmp_path)], wait_for="face_detection")
    srv.wait_available("age_gender")
    return srv


def infer_jpeg(srv, jpeg, name="find_face_age_gender"):
    header = json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                                     "parameters": {"binary_data_size": len(jpeg) + 4}}]}).encode()
    body = header + struct.pack("<I", len(jpeg)) + jpeg
    return http("POST", srv.rest + f"/v2/models/{name}/infer", body,
                {"Inference-Header-Content-Length": str(len(header))})


def test_messi_one_face_over_kserve_rest(face_server):
    with open(MESSI, "rb") as f:
        status, _, body = infer_jpeg(face_server, f.read())
    assert status == 200, body
    out = {o["name"]: o for o in json.loads(body)["outputs"]}
    assert out["age"]["shape"] == [1, 1, 1, 1, 1]
    age = out["age"]["data"][0] * 100
    female, male = out["gender"]["data"][:2]
    assert 15 < age < 45
    assert male > female
    assert out["face_coordinates"]["shape"] == [1, 1, 4]


def test_pipeline_status_and_metadata_report_version_1(face_server):
    # The fixture waits for the models; the pipeline is registered just after them (seen 404 under load).
    face_server.wait_available("find_face_age_gender")
    status, _, body = http("GET", face_server.rest + "/v1/models/find_face_age_gender")
    assert status == 200, body
    versions = json.loads(body)["model_version_status"]
    assert versions == [{"version": "1", "state": "AVAILABLE",
                         "status": {"error_code": "OK", "error_message": "OK"}}]
    status, _, body = http("GET", face_server.rest + "/v2/models/find_face_age_gender")
    assert status == 200, body
    meta = json.loads(body)
    assert meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == ["image"]
    # OVMS keeps a pipeline's inputs and outputs in a std::map: sorted by name, as for models.
    assert [o["name"] for o in meta["outputs"]] == ["age", "confidence_levels", "face_coordinates", "gender"]
    assert http("GET", face_server.rest + "/v2/models/find_face_age_gender/ready")[0] == 200
    status, _, body = http("GET", face_server.rest + "/v1/models/find_face_age_gender/metadata")
    assert status == 200, body
    meta = json.loads(body)
    assert meta["modelSpec"]["version"] == "1"
    sig = meta["metadata"]["signature_def"]["signatureDef"]["serving_default"]
    assert sorted(sig["inputs"]) == ["image"]
    status, _, body = http("GET", face_server.rest + "/v1/config")
    assert status == 200, body
    listed = json.loads(body)
    assert list(listed) == ["age_gender", "face_detection", "find_face_age_gender"]
    assert listed["find_face_age_gender"]["model_version_status"][0]["state"] == "AVAILABLE"


def test_several_detections_are_demultiplexed_and_gathered(start_server, tmp_path):
    # A low confidence threshold turns the detector's weaker candidates into extra "faces": the crop
    # node (demultiply_count 0 = dynamic) yields several crops, age_gender runs once per crop and the
    # response gathers them along a new dim 0.
    require_fixtures()
    srv = start_server(["--config_path", face_config(tmp_path, threshold="0.0001", max_batch="4")],
                       wait_for="face_detection")
    srv.wait_available("age_gender")
    with open(MESSI, "rb") as f:
        status, _, body = infer_jpeg(srv, f.read())
    assert status == 200, body
    out = {o["name"]: o for o in json.loads(body)["outputs"]}
    n = out["age"]["shape"][0]
    assert 2 <= n <= 4, out["age"]["shape"]
    assert out["age"]["shape"] == [n, 1, 1, 1, 1]
    assert out["gender"]["shape"] == [n, 1, 2, 1, 1]
    assert out["face_coordinates"]["shape"] == [n, 1, 4]
    assert len(out["age"]["data"]) == n


# ------------------------------------------------- a custom-node-only pipeline over every front end


def calc_config(add_value="1", library=None, model_name=None):
    """Pipeline `calc`: request.numbers -> arithmetic node ((x + add_value) * 1) -> response.result.
    With `model_name`, the pipeline refers to a model node of that name instead (invalid if absent)."""
    if model_name:
        node = {"name": "calc_node", "type": "DL model", "model_name": model_name,
                "inputs": [{"input_numbers": {"node_name": "request", "data_item": "numbers"}}],
                "outputs": [{"data_item": "output_numbers", "alias": "result"}]}
    else:
        node = {"name": "calc_node", "type": "custom", "library_name": "arithmetic",
                "params": {"add_value": add_value},
                "inputs": [{"input_numbers": {"node_name": "request", "data_item": "numbers"}}],
                "outputs": [{"data_item": "output_numbers", "alias": "result"}]}
    return {
        "model_config_list": [],
        "custom_node_library_config_list": [{"name": "arithmetic", "base_path": library or node_library("arithmetic")}],
        "pipeline_config_list": [{"name": "calc", "inputs": ["numbers"], "nodes": [node],
                                  "outputs": [{"result": {"node_name": "calc_node", "data_item": "result"}}]}],
    }


def write_config(path, cfg):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cfg, f)
    os.replace(tmp, path)


def wait_pipeline(srv, name, state="AVAILABLE", error_code="OK", timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(srv.read_log())
        try:
            status, _, body = http("GET", f"{srv.rest}/v1/models/{name}", timeout=2)
            last = (status, body)
            if status == 200:
                v = json.loads(body)["model_version_status"][0]
                if v["state"] == state and v["status"]["error_code"] == error_code:
                    return json.loads(body)["model_version_status"]
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"pipeline {name} not {state}: {last}\n{srv.read_log()}")


@pytest.fixture
def calc_server(start_server, tmp_path):
    cfg = tmp_path / "config.json"
    write_config(cfg, calc_config())
    srv = start_server(["--config_path", str(cfg), "--metrics_enable"])
    wait_pipeline(srv, "calc")
    srv.config_path = cfg
    return srv


def kserve_rest_calc(srv, values):
    body = json.dumps({"inputs": [{"name": "numbers", "shape": [1, len(values)], "datatype": "FP32",
                                   "data": values}]})
    return http("POST", f"{srv.rest}/v2/models/calc/infer", body.encode())


def test_pipeline_over_all_four_front_ends(calc_server, pb):
    x = np.array([[1.0, 2.5, -3.0]], np.float32)
    expected = (x + 1).tolist()
    # KServe REST
    status, _, body = kserve_rest_calc(calc_server, x.reshape(-1).tolist())
    assert status == 200, body
    resp = json.loads(body)
    assert resp["model_name"] == "calc" and resp["model_version"] == "1"
    assert resp["outputs"][0]["name"] == "result" and resp["outputs"][0]["data"] == expected[0]
    # TF-Serving REST, named column format; the version in the URL is ignored for pipelines
    status, _, body = http("POST", f"{calc_server.rest}/v1/models/calc/versions/7:predict",
                           json.dumps({"inputs": {"numbers": x.tolist()}}).encode())
    assert status == 200, body
    assert json.loads(body)["outputs"] == expected
    # TF-Serving REST unnamed format: not for DAGs (§9)
    status, _, body = http("POST", f"{calc_server.rest}/v1/models/calc:predict",
                           json.dumps({"inputs": x.tolist()}).encode())
    assert status == 400, body
    assert json.loads(body)["error"] == "Inputs inside buffer does not match expected format."
    status, _, body = http("POST", f"{calc_server.rest}/v1/models/calc:predict",
                           json.dumps({"instances": x.tolist()}).encode())
    assert status == 400, body
    # TF-Serving gRPC
    ch = grpc.insecure_channel(calc_server.grpc_address)
    try:
        req = pb.predict.PredictRequest()
        req.model_spec.name = "calc"
        t = req.inputs["numbers"]
        t.dtype = pb.types.DT_FLOAT
        for d in x.shape:
            t.tensor_shape.dim.add().size = d
        t.tensor_content = x.tobytes()
        resp = pb.prediction_grpc.PredictionServiceStub(ch).Predict(req, timeout=30)
        out = np.frombuffer(resp.outputs["result"].tensor_content, np.float32)
        assert out.tolist() == expected[0]
        st = pb.model_grpc.ModelServiceStub(ch).GetModelStatus(
            pb.status.GetModelStatusRequest(model_spec={"name": "calc"}), timeout=10)
        assert [(v.version, v.state) for v in st.model_version_status] == [(1, 30)]
        # KServe gRPC
        stubs_dir()
        from kserve import grpc_predict_v2_pb2 as kpb, grpc_predict_v2_pb2_grpc as kgrpc
        kstub = kgrpc.GRPCInferenceServiceStub(ch)
        kreq = kpb.ModelInferRequest(model_name="calc", model_version="3")
        kreq.inputs.add(name="numbers", datatype="FP32", shape=list(x.shape))
        kreq.raw_input_contents.append(x.tobytes())
        kresp = kstub.ModelInfer(kreq, timeout=30)
        assert kresp.model_name == "calc" and kresp.model_version == "1"
        assert np.frombuffer(kresp.raw_output_contents[0], np.float32).tolist() == expected[0]
        assert kstub.ModelReady(kpb.ModelReadyRequest(name="calc"), timeout=10).ready is True
        meta = kstub.ModelMetadata(kpb.ModelMetadataRequest(name="calc"), timeout=10)
        assert list(meta.versions) == ["1"] and [i.name for i in meta.inputs] == ["numbers"]
        # ModelStreamInfer: each message is one ModelInfer
        answers = list(kstub.ModelStreamInfer(iter([kreq, kreq]), timeout=30))
        assert [a.error_message for a in answers] == ["", ""]
        assert all(a.infer_response.model_name == "calc" for a in answers)
    finally:
        ch.close()
    # Request metrics are labelled with the pipeline's name and version "1" (§8).
    samples = calc_server.metrics()
    key = 'ovms_requests_success{api="KServe",interface="REST",method="ModelInfer",name="calc",version="1"}'
    assert samples.get(key) == 1.0, [k for k in samples if 'name="calc"' in k]
    key = 'ovms_requests_success{api="TensorFlowServing",interface="gRPC",method="Predict",name="calc",version="1"}'
    assert samples.get(key) == 1.0
    key = 'ovms_requests_fail{api="TensorFlowServing",interface="REST",method="Predict",name="calc",version="1"}'
    assert samples.get(key) == 2.0


def test_unknown_name_is_a_missing_pipeline_except_on_tfs_rest(calc_server):
    status, _, body = http("POST", f"{calc_server.rest}/v2/models/nope/infer",
                           json.dumps({"inputs": []}).encode())
    assert (status, json.loads(body)["error"]) == (404, "Pipeline with requested name is not found")
    status, _, body = http("POST", f"{calc_server.rest}/v1/models/nope:predict", b'{"inputs": {}}')
    assert (status, json.loads(body)["error"]) == (404, "Model with requested name is not found")


def test_invalid_pipeline_reports_loading_failed_precondition_and_is_retried(start_server, tmp_path):
    cfg = tmp_path / "config.json"
    write_config(cfg, calc_config(model_name="missing_model"))
    srv = start_server(["--config_path", str(cfg)])
    versions = wait_pipeline(srv, "calc", state="LOADING", error_code="FAILED_PRECONDITION")
    assert versions[0]["version"] == "1" and len(versions) == 1
    status, _, body = http("GET", f"{srv.rest}/v2/models/calc/ready")
    assert status == 404, body
    status, _, body = kserve_rest_calc(srv, [1.0])
    assert (status, json.loads(body)["error"]) == (404, "Pipeline is not loaded yet"), body
    # Fixed on the next reload.
    write_config(cfg, calc_config())
    status, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert status in (200, 201), body
    wait_pipeline(srv, "calc")
    status, _, body = kserve_rest_calc(srv, [1.0])
    assert status == 200, body


def test_custom_node_execute_error_is_a_clean_error_response(start_server, tmp_path):
    # The crop node's execute() rejects a 0x0 image (returns non-zero): the client gets OVMS's
    # NODE_LIBRARY_EXECUTION_FAILED and the server keeps serving.
    cfg = tmp_path / "config.json"
    write_config(cfg, {
        "model_config_list": [],
        "custom_node_library_config_list": [{"name": "image_crop", "base_path": crop_library()}],
        "pipeline_config_list": [{
            "name": "crop", "inputs": ["image", "detection"],
            "nodes": [{"name": "crop_node", "type": "custom", "library_name": "image_crop",
                       "params": {"original_image_layout": "NHWC", "target_image_width": "8",
                                  "target_image_height": "8"},
                       "inputs": [{"image": {"node_name": "request", "data_item": "image"}},
                                  {"detection": {"node_name": "request", "data_item": "detection"}}],
                       "outputs": [{"data_item": "coordinates", "alias": "coordinates"}]}],
            "outputs": [{"coordinates": {"node_name": "crop_node", "data_item": "coordinates"}}]}]})
    srv = start_server(["--config_path", str(cfg)])
    wait_pipeline(srv, "crop")
    det = [0, 1, 0.9, 0.1, 0.1, 0.5, 0.5]
    for _ in range(3):
        body = json.dumps({"inputs": [
            {"name": "image", "shape": [1, 0, 0, 3], "datatype": "FP32", "data": []},
            {"name": "detection", "shape": [1, 1, 1, 7], "datatype": "FP32", "data": det}]})
        status, _, resp = http("POST", f"{srv.rest}/v2/models/crop/infer", body.encode())
        assert (status, json.loads(resp)["error"]) == (500, "Custom node failed during execution"), resp
    # Still serving: a real 8x8 image with one box over all of it.
    body = json.dumps({"inputs": [
        {"name": "image", "shape": [1, 8, 8, 3], "datatype": "FP32", "data": [1.0] * 192},
        {"name": "detection", "shape": [1, 1, 1, 7], "datatype": "FP32", "data": [0, 1, 0.9, 0, 0, 1, 1]}]})
    status, _, resp = http("POST", f"{srv.rest}/v2/models/crop/infer", body.encode())
    assert status == 200, resp


def test_pipeline_reload_under_load_fails_no_request(calc_server):
    # Clients send throughout while config.json changes the node's params and is reloaded: every
    # request is answered 200 by the old or the new plan, never an error.
    stop = threading.Event()
    results, errors = [], []

    def client():
        while not stop.is_set():
            try:
                status, _, body = kserve_rest_calc(calc_server, [10.0, 20.0])
                if status != 200:
                    errors.append((status, body))
                else:
                    results.append(tuple(json.loads(body)["outputs"][0]["data"]))
            except Exception as e:  # noqa: BLE001 (a connection error is a failed request too)
                errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            add = "2" if i % 2 == 0 else "1"
            write_config(calc_server.config_path, calc_config(add_value=add))
            status, _, body = http("POST", f"{calc_server.rest}/v1/config/reload")
            assert status in (200, 201), body
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert set(results) <= {(11.0, 21.0), (12.0, 22.0)}, set(results)
    assert {(11.0, 21.0), (12.0, 22.0)} <= set(results)
