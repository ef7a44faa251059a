#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/). Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_seeds.py
Needs tools/gen_python_stubs.sh (protoc + grpc_python_plugin) and, for the IR seeds, ../shared."""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared", "fixtures", "ovms-test-models"))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


ROW = [5.1, 3.5, 1.4, 0.2]


def rest_seeds():
    GET, POST = b"\x00", b"\x01"

    def req(method, path, body=b"", ihcl=b""):
        return method + path.encode() + b"\n" + ihcl + b"\n" + (body if isinstance(body, bytes) else body.encode())

    j = json.dumps
    seeds = {
        "status": req(GET, "/v1/models/demo"),
        "status_version": req(GET, "/v1/models/demo/versions/1"),
        "metadata": req(GET, "/v1/models/demo/metadata"),
        "predict_row": req(POST, "/v1/models/demo:predict", j({"instances": [ROW, ROW]})),
        "predict_row_named": req(POST, "/v1/models/demo:predict", j({"instances": [{"features": ROW}]})),
        "predict_column": req(POST, "/v1/models/demo/versions/1:predict", j({"inputs": {"features": [ROW]}})),
        "predict_column_unnamed": req(POST, "/v1/models/demo:predict", j({"inputs": [ROW], "signature_name": "serving_default"})),
        "predict_b64": req(POST, "/v1/models/demo:predict", j({"instances": [{"b64": "aGVsbG8="}]})),
        "predict_nested": req(POST, "/v1/models/demo:predict", '{"instances": [[[[[[[[[[1]]]]]]]]]]}'),
        "kserve_ready": req(GET, "/v2/health/ready"),
        "kserve_live": req(GET, "/v2/health/live"),
        "kserve_server": req(GET, "/v2"),
        "kserve_model": req(GET, "/v2/models/demo"),
        "kserve_model_ready": req(GET, "/v2/models/demo/versions/1/ready"),
        "kserve_infer": req(POST, "/v2/models/demo/infer", j({"id": "1", "inputs": [
            {"name": "features", "shape": [1, 4], "datatype": "FP32", "data": ROW}]})),
        "kserve_infer_outputs": req(POST, "/v2/models/demo/versions/1/infer", j({"inputs": [
            {"name": "features", "shape": [2, 4], "datatype": "FP32", "data": [ROW, ROW]}],
            "outputs": [{"name": "probabilities"}], "parameters": {"x": 1}})),
        "config": req(GET, "/v1/config"),
        "config_reload": req(POST, "/v1/config/reload"),
        "metrics": req(GET, "/metrics"),
        "options": b"\x02/v1/models/demo:predict\n\n",
        "escaped": req(GET, "/v1/models/de%6Do/versions/1/metadata"),
    }
    header = j({"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",
                            "parameters": {"binary_data_size": 16}}]}).encode()
    seeds["kserve_binary"] = req(POST, "/v2/models/demo/infer", header + struct.pack("<4f", *ROW),
                                 str(len(header)).encode())
    bheader = j({"inputs": [{"name": "features", "shape": [1], "datatype": "BYTES",
                             "parameters": {"binary_data_size": 9}}]}).encode()
    seeds["kserve_binary_bytes"] = req(POST, "/v2/models/demo/infer", bheader + struct.pack("<I", 5) + b"hello",
                                       str(len(bheader)).encode())
    for name, data in seeds.items():
        write("rest_router", name, data)


def grpc_seeds():
    stubs = tempfile.mkdtemp(prefix="ovms-seed-stubs-")
    subprocess.run(["bash", os.path.join(ROOT, "tools", "gen_python_stubs.sh"), stubs], check=True)
    sys.path.insert(0, stubs)
    from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, predict_pb2
    from kserve import grpc_predict_v2_pb2 as v2

    p = predict_pb2.PredictRequest()
    p.model_spec.name = "demo"
    t = p.inputs["features"]
    t.dtype = 1  # DT_FLOAT
    t.tensor_shape.dim.add().size = 1
    t.tensor_shape.dim.add().size = 4
    t.tensor_content = struct.pack("<4f", *ROW)
    write("grpc_requests", "predict_content", b"\x00" + p.SerializeToString())
    t.ClearField("tensor_content")
    t.float_val.extend(ROW)
    p.model_spec.version.value = 1
    write("grpc_requests", "predict_float_val", b"\x00" + p.SerializeToString())
    s = p.inputs["features"]
    s.dtype = 7  # DT_STRING
    s.ClearField("float_val")
    s.string_val.append(b"\xff\xd8\xff not a jpeg")
    write("grpc_requests", "predict_string_val", b"\x00" + p.SerializeToString())
    m = get_model_metadata_pb2.GetModelMetadataRequest()
    m.model_spec.name = "demo"
    m.metadata_field.append("signature_def")
    write("grpc_requests", "metadata", b"\x01" + m.SerializeToString())
    st = get_model_status_pb2.GetModelStatusRequest()
    st.model_spec.name = "demo"
    write("grpc_requests", "status", b"\x02" + st.SerializeToString())
    k = v2.ModelInferRequest(model_name="demo", model_version="1", id="x")
    i = k.inputs.add(name="features", datatype="FP32", shape=[1, 4])
    k.raw_input_contents.append(struct.pack("<4f", *ROW))
    write("grpc_requests", "kserve_infer_raw", b"\x03" + k.SerializeToString())
    k.ClearField("raw_input_contents")
    i.contents.fp32_contents.extend(ROW)
    k.outputs.add(name="probabilities")
    write("grpc_requests", "kserve_infer_contents", b"\x03" + k.SerializeToString())
    write("grpc_requests", "kserve_metadata", b"\x04" + v2.ModelMetadataRequest(name="demo").SerializeToString())
    write("grpc_requests", "kserve_ready", b"\x05" + v2.ModelReadyRequest(name="demo", version="1").SerializeToString())


def config_seeds():
    base = {"model_config_list": [{"config": {"name": "m", "base_path": "/models/m"}}]}
    write("config_file", "minimal", json.dumps(base))
    full = {"model_config_list": [{"config": {
        "name": "m", "base_path": "rel/m", "batch_size": "auto", "shape": {"in": "(1,3,-1:10,224)"},
        "layout": "NHWC:NCHW", "nireq": 2, "target_device": "CPU", "plugin_config": {"NUM_STREAMS": "1"},
        "model_version_policy": {"specific": {"versions": [1, 3]}}}},
        {"config": {"name": "n", "base_path": "/n", "model_version_policy": {"latest": {"num_versions": 2}},
                    "shape": "auto"}}],
        "pipeline_config_list": [{"name": "p", "inputs": ["a"], "nodes": [], "outputs": []}],
        "monitoring": {"metrics": {"enable": True, "metrics_list": ["ovms_requests_success"]}}}
    write("config_file", "full", json.dumps(full))
    write("config_file", "invalid_model", json.dumps({"model_config_list": [{"config": {"name": "x"}}]}))
    write("config_file", "not_json", "{\"model_config_list\": [")


def mapping_seeds():
    write("mapping_config", "both", json.dumps({"inputs": {"features": "x"}, "outputs": {"probabilities": "y"}}))
    write("mapping_config", "inputs_only", json.dumps({"inputs": {"features": "in"}}))
    write("mapping_config", "wrong_types", json.dumps({"inputs": ["features"], "outputs": {"probabilities": 1}}))


def model_seeds():
    with open(os.path.join(ROOT, "models", "demo_classifier", "1", "model.onnx"), "rb") as f:
        write("onnx_model", "demo", f.read())
    for name in ("dummy", "passthrough", "increment_1x3x4x5"):
        d = os.path.join(SHARED, name, "1")
        if not os.path.isdir(d):
            continue
        xml = [f for f in os.listdir(d) if f.endswith(".xml")][0]
        with open(os.path.join(d, xml), "rb") as f:
            x = f.read()
        with open(os.path.join(d, xml[:-4] + ".bin"), "rb") as f:
            b = f.read()
        write("ir_model", name, x + b"\0" + b)
        onnx = [f for f in os.listdir(d) if f.endswith(".onnx")]
        if onnx:
            with open(os.path.join(d, onnx[0]), "rb") as f:
                write("onnx_model", name, f.read())


if __name__ == "__main__":
    rest_seeds()
    grpc_seeds()
    config_seeds()
    mapping_seeds()
    model_seeds()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))))
