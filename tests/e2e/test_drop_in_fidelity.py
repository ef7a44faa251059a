"""Issue #13: places where an OVMS user used to see a difference (log file errors, config.json schema,
reload and policy logs, KServe binary response headers)."""
import json
import os
import struct

import pytest

from conftest import DEMO_MODEL, http
from test_lifecycle import config, make_repo, run_expect_exit, status, wait_for, write_json

OK = ("AVAILABLE", "OK")


# ---------------------------------------------------------------- --log_path

def test_log_path_that_is_a_directory_exits_1_with_a_message(tmp_path):
    rc, out = run_expect_exit(["--model_name", "demo", "--model_path", DEMO_MODEL, "--log_path", str(tmp_path)])
    assert rc == 1, out
    assert "Cannot open the log file given by --log_path" in out and str(tmp_path) in out, out


def test_log_path_that_cannot_be_written_exits_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = str(blocker / "ovms.log")  # a path below a regular file can never be created
    rc, out = run_expect_exit(["--model_name", "demo", "--model_path", DEMO_MODEL, "--log_path", bad])
    assert rc == 1, out
    assert "Cannot open the log file given by --log_path" in out and bad in out, out


def test_logs_go_to_the_log_file(start_server, tmp_path):
    log = tmp_path / "logs" / "ovms.log"
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--log_path", str(log)], wait_for="demo")
    text = log.read_text()
    assert "STATUS CHANGE" in text and "demo" in text, text[-2000:]
    assert "STATUS CHANGE" not in srv.read_log()  # stdout holds none of it


# ---------------------------------------------------------------- config.json base_path is required

def test_model_without_base_path_is_a_schema_error_at_startup(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config([{"name": "a"}])))
    rc, out = run_expect_exit(["--config_path", str(cfg)])
    assert rc == 1, out


def test_model_without_base_path_rejects_the_whole_file_on_reload(start_server, tmp_path):
    a = make_repo(str(tmp_path), "a", {1: 1})
    b = make_repo(str(tmp_path), "b", {1: 2})
    cfg = os.path.join(str(tmp_path), "config.json")
    write_json(cfg, config([{"name": "a", "base_path": a}]))
    srv = start_server(["--config_path", cfg], wait_for="a")
    # b is valid, a lost its base_path: the file is rejected whole, a keeps serving, b never appears.
    write_json(cfg, config([{"name": "a"}, {"name": "b", "base_path": b}]))
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert code != 200, body
    assert json.loads(body) == {"error": "Reloading config file failed. Check server logs for more info."}
    assert status(srv, "a") == {1: OK}
    assert status(srv, "b") == {}


# ---------------------------------------------------------------- reload and policy decisions in the log

def test_parameter_changes_on_reload_are_logged(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1, 2: 2})
    cfg = os.path.join(str(tmp_path), "config.json")
    write_json(cfg, config([{"name": "m", "base_path": repo}]))
    srv = start_server(["--config_path", cfg], wait_for="m")
    write_json(cfg, config([{"name": "m", "base_path": repo, "nireq": 2, "plugin_config": {"NUM_STREAMS": "1"}}]))
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert code == 200, body
    log = srv.read_log()
    assert "Config of model m changed (nireq: 0 -> 2; plugin_config: {} -> {NUM_STREAMS: 1}); reloading all its versions" in log, log[-3000:]
    write_json(cfg, config([{"name": "m", "base_path": repo, "nireq": 2, "plugin_config": {"NUM_STREAMS": "1"},
                             "model_version_policy": {"all": {}}}]))
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert code == 200, body
    wait_for(lambda: status(srv, "m") == {1: OK, 2: OK}, 20, "both versions", srv)
    log = srv.read_log()
    assert "Version policy of model m changed (model_version_policy: latest 1 -> all)" in log, log[-3000:]
    # DEBUG shows each policy decision: what is on disk and what the policy selects.
    assert "Model m: versions found [1, 2]; policy latest 1 selects [2]" in log, log[-3000:]
    assert "Model m: versions found [1, 2]; policy all selects [1, 2]" in log, log[-3000:]


def test_retire_decision_is_logged(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1, 2: 2})
    cfg = os.path.join(str(tmp_path), "config.json")
    write_json(cfg, config([{"name": "m", "base_path": repo, "model_version_policy": {"all": {}}}]))
    srv = start_server(["--config_path", cfg], wait_for="m")
    wait_for(lambda: status(srv, "m") == {1: OK, 2: OK}, 20, "both versions", srv)
    write_json(cfg, config([{"name": "m", "base_path": repo, "model_version_policy": {"specific": {"versions": [2]}}}]))
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert code == 200, body
    wait_for(lambda: status(srv, "m").get(1, ("",))[0] == "END", 20, "v1 retired", srv)
    assert "Model m: version 1 is no longer selected by the policy or is gone; unloading it" in srv.read_log()


# ---------------------------------------------------------------- KServe REST binary responses

def test_binary_response_headers_match_ovms(demo_server):
    """OVMS answers the binary data extension with Content-Type application/json (its Drogon handler sets it for
    every KServe response) and the JSON header length in Inference-Header-Content-Length."""
    body = json.dumps({"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",
                                   "data": [5.1, 3.5, 1.4, 0.2]}],
                       "parameters": {"binary_data_output": True}})
    code, headers, raw = http("POST", f"{demo_server.rest}/v2/models/demo/infer", body)
    assert code == 200, raw
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["content-type"] == "application/json"
    n = int(lower["inference-header-content-length"])
    header = json.loads(raw[:n])
    out = header["outputs"][0]
    assert out["parameters"]["binary_data_size"] == 12 and len(raw) == n + 12
    probs = struct.unpack("<3f", raw[n:])
    assert abs(sum(probs) - 1.0) < 1e-5
