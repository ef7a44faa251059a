"""Dynamic batching (config.json `dynamic_batching`, not in OVMS) end to end: many concurrent clients on
every API, each sending its own inputs, get exactly their own results while their requests are merged
into shared engine runs; requests of different shapes are never mixed; /metrics shows the batch sizes."""
import json
import os
import sys
import threading
import time

import grpc
import numpy as np
import pytest

import model_factory
import shape_models as sm
from conftest import ROOT, http, ovms_binary, stubs_dir
from test_lifecycle import run_expect_exit
from test_tfs_grpc import make_tensor, predict_request, to_numpy


@pytest.fixture(scope="module")
def kpb():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def write_config(tmp_path, models, metrics=True):
    cfg = tmp_path / "config.json"
    doc = {"model_config_list": [{"config": m} for m in models]}
    if metrics:
        doc["monitoring"] = {"metrics": {"enable": True}}
    cfg.write_text(json.dumps(doc))
    return str(cfg)


def batch_metrics(srv, name):
    m = srv.metrics()
    prefix = "ovms_dynamic_batch_size"
    labels = f'name="{name}",version="1"'
    count = m.get(f"{prefix}_count{{{labels}}}", 0)
    total = m.get(f"{prefix}_sum{{{labels}}}", 0)
    single = m.get(f'{prefix}_bucket{{{labels},le="1"}}', 0)
    return count, total, single


# ---- one call per API; each returns {output name: numpy array} ----

def call_tfs_grpc(pb, channel, model, inputs):
    stub = pb.prediction_grpc.PredictionServiceStub(channel)
    req = predict_request(pb, model, {k: make_tensor(pb, v, "DT_FLOAT") for k, v in inputs.items()})
    resp = stub.Predict(req, timeout=60)
    return {k: to_numpy(pb, t, np.float32) for k, t in resp.outputs.items()}


def call_kserve_grpc(kpb, channel, model, inputs, outputs):
    stub = kpb[1].GRPCInferenceServiceStub(channel)
    req = kpb[0].ModelInferRequest(model_name=model)
    for name, v in inputs.items():
        inp = req.inputs.add(name=name, datatype="FP32")
        inp.shape.extend(v.shape)
        req.raw_input_contents.append(v.tobytes())
    for o in outputs:
        req.outputs.add(name=o)
    resp = stub.ModelInfer(req, timeout=60)
    return {o.name: np.frombuffer(resp.raw_output_contents[i], np.float32).reshape(list(o.shape))
            for i, o in enumerate(resp.outputs)}


def call_tfs_rest(srv, model, inputs, outputs):
    status, _, body = http("POST", f"{srv.rest}/v1/models/{model}:predict",
                           json.dumps({"inputs": {k: v.tolist() for k, v in inputs.items()}}), timeout=60)
    assert status == 200, body
    out = json.loads(body)["outputs"]
    if not isinstance(out, dict):  # one output: TF-Serving's column format gives the bare value
        out = {next(iter(outputs or ["y"])): out}
    return {k: np.array(v, np.float32) for k, v in out.items()}


def call_kserve_rest(srv, model, inputs, outputs):
    doc = {"inputs": [{"name": k, "shape": list(v.shape), "datatype": "FP32", "data": v.reshape(-1).tolist()}
                      for k, v in inputs.items()]}
    if outputs:
        doc["outputs"] = [{"name": o} for o in outputs]
    status, _, body = http("POST", f"{srv.rest}/v2/models/{model}/infer", json.dumps(doc), timeout=60)
    assert status == 200, body
    return {o["name"]: np.array(o["data"], np.float32).reshape(o["shape"]) for o in json.loads(body)["outputs"]}


def run_clients(n, work):
    """Runs work(i) on n threads started together; returns the exceptions raised."""
    errors = []
    go = threading.Barrier(n)

    def client(i):
        try:
            go.wait()
            work(i)
        except Exception as e:  # noqa: BLE001 (reported by the test)
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_clients_on_every_api_get_exactly_their_own_results(start_server, tmp_path, pb, kpb):
    repo = model_factory.two_inputs(str(tmp_path / "two"))
    cfg = write_config(tmp_path, [{"name": "two", "base_path": repo, "nireq": 1,
                                   "dynamic_batching": {"max_batch_size": 16, "max_queue_delay_microseconds": 20000}}])
    srv = start_server(["--config_path", cfg, "--rest_workers", "16", "--grpc_workers", "1"], wait_for="two")
    channel = grpc.insecure_channel(srv.grpc_address)
    clients, rounds = 24, 4
    rng = np.random.default_rng(14)
    # Integer-valued floats: sums and products are exact, so results compare bit for bit.
    plans = [[(rng.integers(-99, 99, (int(rng.integers(1, 4)), 2)).astype(np.float32),
               rng.integers(-99, 99, (1, 2)).astype(np.float32)) for _ in range(rounds)] for _ in range(clients)]
    rows_sent = [0]
    lock = threading.Lock()
    output_choices = [[], ["sum"], ["product"], ["product", "sum"]]

    def work(i):
        for r, (x, y0) in enumerate(plans[i]):
            y = np.repeat(y0, x.shape[0], axis=0)
            outputs = output_choices[(i + r) % 4]
            api = i % 4
            if api == 0:  # TF-Serving answers with every output (output_filter is not applied, as in OVMS)
                got = call_tfs_grpc(pb, channel, "two", {"x": x, "y": y})
                outputs = []
            elif api == 1:
                got = call_kserve_grpc(kpb, channel, "two", {"x": x, "y": y}, outputs)
            elif api == 2:
                got = call_tfs_rest(srv, "two", {"x": x, "y": y}, [])
                outputs = []
            else:
                got = call_kserve_rest(srv, "two", {"x": x, "y": y}, outputs)
            expected = {"sum": x + y, "product": x * y}
            wanted = outputs or ["product", "sum"]
            assert sorted(got) == sorted(wanted), (i, r, sorted(got))
            for name in wanted:
                np.testing.assert_array_equal(got[name], expected[name], err_msg=f"client {i} round {r} {name}")
            with lock:
                rows_sent[0] += x.shape[0]

    errors = run_clients(clients, work)
    channel.close()
    assert not errors, errors[:3]
    count, total, single = batch_metrics(srv, "two")
    # Every row sent went through exactly one engine run, and some runs merged several requests.
    assert total == rows_sent[0], (total, rows_sent[0])
    assert count < clients * rounds, count
    assert single < count, (single, count)
    # Queue waits (the batching delay included) are real durations: none above the test's own length.
    m = srv.metrics()
    waits = m['ovms_wait_for_infer_req_time_us_sum{name="two",version="1"}']
    assert waits < 120e6 * m['ovms_wait_for_infer_req_time_us_count{name="two",version="1"}'], waits


def test_requests_of_different_shapes_are_never_merged(start_server, tmp_path, kpb):
    repo = sm.scale(str(tmp_path / "scale"), ["n", "k"], factor=3.0)
    cfg = write_config(tmp_path, [{"name": "scale", "base_path": repo,
                                   "dynamic_batching": {"max_batch_size": 8, "max_queue_delay_microseconds": 20000}}])
    srv = start_server(["--config_path", cfg, "--grpc_workers", "1"], wait_for="scale")
    channel = grpc.insecure_channel(srv.grpc_address)
    widths = [2, 3, 5, 3]

    def work(i):
        for r in range(5):
            x = np.full((1 + (i + r) % 2, widths[i % 4]), i * 100 + r, np.float32)
            got = call_kserve_grpc(kpb, channel, "scale", {"x": x}, [])
            np.testing.assert_array_equal(got["y"], x * 3, err_msg=f"client {i} round {r}")

    errors = run_clients(16, work)
    channel.close()
    assert not errors, errors[:3]
    count, total, _ = batch_metrics(srv, "scale")
    assert count > 0 and total == sum(1 + (i + r) % 2 for i in range(16) for r in range(5))


def test_off_by_default_and_a_static_batch_is_refused_with_a_clear_error(start_server, tmp_path):
    plain = sm.scale(str(tmp_path / "plain"), ["n", 3])
    static = sm.scale(str(tmp_path / "static"), [1, 3])
    cfg = write_config(tmp_path, [{"name": "plain", "base_path": plain},
                                  {"name": "static", "base_path": static, "dynamic_batching": {"max_batch_size": 4}}])
    srv = start_server(["--config_path", cfg], wait_for="plain")
    status, _, body = http("POST", f"{srv.rest}/v1/models/plain:predict", json.dumps({"inputs": {"x": [[1, 2, 3]]}}))
    assert status == 200 and json.loads(body)["outputs"] == [[2.0, 4.0, 6.0]], body
    # Without the option there is no batching and no batching metric family at all.
    assert "ovms_dynamic_batch_size" not in http("GET", f"{srv.rest}/metrics")[2].decode()
    status, _, body = http("POST", f"{srv.rest}/v1/models/static:predict", json.dumps({"inputs": {"x": [[1, 2, 3]]}}))
    assert status != 200, body
    assert "dynamic_batching: dimension 0 of input x is 1; it must accept 1 to 4" in srv.read_log()


def test_an_invalid_section_is_a_config_error(tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    cfg = write_config(tmp_path, [{"name": "m", "base_path": repo, "dynamic_batching": {"max_batch_size": 0}}],
                       metrics=False)
    rc, out = run_expect_exit(["--config_path", cfg])
    assert rc != 0
    assert "dynamic_batching/max_batch_size" in out, out


def test_bench_smoke(tmp_path):
    """A short run of bench/dynamic_batching.py on a tiny model: the benchmark works end to end (both
    servers start, every call succeeds, the ratios are computed). Not a timed assertion."""
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import dynamic_batching  # noqa: E402
    repo = sm.scale(str(tmp_path / "tiny"), ["n", 4])
    r = dynamic_batching.run(ovms_binary(), repo, input_name="x", shape=(1, 4), clients=4, seconds=0.5, rounds=1,
                             max_batch=4, delay_us=1000, quiet=True)
    assert r["errors"] == 0, r
    assert r["plain_req_per_s"] > 0 and r["batched_req_per_s"] > 0, r
    assert r["throughput_ratio"] > 0 and r["latency_allowed_ms"] > 1.0, r


def test_max_queued_requests_still_bounds_the_wait(start_server, tmp_path):
    """With every infer slot busy, requests queued for a batch count against max_queued_requests: past it a
    request is refused at once (429), and every accepted request succeeds."""
    import test_overload as ov
    repo = ov.slow_model(str(tmp_path / "slow"))
    # batch_size -1 makes dim 0 dynamic; max_batch_size 1 keeps the loop count input one value per run.
    cfg = write_config(tmp_path, [{"name": "slow", "base_path": repo, "nireq": 1, "max_queued_requests": 2,
                                   "batch_size": "-1",
                                   "dynamic_batching": {"max_batch_size": 1, "max_queue_delay_microseconds": 0}}],
                       metrics=False)
    srv = start_server(["--config_path", cfg, "--rest_workers", "16", *ov.METRICS], wait_for="slow")
    long_request = ov.occupy_slot(srv)
    queued = [ov.Background(ov.tfs_predict, srv, ov.SHORT), ov.Background(ov.kserve_infer, srv, ov.SHORT)]
    ov.wait_metric(srv, "ovms_current_requests", 3)
    time.sleep(0.5)
    ov.assert_refused_rest(ov.tfs_predict(srv, ov.SHORT))
    assert long_request.result is None, "the refusal waited for the running inference"
    ov.assert_ok(long_request.join())
    for q in queued:
        ov.assert_ok(q.join())
    ov.assert_ok(ov.kserve_infer(srv, ov.SHORT))
