"""Stateful models end to end (OVMS 2021.3 - 2026.2.1, docs/stateful.md): an accumulating model
(state += input) written by the test as ONNX (explicit `acc_state` -> `acc_state_out` pair) and as
IR (ReadValue/Assign), served with --stateful / "stateful": true, driven through TF-Serving gRPC and
REST and KServe gRPC and REST. Sequence errors are checked with OVMS's codes and texts."""
import json
import os
import struct
import threading
import time

import grpc
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import free_port, http, stubs_dir

SHAPE = [1, 3]
IR_INITIAL = 0.5  # the IR's ReadValue starts from this constant; the ONNX model from zeros


# ---------------------------------------------------------------- models

def write_onnx_accumulator(repo, version=1):
    """sum = x + acc_state; acc_state_out = sum (the state convention of docs/stateful.md)."""
    nodes = [helper.make_node("Add", ["x", "acc_state"], ["s"]),
             helper.make_node("Identity", ["s"], ["sum"]),
             helper.make_node("Identity", ["s"], ["acc_state_out"])]
    g = helper.make_graph(nodes, "accumulator",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE),
                           helper.make_tensor_value_info("acc_state", TensorProto.FLOAT, SHAPE)],
                          [helper.make_tensor_value_info("sum", TensorProto.FLOAT, SHAPE),
                           helper.make_tensor_value_info("acc_state_out", TensorProto.FLOAT, SHAPE)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    return repo


def _port(pid, dims, precision=None):
    p = f' precision="{precision}"' if precision else ""
    return f'<port id="{pid}"{p}>' + "".join(f"<dim>{d}</dim>" for d in dims) + "</port>"


def write_ir_accumulator(repo, version=1, initial=IR_INITIAL, opset="opset6"):
    """IR v11: x -> Add(x, ReadValue(acc, init=Const)) -> sum; Assign(acc) <- the Add. initial=None: a
    ReadValue-6 without init input (the state starts at zeros)."""
    dims = SHAPE
    shape = ",".join(map(str, dims))
    read_input = "" if initial is None else f"<input>{_port(0, dims)}</input>"
    init_edge = "" if initial is None else '<edge from-layer="1" from-port="0" to-layer="2" to-port="0"/>'
    xml = f"""<?xml version="1.0" ?>
<net name="accumulator" version="11">
  <layers>
    <layer id="0" name="x" type="Parameter" version="opset1">
      <data element_type="f32" shape="{shape}"/>
      <output>{_port(0, dims, "FP32")}</output>
    </layer>
    <layer id="1" name="init" type="Const" version="opset1">
      <data element_type="f32" offset="0" shape="{shape}" size="12"/>
      <output>{_port(0, dims, "FP32")}</output>
    </layer>
    <layer id="2" name="read" type="ReadValue" version="{opset}">
      <data variable_id="acc" variable_type="f32" variable_shape="{shape}"/>
      {read_input}
      <output>{_port(1, dims, "FP32")}</output>
    </layer>
    <layer id="3" name="sum" type="Add" version="opset1">
      <input>{_port(0, dims)}{_port(1, dims)}</input>
      <output>{_port(2, dims, "FP32")}</output>
    </layer>
    <layer id="4" name="assign" type="Assign" version="{opset}">
      <data variable_id="acc"/>
      <input>{_port(0, dims)}</input>
    </layer>
    <layer id="5" name="sum/sink_port_0" type="Result" version="opset1">
      <input>{_port(0, dims)}</input>
    </layer>
  </layers>
  <edges>
    <edge from-layer="0" from-port="0" to-layer="3" to-port="0"/>
    {init_edge}
    <edge from-layer="2" from-port="1" to-layer="3" to-port="1"/>
    <edge from-layer="3" from-port="2" to-layer="4" to-port="0"/>
    <edge from-layer="3" from-port="2" to-layer="5" to-port="0"/>
  </edges>
</net>
"""
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.xml"), "w") as f:
        f.write(xml)
    with open(os.path.join(d, "model.bin"), "wb") as f:
        f.write(struct.pack("<3f", *([initial or 0.0] * 3)))
    return repo


# IR v11 names the output after its tensor: the Add layer's port has no `names`, so the Result's
# input layer name "sum" is what OVMS clients see.
FORMATS = {"onnx": (write_onnx_accumulator, 0.0), "ir": (write_ir_accumulator, IR_INITIAL)}


@pytest.fixture(scope="session")
def pbs():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    from tensorflow.core.framework import tensor_pb2, types_pb2

    class P:
        pass

    p = P()
    p.predict, p.tfs_grpc, p.tensor, p.types = predict_pb2, prediction_service_pb2_grpc, tensor_pb2, types_pb2
    p.kserve, p.kserve_grpc = grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return p


def serve(start_server, tmp_path, fmt, extra=(), env=None, name="acc"):
    repo = FORMATS[fmt][0](str(tmp_path / f"{name}_{fmt}"))
    if env:
        os.environ.update(env)
    try:
        return start_server(["--model_name", name, "--model_path", repo, "--stateful"] + list(extra), wait_for=name)
    finally:
        for k in (env or {}):
            os.environ.pop(k, None)


# ---------------------------------------------------------------- clients (one per API)

class Client:
    """infer(values, seq_id=None, control=None) -> (sum, sequence_id) or raises ApiError(code, text)."""


class ApiError(Exception):
    def __init__(self, code, text):
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


class TfsGrpc(Client):
    def __init__(self, pbs, srv, model="acc"):
        self.p, self.model = pbs, model
        self.ch = grpc.insecure_channel(srv.grpc_address)
        self.stub = pbs.tfs_grpc.PredictionServiceStub(self.ch)

    def request(self, values, seq_id=None, control=None):
        p = self.p
        req = p.predict.PredictRequest()
        req.model_spec.name = self.model
        if values is not None:
            x = req.inputs["x"]
            x.dtype = p.types.DT_FLOAT
            for d in SHAPE:
                x.tensor_shape.dim.add().size = d
            x.tensor_content = np.array(values, np.float32).reshape(SHAPE).tobytes()
        if seq_id is not None:
            t = req.inputs["sequence_id"]
            t.dtype = p.types.DT_UINT64
            t.tensor_shape.dim.add().size = 1
            t.uint64_val.append(seq_id)
        if control is not None:
            t = req.inputs["sequence_control_input"]
            t.dtype = p.types.DT_UINT32
            t.tensor_shape.dim.add().size = 1
            t.uint32_val.append(control)
        return req

    def send(self, req):
        try:
            return self.stub.Predict(req, timeout=30)
        except grpc.RpcError as e:
            raise ApiError(e.code(), e.details())

    def infer(self, values, seq_id=None, control=None):
        resp = self.send(self.request(values, seq_id, control))
        out = resp.outputs["sum"]
        total = np.frombuffer(out.tensor_content, np.float32).reshape(SHAPE)
        sid = resp.outputs["sequence_id"]
        assert sid.dtype == self.p.types.DT_UINT64 and list(d.size for d in sid.tensor_shape.dim) == [1]
        assert sid.tensor_content == b"", "OVMS answers sequence_id in uint64_val"
        return total, sid.uint64_val[0]


class TfsRest(Client):
    def __init__(self, pbs, srv, model="acc"):
        self.url = f"{srv.rest}/v1/models/{model}:predict"

    def infer(self, values, seq_id=None, control=None, raw_inputs=None):
        inputs = {} if values is None else {"x": np.array(values, np.float32).reshape(SHAPE).tolist()}
        if seq_id is not None:
            inputs["sequence_id"] = [seq_id]
        if control is not None:
            inputs["sequence_control_input"] = [control]
        if raw_inputs:
            inputs.update(raw_inputs)
        status, _, body = http("POST", self.url, json.dumps({"inputs": inputs}))
        doc = json.loads(body)
        if status != 200:
            raise ApiError(status, doc["error"])
        return np.array(doc["outputs"]["sum"], np.float32), doc["outputs"]["sequence_id"][0]


class KserveGrpc(Client):
    def __init__(self, pbs, srv, model="acc"):
        self.p, self.model = pbs, model
        self.ch = grpc.insecure_channel(srv.grpc_address)
        self.stub = pbs.kserve_grpc.GRPCInferenceServiceStub(self.ch)

    def infer(self, values, seq_id=None, control=None):
        req = self.p.kserve.ModelInferRequest(model_name=self.model)
        if values is not None:
            x = req.inputs.add(name="x", datatype="FP32", shape=SHAPE)
            x.contents.fp32_contents.extend(np.array(values, np.float32).reshape(-1).tolist())
        if seq_id is not None:
            req.inputs.add(name="sequence_id", datatype="UINT64", shape=[1]).contents.uint64_contents.append(seq_id)
        if control is not None:
            req.inputs.add(name="sequence_control_input", datatype="UINT32",
                           shape=[1]).contents.uint_contents.append(control)
        try:
            resp = self.stub.ModelInfer(req, timeout=30)
        except grpc.RpcError as e:
            raise ApiError(e.code(), e.details())
        outs = {o.name: i for i, o in enumerate(resp.outputs)}
        total = np.frombuffer(resp.raw_output_contents[outs["sum"]], np.float32).reshape(SHAPE)
        sid = np.frombuffer(resp.raw_output_contents[outs["sequence_id"]], np.uint64)
        assert resp.outputs[outs["sequence_id"]].datatype == "UINT64" and list(sid.shape) == [1]
        return total, int(sid[0])


class KserveRest(Client):
    def __init__(self, pbs, srv, model="acc"):
        self.url = f"{srv.rest}/v2/models/{model}/infer"

    def infer(self, values, seq_id=None, control=None):
        inputs = []
        if values is not None:
            inputs.append({"name": "x", "datatype": "FP32", "shape": SHAPE,
                           "data": np.array(values, np.float32).reshape(-1).tolist()})
        if seq_id is not None:
            inputs.append({"name": "sequence_id", "datatype": "UINT64", "shape": [1], "data": [seq_id]})
        if control is not None:
            inputs.append({"name": "sequence_control_input", "datatype": "UINT32", "shape": [1], "data": [control]})
        status, _, body = http("POST", self.url, json.dumps({"inputs": inputs}))
        doc = json.loads(body)
        if status != 200:
            raise ApiError(status, doc["error"])
        outs = {o["name"]: o for o in doc["outputs"]}
        assert outs["sequence_id"]["datatype"] == "UINT64" and outs["sequence_id"]["shape"] == [1]
        return np.array(outs["sum"]["data"], np.float32).reshape(SHAPE), outs["sequence_id"]["data"][0]


CLIENTS = {"tfs_grpc": TfsGrpc, "tfs_rest": TfsRest, "kserve_grpc": KserveGrpc, "kserve_rest": KserveRest}
START, END = 1, 2


def expect_error(fn, code, text):
    with pytest.raises(ApiError) as e:
        fn()
    assert (e.value.code, e.value.text) == (code, text)


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("fmt", ["onnx", "ir"])
def test_accumulates_per_sequence_on_every_api(pbs, start_server, tmp_path, fmt):
    srv = serve(start_server, tmp_path, fmt)
    initial = FORMATS[fmt][1]
    for n, (api, cls) in enumerate(CLIENTS.items()):
        c = cls(pbs, srv)
        sid = 100 + n
        total, got = c.infer([1, 2, 3], sid, START)
        assert got == sid
        np.testing.assert_allclose(total, np.array([[1, 2, 3]], np.float32) + initial, err_msg=api)
        total, got = c.infer([10, 20, 30], sid)
        np.testing.assert_allclose(total, np.array([[11, 22, 33]], np.float32) + initial, err_msg=api)
        total, got = c.infer([100, 100, 100], sid, 0)  # 0 = no control input
        np.testing.assert_allclose(total, np.array([[111, 122, 133]], np.float32) + initial, err_msg=api)
        total, got = c.infer([1, 1, 1], sid, END)
        assert got == sid
        np.testing.assert_allclose(total, np.array([[112, 123, 134]], np.float32) + initial, err_msg=api)
        # The sequence is gone after its end; the same id starts again from the initial state.
        expect_error(lambda: c.infer([1, 1, 1], sid), *not_found(api))
        total, _ = c.infer([5, 5, 5], sid, START)
        np.testing.assert_allclose(total, np.array([[5, 5, 5]], np.float32) + initial, err_msg=api)
        c.infer([0, 0, 0], sid, END)


def not_found(api):
    text = "Sequence with provided ID does not exist"
    return (grpc.StatusCode.NOT_FOUND, text) if "grpc" in api else (404, text)


def test_metadata_hides_state_and_special_inputs(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "ir")
    status, _, body = http("GET", f"{srv.rest}/v2/models/acc")
    meta = json.loads(body)
    assert status == 200
    assert [i["name"] for i in meta["inputs"]] == ["x"]
    assert [o["name"] for o in meta["outputs"]] == ["sum"]


@pytest.mark.parametrize("fmt", ["onnx", "ir"])
def test_concurrent_sequences_each_get_their_own_sums(pbs, start_server, tmp_path, fmt):
    srv = serve(start_server, tmp_path, fmt)
    initial = FORMATS[fmt][1]
    apis = list(CLIENTS.values())
    errors = []
    steps = 25

    def run(k):
        try:
            c = apis[k % len(apis)](pbs, srv)
            sid = 1000 + k
            expected = np.full(SHAPE, initial, np.float32)
            for step in range(steps):
                v = np.array([[k, step, k * step]], np.float32)
                expected = expected + v
                total, got = c.infer(v, sid, START if step == 0 else (END if step == steps - 1 else None))
                assert got == sid
                np.testing.assert_allclose(total, expected, err_msg=f"client {k} step {step}")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_start_without_id_gets_a_unique_id(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx")
    c = TfsGrpc(pbs, srv)
    _, a = c.infer([1, 1, 1], None, START)
    _, b = c.infer([2, 2, 2], 0, START)  # 0 is the same as no id
    assert a != 0 and b != 0 and a != b
    total, got = c.infer([1, 1, 1], a)
    assert got == a
    np.testing.assert_allclose(total, [[2, 2, 2]])
    total, _ = KserveRest(pbs, srv).infer([1, 1, 1], b)
    np.testing.assert_allclose(total, [[3, 3, 3]])
    # A client-chosen id equal to a server-assigned one is taken.
    expect_error(lambda: c.infer([1, 1, 1], a, START), grpc.StatusCode.ALREADY_EXISTS,
                 "Sequence with provided ID already exists")


def test_sequence_errors_tfs_grpc(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx")
    c = TfsGrpc(pbs, srv)
    IA = grpc.StatusCode.INVALID_ARGUMENT
    expect_error(lambda: c.infer([1, 1, 1], 7), grpc.StatusCode.NOT_FOUND, "Sequence with provided ID does not exist")
    expect_error(lambda: c.infer([1, 1, 1], 7, END), grpc.StatusCode.NOT_FOUND, "Sequence with provided ID does not exist")
    c.infer([1, 1, 1], 7, START)
    expect_error(lambda: c.infer([1, 1, 1], 7, START), grpc.StatusCode.ALREADY_EXISTS,
                 "Sequence with provided ID already exists")
    expect_error(lambda: c.infer([1, 1, 1]), IA, "Sequence ID has not been provided in request inputs")
    expect_error(lambda: c.infer([1, 1, 1], None, END), IA, "Sequence ID has not been provided in request inputs")
    expect_error(lambda: c.infer([1, 1, 1], 7, 3), IA, "Unexpected value of sequence control input")

    def custom(edit):
        req = c.request([1, 1, 1], 7, 0)
        edit(req)
        return lambda: c.send(req)

    def id_as_int64(req):
        t = req.inputs["sequence_id"]
        t.dtype = pbs.types.DT_INT64
        del t.uint64_val[:]
        t.int64_val.append(7)

    def id_in_tensor_content(req):
        t = req.inputs["sequence_id"]
        del t.uint64_val[:]
        t.tensor_content = struct.pack("<Q", 7)

    def control_in_tensor_content(req):
        t = req.inputs["sequence_control_input"]
        del t.uint32_val[:]
        t.tensor_content = struct.pack("<I", 0)

    def id_without_shape(req):
        req.inputs["sequence_id"].ClearField("tensor_shape")

    def id_rank_2(req):
        req.inputs["sequence_id"].tensor_shape.dim.add().size = 1

    def id_shape_2(req):
        req.inputs["sequence_id"].tensor_shape.dim[0].size = 2

    def control_shape_2(req):
        req.inputs["sequence_control_input"].tensor_shape.dim[0].size = 2

    def two_ids(req):
        req.inputs["sequence_id"].uint64_val.append(8)

    def no_model_input(req):
        del req.inputs["x"]

    bad_id = "Could not find sequence id in expected tensor proto field uint64_val"
    bad_control = "Could not find sequence control input in expected tensor proto field uint32_val"
    expect_error(custom(id_as_int64), IA, bad_id)
    expect_error(custom(id_in_tensor_content), IA, bad_id)
    expect_error(custom(two_ids), IA, bad_id)
    expect_error(custom(control_in_tensor_content), IA, bad_control)
    expect_error(custom(id_without_shape), IA, "Special input proto does not contain tensor shape information")
    expect_error(custom(id_rank_2), IA, "Invalid number of shape dimensions - Required shape for sequence_id is: (1)")
    expect_error(custom(id_shape_2), IA, "Invalid input shape - Required shape for sequence_id is: (1)")
    expect_error(custom(control_shape_2), IA,
                 "Invalid input shape - Required shape for sequence_control_input is: (1)")
    # The special inputs do not count as model inputs.
    expect_error(custom(no_model_input), IA, "Invalid number of inputs - Expected: 3; Actual: 2")
    # None of the failed requests touched the sequence's state.
    total, _ = c.infer([1, 1, 1], 7, END)
    np.testing.assert_allclose(total, [[2, 2, 2]])


@pytest.mark.parametrize("api", ["tfs_rest", "kserve_rest"])
def test_sequence_errors_rest(pbs, start_server, tmp_path, api):
    srv = serve(start_server, tmp_path, "ir")
    c = CLIENTS[api](pbs, srv)
    expect_error(lambda: c.infer([1, 1, 1], 9), 404, "Sequence with provided ID does not exist")
    c.infer([1, 1, 1], 9, START)
    expect_error(lambda: c.infer([1, 1, 1], 9, START), 409, "Sequence with provided ID already exists")
    expect_error(lambda: c.infer([1, 1, 1]), 400, "Sequence ID has not been provided in request inputs")
    expect_error(lambda: c.infer([1, 1, 1], 9, 5), 400, "Unexpected value of sequence control input")
    total, _ = c.infer([1, 1, 1], 9, END)
    np.testing.assert_allclose(total, [[2.5, 2.5, 2.5]])


def test_tfs_rest_special_inputs_must_be_unsigned_integers(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx")
    c = TfsRest(pbs, srv)
    parse = "Could not parse input content. Not valid ndarray detected"
    for bad in ({"sequence_id": [-1]}, {"sequence_id": [1.5]}, {"sequence_control_input": [-2]}):
        expect_error(lambda: c.infer([1, 1, 1], raw_inputs=bad), 400, parse)


def test_max_sequence_number(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx", extra=["--max_sequence_number", "2"])
    c = TfsGrpc(pbs, srv)
    c.infer([1, 1, 1], 1, START)
    c.infer([1, 1, 1], 2, START)
    full = "Max sequence number has been reached. Could not create new sequence."
    expect_error(lambda: c.infer([1, 1, 1], 3, START), grpc.StatusCode.UNAVAILABLE, full)
    expect_error(lambda: c.infer([1, 1, 1], None, START), grpc.StatusCode.UNAVAILABLE, full)
    expect_error(lambda: TfsRest(pbs, srv).infer([1, 1, 1], 3, START), 503, full)
    c.infer([1, 1, 1], 1, END)
    c.infer([1, 1, 1], 3, START)  # a slot is free again
    total, _ = c.infer([1, 1, 1], 2)
    np.testing.assert_allclose(total, [[2, 2, 2]])


def test_idle_sequence_removed_and_busy_one_kept(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx", env={"OVMS_SEQUENCE_CLEANER_POLL_SECONDS": "1"})
    c = TfsGrpc(pbs, srv)
    c.infer([1, 1, 1], 1, START)  # left idle
    c.infer([1, 1, 1], 2, START)  # kept busy
    # Several sweeps (1 s apart) pass while sequence 2 is used every 0.2 s; sequence 1 needs two.
    end = time.time() + 5
    while time.time() < end:
        c.infer([1, 1, 1], 2)
        time.sleep(0.2)
    expect_error(lambda: c.infer([1, 1, 1], 1), grpc.StatusCode.NOT_FOUND, "Sequence with provided ID does not exist")
    total, _ = c.infer([0, 0, 0], 2)
    assert total[0][0] > 5


def test_idle_sequence_cleanup_false_keeps_idle_sequences(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx", extra=["--idle_sequence_cleanup=false"],
                env={"OVMS_SEQUENCE_CLEANER_POLL_SECONDS": "1"})
    c = TfsGrpc(pbs, srv)
    c.infer([1, 1, 1], 1, START)
    time.sleep(3.5)
    total, _ = c.infer([1, 1, 1], 1)
    np.testing.assert_allclose(total, [[2, 2, 2]])


# ---------------------------------------------------------------- configuration

def test_cli_stateful_options_need_stateful(tmp_path):
    import subprocess
    from conftest import ovms_binary
    repo = write_onnx_accumulator(str(tmp_path / "m"))
    for option in (["--max_sequence_number", "5"], ["--idle_sequence_cleanup=false"],
                   ["--low_latency_transformation"]):
        r = subprocess.run([ovms_binary(), "--model_name", "m", "--model_path", repo, "--port", str(free_port())] + option,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 64, (option, r.stdout, r.stderr)
        assert ("Setting low_latency_transformation, max_sequence_number and idle_sequence_cleanup require setting "
                "stateful flag for the model.") in r.stderr


def write_config(path, models):
    with open(path, "w") as f:
        json.dump({"model_config_list": [{"config": m} for m in models]}, f)


def test_config_validation(pbs, start_server, tmp_path):
    acc = write_onnx_accumulator(str(tmp_path / "acc"))
    cfg = str(tmp_path / "config.json")
    write_config(cfg, [
        {"name": "good", "base_path": acc, "stateful": True, "max_sequence_number": 3, "low_latency_transformation": True,
         "idle_sequence_cleanup": False},
        {"name": "option_without_stateful", "base_path": acc, "max_sequence_number": 3},
        {"name": "auto_batch", "base_path": acc, "stateful": True, "batch_size": "auto"},
        {"name": "auto_shape", "base_path": acc, "stateful": True, "shape": "auto"},
    ])
    srv = start_server(["--config_path", cfg], wait_for="good")
    c = TfsGrpc(pbs, srv, model="good")
    c.infer([1, 1, 1], 1, START)
    log = srv.read_log()
    assert "Stateful model config parameter used for non stateful model" in log
    assert log.count("Dynamic shape and dynamic batch size are not supported for stateful models") >= 2
    for name in ("option_without_stateful", "auto_batch", "auto_shape"):
        status, _, _ = http("GET", f"{srv.rest}/v1/models/{name}")
        assert status == 404, name
    # The stateful flag of a loaded model cannot change; the model keeps serving (and its sequences).
    write_config(cfg, [{"name": "good", "base_path": acc, "stateful": False}])
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert "Model type cannot be changed after it is loaded" in srv.read_log()
    total, _ = c.infer([1, 1, 1], 1)
    np.testing.assert_allclose(total, [[2, 2, 2]])


def test_state_dropped_when_version_reloads(pbs, start_server, tmp_path):
    acc = write_onnx_accumulator(str(tmp_path / "acc"))
    cfg = str(tmp_path / "config.json")
    write_config(cfg, [{"name": "acc", "base_path": acc, "stateful": True}])
    srv = start_server(["--config_path", cfg], wait_for="acc")
    c = TfsGrpc(pbs, srv)
    c.infer([1, 1, 1], 5, START)
    write_config(cfg, [{"name": "acc", "base_path": acc, "stateful": True, "max_sequence_number": 10}])
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert code in (200, 201), body
    srv.wait_available("acc")
    expect_error(lambda: c.infer([1, 1, 1], 5), grpc.StatusCode.NOT_FOUND, "Sequence with provided ID does not exist")
    total, _ = c.infer([1, 1, 1], 5, START)
    np.testing.assert_allclose(total, [[1, 1, 1]])


def test_warmup_leaves_no_state_behind(pbs, start_server, tmp_path):
    # Warmup (not in OVMS) runs a sequence of its own, so a version with warmup loads and clients
    # start from the initial state.
    srv = serve(start_server, tmp_path, "ir", extra=["--warmup_iterations", "3"])
    c = TfsGrpc(pbs, srv)
    total, _ = c.infer([1, 1, 1], None, START)
    np.testing.assert_allclose(total, [[1.5, 1.5, 1.5]])
    assert "Warmup of model acc version 1" in srv.read_log()


def test_kserve_grpc_raw_contents_and_bad_types(pbs, start_server, tmp_path):
    srv = serve(start_server, tmp_path, "onnx")
    stub = pbs.kserve_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(srv.grpc_address))

    def request(id_datatype="UINT64", seq_id=42, control=START):
        req = pbs.kserve.ModelInferRequest(model_name="acc")
        req.inputs.add(name="x", datatype="FP32", shape=SHAPE)
        req.raw_input_contents.append(np.array([[1, 2, 3]], np.float32).tobytes())
        req.inputs.add(name="sequence_id", datatype=id_datatype, shape=[1])
        req.raw_input_contents.append(struct.pack("<Q", seq_id))
        req.inputs.add(name="sequence_control_input", datatype="UINT32", shape=[1])
        req.raw_input_contents.append(struct.pack("<I", control))
        return req

    resp = stub.ModelInfer(request(), timeout=30)
    outs = {o.name: i for i, o in enumerate(resp.outputs)}
    assert struct.unpack("<Q", resp.raw_output_contents[outs["sequence_id"]]) == (42,)
    resp = stub.ModelInfer(request(control=0), timeout=30)
    np.testing.assert_allclose(np.frombuffer(resp.raw_output_contents[outs["sum"]], np.float32), [2, 4, 6])
    with pytest.raises(grpc.RpcError) as e:
        stub.ModelInfer(request(id_datatype="INT64", control=0), timeout=30)
    assert (e.value.code(), e.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Could not find sequence id in expected tensor proto field uint64_val")


@pytest.mark.parametrize("opset,initial", [("opset3", 2.0), ("opset6", None)])
def test_ir_readvalue_variants(pbs, start_server, tmp_path, opset, initial):
    repo = write_ir_accumulator(str(tmp_path / "acc"), initial=initial, opset=opset)
    srv = start_server(["--model_name", "acc", "--model_path", repo, "--stateful"], wait_for="acc")
    c = KserveGrpc(pbs, srv)
    start = initial or 0.0
    total, sid = c.infer([1, 2, 3], None, START)
    np.testing.assert_allclose(total, np.array([[1, 2, 3]], np.float32) + start)
    total, _ = c.infer([1, 1, 1], sid, END)
    np.testing.assert_allclose(total, np.array([[2, 3, 4]], np.float32) + start)


def test_ir_with_state_served_without_stateful_starts_from_initial_state(pbs, start_server, tmp_path):
    repo = write_ir_accumulator(str(tmp_path / "acc"))
    srv = start_server(["--model_name", "acc", "--model_path", repo], wait_for="acc")
    status, _, body = http("GET", f"{srv.rest}/v2/models/acc")
    meta = json.loads(body)
    assert [i["name"] for i in meta["inputs"]] == ["x"] and [o["name"] for o in meta["outputs"]] == ["sum"]
    for _ in range(2):
        status, _, body = http("POST", f"{srv.rest}/v1/models/acc:predict", json.dumps({"inputs": {"x": [[1, 2, 3]]}}))
        assert status == 200, body
        np.testing.assert_allclose(json.loads(body)["outputs"], [[1.5, 2.5, 3.5]])
    # Not stateful: the special inputs are unexpected inputs, as in OVMS.
    expect_error(lambda: TfsRest(pbs, srv).infer([1, 1, 1], 5, START), 400, "Invalid number of inputs - Expected: 1; Actual: 3")
