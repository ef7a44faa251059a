"""Warmup: with "warmup": {"iterations": N} (config.json) or --warmup_iterations N, a version runs N
inferences on generated inputs before it becomes AVAILABLE; a model that fails to run fails its load."""
import json
import os
import time

import onnx
import pytest
from onnx import TensorProto, helper

from conftest import DEMO_MODEL, http
from security_helpers import DEMO_INFER, run_to_exit

AVAILABLE_LINE = 'Version 1 of model {} status change. New status: ( "state": "AVAILABLE"'


def reshape_model(repo):
    """Loads (its input is dynamic) but cannot run on 1 element: Reshape to (2,3) needs 6."""
    d = os.path.join(repo, "1")
    os.makedirs(d, exist_ok=True)
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [2, 3])
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    g = helper.make_graph([node], "bad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [-1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], initializer=[shape])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    return repo


def warmup_line(name, n):
    return f"Warmup of model {name} version 1: {n} inferences on generated inputs"


def test_cli_warmup_runs_before_available(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--warmup_iterations", "3"],
                       wait_for="demo")
    log = srv.read_log()
    assert warmup_line("demo", 3) in log, log
    assert log.index(warmup_line("demo", 3)) < log.index(AVAILABLE_LINE.format("demo")), log
    status, _, body = http("POST", srv.rest + "/v2/models/demo/infer", DEMO_INFER)
    assert status == 200, body


def test_no_warmup_by_default(demo_server):
    assert "Warmup of model" not in demo_server.read_log()


def test_config_warmup(start_server, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_config_list": [
        {"config": {"name": "demo", "base_path": DEMO_MODEL, "warmup": {"iterations": 2}}},
        {"config": {"name": "plain", "base_path": DEMO_MODEL}}]}))
    srv = start_server(["--config_path", str(cfg)], wait_for="demo")
    srv.wait_available("plain")
    log = srv.read_log()
    assert warmup_line("demo", 2) in log
    assert log.index(warmup_line("demo", 2)) < log.index(AVAILABLE_LINE.format("demo"))
    assert "Warmup of model plain" not in log


@pytest.mark.parametrize("warmup", [{"iterations": -1}, {"iterations": "3"}, {}, {"iterations": 2, "x": 1},
                                    {"iterations": 10001}, 5])
def test_config_warmup_schema(tmp_path, warmup):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_config_list": [
        {"config": {"name": "demo", "base_path": DEMO_MODEL, "warmup": warmup}}]}))
    rc, log = run_to_exit(["--config_path", str(cfg)], tmp_path)
    assert rc == 1, log
    assert "Given config is invalid according to schema" in log and "warmup" in log, log


@pytest.mark.parametrize("args,expected", [
    (["--warmup_iterations", "10001"], "warmup_iterations should be from 0 to 10000"),
    (["--warmup_iterations", "x"], "error parsing options - Argument 'x' failed to parse"),
])
def test_cli_warmup_validation(tmp_path, args, expected):
    rc, log = run_to_exit(["--model_name", "demo", "--model_path", DEMO_MODEL] + args, tmp_path)
    assert rc == 64 and expected in log, log


def test_cli_warmup_exclusive_with_config(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_config_list": []}))
    rc, log = run_to_exit(["--config_path", str(cfg), "--warmup_iterations", "2"], tmp_path)
    assert rc == 64 and "warmup_iterations is a single-model parameter" in log, log


def test_failing_warmup_fails_the_load(start_server, tmp_path):
    repo = reshape_model(str(tmp_path / "bad"))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_config_list": [
        {"config": {"name": "bad", "base_path": repo, "warmup": {"iterations": 2}}},
        {"config": {"name": "nowarm", "base_path": repo}}]}))
    srv = start_server(["--config_path", str(cfg)], wait_for="nowarm")  # the same model loads without warmup
    deadline = time.time() + 30
    while "warmup inference 1 of 2 failed for model bad version 1" not in srv.read_log():
        assert time.time() < deadline, srv.read_log()
        time.sleep(0.1)
    status, _, body = http("GET", srv.rest + "/v1/models/bad")
    state = json.loads(body)["model_version_status"][0] if status == 200 else None
    assert state is not None and state["state"] != "AVAILABLE", (status, body)
    assert "warmup inference 1 of 2 failed for model bad version 1" in state["status"]["error_message"], body
    assert AVAILABLE_LINE.format("bad") not in srv.read_log()
    status, _, _ = http("POST", srv.rest + "/v2/models/bad/infer",
                        '{"inputs":[{"name":"x","shape":[6],"datatype":"FP32","data":[1,2,3,4,5,6]}]}')
    assert status != 200
