"""config.json mode end to end (§2, §4.5, §5.6): startup validation, reloads on file change and
through POST /v1/config/reload, with a client sending requests throughout."""
import json
import os
import re
import time

import pytest

from conftest import http
from test_lifecycle import (Client, config, make_repo, predict_value, run_expect_exit, status, wait_for,
                                 write_json)

OK = ("AVAILABLE", "OK")
END = ("END", "OK")


def start_config(start_server, tmp_path, cfg_obj, wait_for_model=None, extra=()):
    cfg = os.path.join(str(tmp_path), "config.json")
    write_json(cfg, cfg_obj)
    srv = start_server(["--config_path", cfg, "--log_level", "TRACE"] + list(extra), wait_for=wait_for_model)
    return srv, cfg


def reload(srv):
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    return code, body.decode()


def loads_of(srv, model, version):
    return srv.read_log().count(f"Loading model: {model}, version: {version},")


# ---------------------------------------------------------------- startup


@pytest.mark.parametrize("content,what", [
    ('{"model_config_list": [], "unknown_key": 1}', "unknown top-level key"),
    ('{"model_config_list": [{"config": {"base_path": "/x"}}]}', "missing name"),
    ('{"model_config_list": [{"config": {"name": "a", "base_path": "/x", "bogus": 1}}]}', "unknown model key"),
    ('{"model_config_list": [{"config": {"name": "a", "base_path": "/x", "nireq": -1}}]}', "negative nireq"),
    ('{"model_config_list": [{"config": {"name": "a", "model_version_policy": {"latest": {}}}}]}', "policy form"),
    ('{"model_config_list": [{"config": {"name": "a", "base_path": "/x"}, "other": {}}]}', "two keys in an item"),
    ('{"monitoring": {"metrics": {"enable": false}}}', "missing model_config_list"),
    ('{"model_config_list": [], "monitoring": {"metrics": {"enable": true, "endpoint_path": "/m"}}}', "endpoint_path"),
    ('{"model_config_list": [', "not JSON"),
])
def test_invalid_config_at_startup_exits_1(tmp_path, content, what):
    cfg = tmp_path / "config.json"
    cfg.write_text(content)
    rc, out = run_expect_exit(["--config_path", str(cfg), "--log_level", "DEBUG"])
    assert rc == 1, f"{what}: rc={rc}\n{out}"


def test_missing_config_file_exits_1(tmp_path):
    rc, out = run_expect_exit(["--config_path", str(tmp_path / "nope.json")])
    assert rc == 1, out
    rc, out = run_expect_exit(["--config_path", str(tmp_path)])  # no config.json in the directory
    assert rc == 1, out


def test_metrics_conflicts_exit_1(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config([], monitoring={"metrics": {"enable": True}})))
    rc, out = run_expect_exit(["--config_path", str(cfg), "--rest_port", "0"])
    assert rc == 1, out  # metrics need the REST port
    rc, out = run_expect_exit(["--config_path", str(cfg), "--metrics_enable"])
    assert rc == 1, out  # CLI and config.json both set metrics
    cfg.write_text(json.dumps(config([], monitoring={"metrics": {"enable": True, "metrics_list": ["ovms_bogus"]}})))
    rc, out = run_expect_exit(["--config_path", str(cfg)])
    assert rc == 1, out


def test_config_directory_relative_paths_and_bad_models(start_server, tmp_path):
    make_repo(str(tmp_path / "models"), "rel", {1: 5})
    make_repo(str(tmp_path), "good", {1: 1})
    cfg_obj = config([
        {"name": "rel", "base_path": "models/rel"},              # relative to config.json's directory
        {"name": "good", "base_path": str(tmp_path / "good"), "nireq": 2, "plugin_config": {"NUM_STREAMS": 1}},
        {"name": "good", "base_path": "/does/not/matter"},       # duplicate: only the first loads
        {"name": "badshape", "base_path": str(tmp_path / "good"), "shape": "(1,x)"},
        {"name": "nopath", "base_path": str(tmp_path / "missing")},
    ], pipeline_config_list=[])
    write_json(str(tmp_path / "config.json"), cfg_obj)
    srv = start_server(["--config_path", str(tmp_path)], wait_for="rel")  # a directory means <dir>/config.json
    srv.wait_available("good")
    assert predict_value(srv.rest_port, "rel") == (200, 5.0)
    assert predict_value(srv.rest_port, "good") == (200, 1.0)
    log = srv.read_log()
    assert "Duplicated model names: good defined in config file. Only first definition will be loaded." in log
    code, _, body = http("GET", f"{srv.rest}/v1/config")
    assert code == 200
    listed = json.loads(body)
    assert "rel" in listed and "good" in listed and "badshape" not in listed
    # The remembered first error makes the reload API report failure; the models still serve.
    code, body = reload(srv)
    assert code != 200 and "Reloading config file failed. Check server logs for more info." in body
    assert predict_value(srv.rest_port, "good") == (200, 1.0)


# ---------------------------------------------------------------- reloads


def test_add_remove_model_and_change_policy(start_server, tmp_path):
    a = make_repo(str(tmp_path), "a", {1: 1, 2: 2})
    b = make_repo(str(tmp_path), "b", {1: 10})
    srv, cfg = start_config(start_server, tmp_path, config([{"name": "a", "base_path": a}]), "a")
    client = Client(srv.rest_port, "a", version=2)
    client.start()
    try:
        # add b
        write_json(cfg, config([{"name": "a", "base_path": a}, {"name": "b", "base_path": b}]))
        wait_for(lambda: status(srv, "b") == {1: OK}, 10, "b loaded", srv)
        assert predict_value(srv.rest_port, "b") == (200, 10.0)
        # remove b: all its versions END, still listed
        write_json(cfg, config([{"name": "a", "base_path": a}]))
        wait_for(lambda: status(srv, "b") == {1: END}, 10, "b retired", srv)
        code, body = predict_value(srv.rest_port, "b", 1)
        assert code == 404 and "retired" in body
        code, _, body = http("GET", f"{srv.rest}/v1/config")
        assert json.loads(body)["b"]["model_version_status"][0]["state"] == "END"
        # change a's policy: only starts versions, v2 is not reloaded
        v2_loads = loads_of(srv, "a", 2)
        write_json(cfg, config([{"name": "a", "base_path": a, "model_version_policy": {"all": {}}}]))
        wait_for(lambda: status(srv, "a") == {1: OK, 2: OK}, 10, "a v1 started", srv)
        assert loads_of(srv, "a", 2) == v2_loads
        assert predict_value(srv.rest_port, "a", 1) == (200, 1.0)
        # and back: v1 retires
        write_json(cfg, config([{"name": "a", "base_path": a, "model_version_policy": {"specific": {"versions": [2]}}}]))
        wait_for(lambda: status(srv, "a") == {1: END, 2: OK}, 10, "a v1 retired", srv)
        # b comes back
        write_json(cfg, config([{"name": "a", "base_path": a}, {"name": "b", "base_path": b}]))
        wait_for(lambda: status(srv, "b") == {1: OK}, 10, "b back", srv)
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]
    assert client.values == [2.0]


def test_reload_relevant_change_with_requests_in_flight(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1, 2: 2})
    base = {"name": "m", "base_path": repo, "model_version_policy": {"all": {}}, "nireq": 1}
    srv, cfg = start_config(start_server, tmp_path, config([base]), "m")
    clients = [Client(srv.rest_port, "m"), Client(srv.rest_port, "m", version=1), Client(srv.rest_port, "m")]
    for c in clients:
        c.start()
    try:
        time.sleep(0.3)
        before = (loads_of(srv, "m", 1), loads_of(srv, "m", 2))
        write_json(cfg, config([dict(base, nireq=2)]))
        wait_for(lambda: (loads_of(srv, "m", 1), loads_of(srv, "m", 2)) == (before[0] + 1, before[1] + 1), 10,
                 "both versions reloaded for nireq", srv)
        write_json(cfg, config([dict(base, nireq=2, plugin_config={"NUM_STREAMS": "1"})]))
        wait_for(lambda: (loads_of(srv, "m", 1), loads_of(srv, "m", 2)) == (before[0] + 2, before[1] + 2), 10,
                 "both versions reloaded for plugin_config", srv)
        # The same content again (rewritten) changes nothing.
        write_json(cfg, config([dict(base, nireq=2, plugin_config={"NUM_STREAMS": "1"})]))
        srv.wait_watcher_looked()
        assert (loads_of(srv, "m", 1), loads_of(srv, "m", 2)) == (before[0] + 2, before[1] + 2)
        assert status(srv, "m") == {1: OK, 2: OK}
    finally:
        for c in clients:
            c.finish()
    for c in clients:
        assert c.failures == [], c.failures[:5]
        assert c.count > 10
    assert clients[0].values == [2.0] and clients[1].values == [1.0]


def test_invalid_config_changes_nothing(start_server, tmp_path):
    a = make_repo(str(tmp_path), "a", {1: 1})
    b = make_repo(str(tmp_path), "b", {1: 2})
    good = config([{"name": "a", "base_path": a}])
    srv, cfg = start_config(start_server, tmp_path, good, "a", extra=["--file_system_poll_wait_seconds", "1"])
    client = Client(srv.rest_port, "a")
    client.start()
    try:
        for bad in ['{"model_config_list": [', json.dumps(config([{"name": "b", "base_path": b}], extra_key=1)),
                    json.dumps(config([{"base_path": b}]))]:
            write_json(cfg, bad)
            srv.wait_watcher_looked()  # the watcher has read it and rejected it
            assert status(srv, "a") == {1: OK}
            assert status(srv, "b") == {}
            code, body = reload(srv)
            assert code != 200, body
            assert json.loads(body) == {"error": "Reloading config file failed. Check server logs for more info."}
        os.remove(cfg)
        code, body = reload(srv)
        assert code != 200 and json.loads(body) == {"error": "Config file not found or cannot open."}
        assert status(srv, "a") == {1: OK}
        # A valid file again is applied (by the watcher or by the API, whichever comes first).
        write_json(cfg, config([{"name": "a", "base_path": a}, {"name": "b", "base_path": b}]))
        code, body = reload(srv)
        assert code == 200, body
        wait_for(lambda: status(srv, "b") == {1: OK}, 10, "b loaded", srv)
        listed = json.loads(reload(srv)[1])
        assert sorted(listed) == ["a", "b"]
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]
    assert "Given config is invalid according to schema" in srv.read_log()


def test_reload_api_without_watcher(start_server, tmp_path):
    a = make_repo(str(tmp_path), "a", {1: 1})
    b = make_repo(str(tmp_path), "b", {1: 2})
    srv, cfg = start_config(start_server, tmp_path, config([{"name": "a", "base_path": a}]), "a",
                            extra=["--file_system_poll_wait_seconds", "0"])
    code, body = reload(srv)  # nothing changed
    assert code == 200
    assert list(json.loads(body)) == ["a"]
    write_json(cfg, config([{"name": "b", "base_path": b}]))
    time.sleep(1.2)
    assert status(srv, "b") == {}  # no watcher
    assert srv.CYCLE_BEGIN not in srv.read_log() and "Started model manager thread" not in srv.read_log()
    code, body = reload(srv)
    assert code == 200, body
    listed = json.loads(body)
    assert listed["a"]["model_version_status"][0]["state"] == "END"
    assert listed["b"]["model_version_status"][0]["state"] == "AVAILABLE"
    assert re.search(r'^\{\n"a" : \n\{', body)


def test_model_config_becoming_invalid_unloads_it(start_server, tmp_path):
    a = make_repo(str(tmp_path), "a", {1: 1})
    b = make_repo(str(tmp_path), "b", {1: 2})
    srv, cfg = start_config(start_server, tmp_path,
                            config([{"name": "a", "base_path": a}, {"name": "b", "base_path": b}]), "a")
    srv.wait_available("b")
    client = Client(srv.rest_port, "a")
    client.start()
    try:
        write_json(cfg, config([{"name": "a", "base_path": a}, {"name": "b", "base_path": b, "layout": "N:C:H"}]))
        wait_for(lambda: status(srv, "b") == {1: ("LOADING", "UNKNOWN")}, 10, "b invalid", srv)
        write_json(cfg, config([{"name": "a", "base_path": a}, {"name": "b", "base_path": b}]))
        wait_for(lambda: status(srv, "b") == {1: OK}, 10, "b valid again", srv)
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]
