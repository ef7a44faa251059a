"""Overload (issue 9, point 7): a per-model bound on requests waiting for an infer slot
(`max_queued_requests` in config.json, `--max_queued_requests` in single-model mode). Past it a
request is refused at once: REST 429 with Retry-After (TF-Serving and KServe), gRPC
RESOURCE_EXHAUSTED, counted in ovms_requests_refused{name, reason="queue_full"}. Requests that were
accepted all succeed, a pipeline is never refused half-way, and the server serves normally after.

The model's run time is chosen per request (a Loop whose trip count is an input), so the tests wait
on server state (/metrics gauges) rather than on timings; the only timing is "a refusal arrives while
the long request still runs", with a long request of several seconds and refusals of milliseconds."""
import json
import os
import subprocess
import threading
import time

import grpc
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import free_port, http, ovms_binary, stubs_dir

WIDTH = 512
LONG = 300000   # loop trips of a request that holds the slot for seconds (~3 s per 100000 here)
SHORT = 10
REFUSAL_TEXT = "Too many requests waiting for an inference slot of the model"
METRICS = ["--metrics_enable", "--metrics_list", "ovms_infer_req_active,ovms_current_requests,ovms_requests_success"]


def slow_model(repo):
    """y = mean(tanh(... tanh(x @ W) ...)) with the MatMul repeated n times, n given by the request.
    x FP32 [1, 512], n INT64 [1] -> y FP32 [1, 1]."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array((rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32), "w")
    body = helper.make_graph(
        [helper.make_node("MatMul", ["state_in", "w"], ["mm"]), helper.make_node("Tanh", ["mm"], ["state_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("state_in", TensorProto.FLOAT, [1, WIDTH])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("state_out", TensorProto.FLOAT, [1, WIDTH])])
    g = helper.make_graph(
        [helper.make_node("Reshape", ["n", "scalar_shape"], ["trips"]),
         helper.make_node("Loop", ["trips", "cond", "x"], ["final"], body=body),
         helper.make_node("ReduceMean", ["final"], ["y"], axes=[1], keepdims=1)],
        "slow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, WIDTH]),
         helper.make_tensor_value_info("n", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
        [w, numpy_helper.from_array(np.array([], dtype=np.int64), "scalar_shape"),
         numpy_helper.from_array(np.array(True), "cond")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    os.makedirs(os.path.join(repo, "1"), exist_ok=True)
    onnx.save(m, os.path.join(repo, "1", "model.onnx"))
    return repo


def tfs_body(n):
    return json.dumps({"inputs": {"x": [[0.1] * WIDTH], "n": [n]}})


def kserve_body(n):
    return json.dumps({"inputs": [{"name": "x", "shape": [1, WIDTH], "datatype": "FP32", "data": [0.1] * WIDTH},
                                  {"name": "n", "shape": [1], "datatype": "INT64", "data": [n]}]})


def tfs_predict(srv, n, model="slow"):
    return http("POST", f"{srv.rest}/v1/models/{model}:predict", tfs_body(n), timeout=300)


def kserve_infer(srv, n, model="slow"):
    return http("POST", f"{srv.rest}/v2/models/{model}/infer", kserve_body(n), timeout=300)


class Background:
    """One request on its own thread; .result is (status, headers, body) once done."""

    def __init__(self, call, *args):
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(call, *args), daemon=True)
        self.thread.start()

    def _run(self, call, *args):
        self.result = call(*args)

    def join(self, timeout=300):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "request did not finish"
        return self.result


def sample(srv, family, model="slow"):
    key = f'{family}{{name="{model}",version="1"}}'
    return srv.metrics().get(key, 0.0)


def refused(srv, interface, model="slow"):
    return srv.metrics().get(f'ovms_requests_refused{{interface="{interface}",name="{model}",reason="queue_full"}}', 0.0)


def wait_metric(srv, family, value, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sample(srv, family) == value:
            return
        assert srv.proc.poll() is None, srv.read_log()
        time.sleep(0.05)
    raise AssertionError(f"{family} never reached {value} (last {sample(srv, family)})\n{srv.read_log()[-3000:]}")


def occupy_slot(srv):
    """Starts a long request and returns once it holds the model's only infer slot."""
    long_request = Background(tfs_predict, srv, LONG)
    wait_metric(srv, "ovms_infer_req_active", 1)
    return long_request


def assert_ok(result):
    code, _, body = result
    assert code == 200, body
    assert "outputs" in json.loads(body)


def assert_refused_rest(result):
    code, headers, body = result
    assert code == 429, body
    assert headers.get("Retry-After") == "1"
    assert json.loads(body)["error"].startswith(REFUSAL_TEXT), body


@pytest.fixture
def slow_repo(tmp_path):
    return slow_model(str(tmp_path / "slow"))


def slow_server(start_server, repo, max_queued, *extra):
    return start_server(["--model_name", "slow", "--model_path", repo, "--nireq", "1", "--max_queued_requests",
                         str(max_queued), "--rest_workers", "16", *METRICS, *extra], wait_for="slow")


def test_queue_bound_is_respected_and_refusals_are_immediate_on_rest(start_server, slow_repo):
    srv = slow_server(start_server, slow_repo, 2)
    long_request = occupy_slot(srv)
    # Two requests wait: the bound (2) is reached. Both are in the server once ovms_current_requests
    # counts them; the short pause lets them get from decoding into the queue.
    queued = [Background(tfs_predict, srv, SHORT), Background(kserve_infer, srv, SHORT)]
    wait_metric(srv, "ovms_current_requests", 3)
    time.sleep(0.5)
    # Past the bound: refused at once, while the long request still holds the slot.
    assert_refused_rest(tfs_predict(srv, SHORT))
    assert_refused_rest(kserve_infer(srv, SHORT))
    assert long_request.result is None, "the refusals waited for the running inference"
    assert refused(srv, "REST") == 2
    # Every accepted request succeeds.
    assert_ok(long_request.join())
    for q in queued:
        assert_ok(q.join())
    # The server serves normally afterwards, and nothing else was refused.
    assert_ok(tfs_predict(srv, SHORT))
    assert_ok(kserve_infer(srv, SHORT))
    assert refused(srv, "REST") == 2
    assert srv.metrics()['ovms_requests_success{api="TensorFlowServing",interface="REST",method="Predict",'
                         'name="slow",version="1"}'] == 3


def test_refusals_on_grpc_are_resource_exhausted_and_counted(start_server, slow_repo, pb):
    stubs_dir()
    from kserve import grpc_predict_v2_pb2 as kpb, grpc_predict_v2_pb2_grpc as kgrpc
    srv = slow_server(start_server, slow_repo, 0)
    ch = grpc.insecure_channel(srv.grpc_address)
    try:
        tfs = pb.prediction_grpc.PredictionServiceStub(ch)
        req = pb.predict.PredictRequest()
        req.model_spec.name = "slow"
        req.inputs["x"].CopyFrom(pb.tensor.TensorProto(
            dtype=pb.types.DT_FLOAT, tensor_shape=pb.shape.TensorShapeProto(
                dim=[pb.shape.TensorShapeProto.Dim(size=1), pb.shape.TensorShapeProto.Dim(size=WIDTH)]),
            float_val=[0.1] * WIDTH))
        req.inputs["n"].CopyFrom(pb.tensor.TensorProto(
            dtype=pb.types.DT_INT64, tensor_shape=pb.shape.TensorShapeProto(dim=[pb.shape.TensorShapeProto.Dim(size=1)]),
            int64_val=[SHORT]))
        kserve = kgrpc.GRPCInferenceServiceStub(ch)
        kreq = kpb.ModelInferRequest(model_name="slow")
        x = kreq.inputs.add(name="x", datatype="FP32", shape=[1, WIDTH])
        x.contents.fp32_contents.extend([0.1] * WIDTH)
        n = kreq.inputs.add(name="n", datatype="INT64", shape=[1])
        n.contents.int64_contents.append(SHORT)

        long_request = occupy_slot(srv)
        for call, request in ((tfs.Predict, req), (kserve.ModelInfer, kreq)):
            with pytest.raises(grpc.RpcError) as e:
                call(request, timeout=60)
            assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e.value
            assert REFUSAL_TEXT in e.value.details()
        assert long_request.result is None, "the refusals waited for the running inference"
        assert refused(srv, "gRPC") == 2
        assert_ok(long_request.join())
        # Served normally afterwards.
        assert len(tfs.Predict(req, timeout=60).outputs["y"].tensor_content) == 4
        assert kserve.ModelInfer(kreq, timeout=60).outputs[0].name == "y"
        assert refused(srv, "gRPC") == 2
    finally:
        ch.close()


def test_many_concurrent_clients_get_an_answer_each(start_server, slow_repo):
    srv = slow_server(start_server, slow_repo, 1)
    clients = 10
    barrier = threading.Barrier(clients)

    def client(i):
        barrier.wait()
        return (tfs_predict if i % 2 else kserve_infer)(srv, LONG // 10)

    requests = [Background(client, i) for i in range(clients)]
    results = [r.join() for r in requests]
    accepted = [r for r in results if r[0] == 200]
    rejected = [r for r in results if r[0] != 200]
    for r in accepted:
        assert_ok(r)
    for r in rejected:
        assert_refused_rest(r)
    # 10 requests of ~1 s at once on 1 slot + 1 queue place: some must be refused, at least 2 accepted.
    assert len(rejected) >= 1 and len(accepted) >= 2, [r[0] for r in results]
    assert refused(srv, "REST") == len(rejected)
    assert_ok(tfs_predict(srv, SHORT))


def test_pipeline_nodes_are_never_refused_half_way(start_server, slow_repo, tmp_path):
    # Two nodes of one pipeline run the model at once; with nireq 1 and no queue places a second
    # client request would be refused, but the pipeline's own second inference waits for the slot.
    node = lambda name: {"name": name, "type": "DL model", "model_name": "slow",  # noqa: E731
                         "inputs": [{"x": {"node_name": "request", "data_item": "x"}},
                                    {"n": {"node_name": "request", "data_item": "n"}}],
                         "outputs": [{"data_item": "y", "alias": "y"}]}
    cfg = {"model_config_list": [{"config": {"name": "slow", "base_path": slow_repo, "nireq": 1,
                                             "max_queued_requests": 0}}],
           "pipeline_config_list": [{"name": "twice", "inputs": ["x", "n"], "nodes": [node("a"), node("b")],
                                     "outputs": [{"ya": {"node_name": "a", "data_item": "y"}},
                                                 {"yb": {"node_name": "b", "data_item": "y"}}]}]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    srv = start_server(["--config_path", str(path), "--rest_workers", "16", *METRICS], wait_for="slow")
    srv.wait_available("twice")
    code, _, body = tfs_predict(srv, LONG // 10, model="twice")
    assert code == 200, body
    out = json.loads(body)["outputs"]
    assert out["ya"] == out["yb"]
    # The model's own bound still holds for clients while the pipeline runs.
    pipeline = Background(tfs_predict, srv, LONG, "twice")
    wait_metric(srv, "ovms_infer_req_active", 1)
    assert_refused_rest(tfs_predict(srv, SHORT))
    assert_ok(pipeline.join())
    assert "queue_full" not in "".join(k for k in srv.metrics() if "twice" in k)


def run_expect_exit(args, timeout=30):
    p = subprocess.run([ovms_binary(), *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("value", ["-2", "\"8\"", "1.5", "true"])
def test_invalid_max_queued_requests_in_config_is_refused(tmp_path, slow_repo, value):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"model_config_list": [{"config": {"name": "slow", "base_path": "%s", "max_queued_requests": %s}}]}'
                   % (slow_repo, value))
    rc, out = run_expect_exit(["--config_path", str(cfg), "--port", str(free_port())])
    assert rc == 1, out
    assert "Given config is invalid according to schema" in out and "max_queued_requests" in out, out


@pytest.mark.parametrize("args,message", [
    (["--model_name", "m", "--model_path", "/x", "--max_queued_requests", "-2"], "Argument '-2' failed to parse"),
    (["--model_name", "m", "--model_path", "/x", "--max_queued_requests", "many"], "Argument 'many' failed to parse"),
    (["--config_path", "/c.json", "--max_queued_requests", "4"], "Model parameters in CLI are exclusive with the config file"),
])
def test_invalid_max_queued_requests_flag_exits_64(args, message):
    rc, out = run_expect_exit(args)
    assert rc == 64, out
    assert message in out


def test_config_reload_applies_a_new_bound(start_server, slow_repo, tmp_path):
    path = tmp_path / "config.json"

    def write(bound):
        entry = {"name": "slow", "base_path": slow_repo, "nireq": 1}
        if bound is not None:
            entry["max_queued_requests"] = bound
        path.write_text(json.dumps({"model_config_list": [{"config": entry}]}))

    write(None)  # no key: no bound, as in OVMS
    srv = start_server(["--config_path", str(path), "--rest_workers", "16", "--file_system_poll_wait_seconds", "0",
                        *METRICS], wait_for="slow")
    long_request = occupy_slot(srv)
    waiting = [Background(tfs_predict, srv, SHORT) for _ in range(4)]
    assert_ok(long_request.join())
    for w in waiting:
        assert_ok(w.join())
    write(0)
    code, body = http("POST", f"{srv.rest}/v1/config/reload")[0::2]
    assert code in (200, 201), body
    long_request = occupy_slot(srv)
    assert_refused_rest(tfs_predict(srv, SHORT))
    assert_ok(long_request.join())
