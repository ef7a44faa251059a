"""ONNX models for the shape / layout / device / nireq / cache end-to-end tests."""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(model, repo, version=1, mapping=None):
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    if mapping:
        with open(os.path.join(d, "mapping_config.json"), "w") as f:
            json.dump(mapping, f)
    return repo


def scale(repo, dims, factor=2.0, in_name="x", out_name="y", version=1, mapping=None):
    """y = x * factor, FP32, any rank; `dims` items are ints or symbolic names."""
    c = numpy_helper.from_array(np.array(factor, dtype=np.float32), "factor")
    g = helper.make_graph([helper.make_node("Mul", [in_name, "factor"], [out_name])], "scale",
                          [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, list(dims))],
                          [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(dims))], [c])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version, mapping)


def channel_scale_nchw(repo, shape=(1, 3, 2, 4), version=1):
    """y = x * c[channel] + spatial ramp, NCHW, static: its result depends on the layout of the input."""
    n, c, h, w = shape
    per_channel = numpy_helper.from_array(np.arange(1, c + 1, dtype=np.float32).reshape(1, c, 1, 1), "pc")
    ramp = numpy_helper.from_array(np.arange(h * w, dtype=np.float32).reshape(1, 1, h, w) / 10, "ramp")
    g = helper.make_graph([helper.make_node("Mul", ["x", "pc"], ["t"]), helper.make_node("Add", ["t", "ramp"], ["y"])],
                          "channel_scale",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))], [per_channel, ramp])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def channel_scale_reference(x_nchw):
    n, c, h, w = x_nchw.shape
    return x_nchw * np.arange(1, c + 1, dtype=np.float32).reshape(1, c, 1, 1) + \
        np.arange(h * w, dtype=np.float32).reshape(1, 1, h, w) / 10


def add_fixed(repo, shape=(1, 10), version=1):
    """y = x + ones(shape): cannot take a static shape that does not broadcast with `shape`."""
    c = numpy_helper.from_array(np.ones(shape, dtype=np.float32), "c")
    g = helper.make_graph([helper.make_node("Add", ["x", "c"], ["y"])], "add_fixed",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))], [c])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def heavy(repo, width=256, layers=16, version=1):
    """A chain of MatMul+Relu on [n, width]: slow enough that concurrent requests overlap."""
    rng = np.random.default_rng(0)
    inits, nodes = [], []
    prev = "x"
    for i in range(layers):
        w = numpy_helper.from_array((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32), f"w{i}")
        inits.append(w)
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"]))
        out = "y" if i == layers - 1 else f"r{i}"
        nodes.append(helper.make_node("Relu", [f"m{i}"], [out]))
        prev = out
    g = helper.make_graph(nodes, "heavy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width])], inits)
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def heavy_reference(repo, x, width=256, layers=16):
    m = onnx.load(os.path.join(repo, "1", "model.onnx"))
    ws = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for i in range(layers):
        x = np.maximum(x @ ws[f"w{i}"], 0)
    return x


# ---- REST helpers shared by the shape / device / nireq tests ----

def predict(srv, model, inputs, timeout=60):
    """TFS REST column-format predict. Returns (HTTP status, parsed body)."""
    from conftest import http
    body = json.dumps({"inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()}})
    status, _, resp = http("POST", f"{srv.rest}/v1/models/{model}:predict", body, timeout=timeout)
    return status, json.loads(resp)


def metadata_dims(srv, model):
    """{"inputs": {name: [dims]}, "outputs": {...}} from TFS REST metadata."""
    from conftest import http
    status, _, body = http("GET", f"{srv.rest}/v1/models/{model}/metadata")
    assert status == 200, body
    sig = json.loads(body)["metadata"]["signature_def"]["signatureDef"]["serving_default"]
    return {kind: {name: [int(d["size"]) for d in t["tensorShape"].get("dim", [])] for name, t in sig[kind].items()}
            for kind in ("inputs", "outputs")}


def version_status(srv, model):
    from conftest import http
    status, _, body = http("GET", f"{srv.rest}/v1/models/{model}")
    if status != 200:
        return None
    versions = json.loads(body)["model_version_status"]
    if not versions:  # the model is registered a moment before its first version
        return None
    v = versions[0]
    return v["state"], v["status"]["error_code"]


def wait_status(srv, model, expected, timeout=30):
    import time
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"ovms exited with {srv.proc.returncode}:\n{srv.read_log()}")
        try:
            last = version_status(srv, model)
        except OSError:
            last = None
        if last == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"status {last}, expected {expected}\n{srv.read_log()}")
