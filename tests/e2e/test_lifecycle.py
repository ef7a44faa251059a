"""Model lifecycle end to end (§4): version folders appearing, disappearing and coming back,
version policies, the load-failure fallback, with a client sending requests throughout."""

import http.client as httpclient
import json
import os
import shutil
import subprocess
import threading
import time

import model_factory
from conftest import free_port, http, ovms_binary

# ---------------------------------------------------------------- helpers (also used by test_config_file.py)


def write_json(path, obj):
    """Atomically replaces `path` (write + rename), as a config-management tool would."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj, indent=1))
    os.replace(tmp, path)


def config(models, **extra):
    """{"model_config_list": [{"config": m} ...], **extra}"""
    d = {"model_config_list": [{"config": m} for m in models]}
    d.update(extra)
    return d


def add_version(repo, version, value):
    """Builds an add_const(value) version folder next to the repository and renames it in (atomic)."""
    staging = os.path.join(os.path.dirname(repo), f".staging_{os.path.basename(repo)}_{version}_{time.time_ns()}")
    model_factory.add_const(staging, value=float(value), version=version)
    os.makedirs(repo, exist_ok=True)
    os.rename(os.path.join(staging, str(version)), os.path.join(repo, str(version)))
    shutil.rmtree(staging)


def broken_version(repo, version):
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(b"this is not an onnx model")


def make_repo(root, name, versions):
    """versions: {version: value}"""
    repo = os.path.join(root, name)
    for v, value in versions.items():
        add_version(repo, v, value)
    return repo


def predict_value(rest_port, model, version=None, conn=None):
    """Returns (http status, first output value or error body)."""
    path = f"/v1/models/{model}" + (f"/versions/{version}" if version else "") + ":predict"
    body = json.dumps({"inputs": {"b": [[0.0] * 10]}})
    own = conn is None
    if own:
        conn = httpclient.HTTPConnection("127.0.0.1", rest_port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
    finally:
        if own:
            conn.close()
    if r.status != 200:
        return r.status, data.decode(errors="replace")
    return 200, json.loads(data)["outputs"][0][0]


def status(server, model):
    """{version: (state, error_code)} from REST GetModelStatus; {} when the model is unknown."""
    code, _, body = http("GET", f"{server.rest}/v1/models/{model}")
    if code != 200:
        return {}
    out = {}
    for s in json.loads(body).get("model_version_status", []):
        out[int(s["version"])] = (s["state"], s["status"]["error_code"])
    return out


def wait_for(cond, timeout=20, what="condition", server=None):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(0.05)
    log = server.read_log()[-6000:] if server else ""
    raise AssertionError(f"timed out waiting for {what}; last={last!r}\n{log}")


class Client(threading.Thread):
    """Sends predict requests in a loop; records every failure and the values seen."""

    def __init__(self, rest_port, model, version=None):
        super().__init__(daemon=True)
        self.rest_port, self.model, self.version = rest_port, model, version
        self.stop_flag = threading.Event()
        self.failures, self.values, self.count = [], [], 0

    def run(self):
        conn = httpclient.HTTPConnection("127.0.0.1", self.rest_port, timeout=30)
        while not self.stop_flag.is_set():
            try:
                code, value = predict_value(self.rest_port, self.model, self.version, conn=conn)
            except (OSError, httpclient.HTTPException):
                # A kept-alive connection the server closed: retry once on a fresh one.
                conn.close()
                conn = httpclient.HTTPConnection("127.0.0.1", self.rest_port, timeout=30)
                try:
                    code, value = predict_value(self.rest_port, self.model, self.version, conn=conn)
                except (OSError, httpclient.HTTPException) as e:
                    conn.close()
                    conn = httpclient.HTTPConnection("127.0.0.1", self.rest_port, timeout=30)
                    code, value = -1, repr(e)
            self.count += 1
            if code == 200:
                if not self.values or self.values[-1] != value:
                    self.values.append(value)
            else:
                self.failures.append((code, value))
        conn.close()

    def last(self):
        return self.values[-1] if self.values else None

    def finish(self):
        self.stop_flag.set()
        self.join(timeout=60)
        return self


def run_expect_exit(args, timeout=30):
    """Runs ovms to completion; returns (exit code, output). Free ports are added unless given;
    pass "--rest_port", "0" for no REST server."""
    if "--port" not in args:
        args = ["--port", str(free_port())] + args
    if "--rest_port" not in args:
        args = ["--rest_port", str(free_port())] + args
    p = subprocess.run([ovms_binary()] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


# ---------------------------------------------------------------- tests



def start_config(start_server, tmp_path, models, wait_for_model=None, poll=1):
    cfg = os.path.join(str(tmp_path), "config.json")
    write_json(cfg, config(models))
    srv = start_server(["--config_path", cfg, "--file_system_poll_wait_seconds", str(poll), "--log_level", "TRACE"],
                       wait_for=wait_for_model)
    return srv, cfg


def test_version_added_deleted_recreated(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1})
    srv, _ = start_config(start_server, tmp_path, [{"name": "m", "base_path": repo}], "m")
    assert "Started model manager thread" in srv.read_log()
    client = Client(srv.rest_port, "m")
    client.start()
    try:
        wait_for(lambda: client.last() == 1.0, 10, "client sees v1", srv)
        add_version(repo, 2, 2)
        # Served by the first watcher cycle that starts after the version is on disk, however slow the machine.
        srv.wait_watcher_looked()
        assert status(srv, "m").get(2) == ("AVAILABLE", "OK"), srv.read_log()
        wait_for(lambda: status(srv, "m").get(1) == ("END", "OK"), 10, "v1 END", srv)
        wait_for(lambda: client.last() == 2.0, 10, "client on v2", srv)

        shutil.rmtree(os.path.join(repo, "2"))
        wait_for(lambda: status(srv, "m") == {1: ("AVAILABLE", "OK"), 2: ("END", "OK")}, 10, "v2 END, v1 back", srv)
        wait_for(lambda: client.last() == 1.0, 10, "client back on v1", srv)
        code, body = predict_value(srv.rest_port, "m", 2)
        assert code == 404 and "retired" in body

        add_version(repo, 2, 2)  # re-created: END -> LOADING -> AVAILABLE
        wait_for(lambda: status(srv, "m") == {1: ("END", "OK"), 2: ("AVAILABLE", "OK")}, 10, "v2 reloaded", srv)
        wait_for(lambda: client.last() == 2.0, 10, "client on v2 again", srv)
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]
    assert client.count > 20
    log = srv.read_log()
    assert 'Version 2 of model m status change. New status: ( "state": "END", "error_code": "OK" )' in log


def test_version_policies(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "repo", {1: 1, 2: 2, 3: 3})
    models = [
        {"name": "latest2", "base_path": repo, "model_version_policy": {"latest": {"num_versions": 2}}},
        {"name": "specific", "base_path": repo, "model_version_policy": {"specific": {"versions": [1, 3, 7]}}},
        {"name": "all", "base_path": repo, "model_version_policy": {"all": {}}},
        {"name": "default", "base_path": repo},
    ]
    srv, _ = start_config(start_server, tmp_path, models, "default")
    # Models load concurrently (several at once): wait for every version each policy selects.
    for m, versions in (("latest2", (2, 3)), ("specific", (1, 3)), ("all", (1, 2, 3))):
        for v in versions:
            srv.wait_available(m, version=v)
    ok = ("AVAILABLE", "OK")
    assert status(srv, "latest2") == {2: ok, 3: ok}
    assert status(srv, "specific") == {1: ok, 3: ok}
    assert status(srv, "all") == {1: ok, 2: ok, 3: ok}
    assert status(srv, "default") == {3: ok}
    assert predict_value(srv.rest_port, "specific", 1) == (200, 1.0)
    assert predict_value(srv.rest_port, "specific") == (200, 3.0)
    assert predict_value(srv.rest_port, "specific", 2)[0] == 404
    assert predict_value(srv.rest_port, "all", 2) == (200, 2.0)
    assert predict_value(srv.rest_port, "latest2", 1)[0] == 404

    # A new version 4: latest2 moves to (3,4), specific ignores it, all serves it too.
    add_version(repo, 4, 4)
    wait_for(lambda: status(srv, "latest2") == {2: ("END", "OK"), 3: ok, 4: ok}, 10, "latest2 moved", srv)
    wait_for(lambda: 4 in status(srv, "all"), 10, "all has v4", srv)
    assert status(srv, "specific") == {1: ok, 3: ok}
    assert predict_value(srv.rest_port, "default") == (200, 4.0)


def test_broken_newest_version_falls_back(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1})
    broken_version(repo, 2)
    srv, _ = start_config(start_server, tmp_path, [{"name": "m", "base_path": repo}], "m")
    assert status(srv, "m") == {1: ("AVAILABLE", "OK"), 2: ("LOADING", "UNKNOWN")}
    assert predict_value(srv.rest_port, "m") == (200, 1.0)
    client = Client(srv.rest_port, "m")
    client.start()
    try:
        # Fixing the broken version: it is retried on every cycle and takes over.
        shutil.rmtree(os.path.join(repo, "2"))
        add_version(repo, 2, 2)
        wait_for(lambda: status(srv, "m") == {1: ("END", "OK"), 2: ("AVAILABLE", "OK")}, 10, "v2 fixed", srv)
        wait_for(lambda: client.last() == 2.0, 10, "client on v2", srv)
        # A new broken version 3 leaves v2 serving.
        broken_version(repo, 3)
        wait_for(lambda: status(srv, "m").get(3) == ("LOADING", "UNKNOWN"), 10, "v3 failed", srv)
        assert status(srv, "m")[2] == ("AVAILABLE", "OK")
        for _ in range(2):  # v3 is retried on every cycle; v2 keeps serving throughout
            srv.wait_watcher_looked()
            assert status(srv, "m") == {1: ("END", "OK"), 2: ("AVAILABLE", "OK"), 3: ("LOADING", "UNKNOWN")}
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]
    assert client.values[-1] == 2.0


def test_version_copied_non_atomically(start_server, tmp_path):
    """A version folder written file by file may be seen half-written; the failed load is
    retried and the version is served once complete. Requests never fail meanwhile."""
    repo = make_repo(str(tmp_path), "m", {1: 1})
    srv, _ = start_config(start_server, tmp_path, [{"name": "m", "base_path": repo}], "m")
    staged = make_repo(str(tmp_path), "staged", {2: 2})
    with open(os.path.join(staged, "2", "model.onnx"), "rb") as f:
        data = f.read()
    client = Client(srv.rest_port, "m")
    client.start()
    try:
        os.makedirs(os.path.join(repo, "2"))
        time.sleep(0.5)
        with open(os.path.join(repo, "2", "model.onnx"), "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            time.sleep(0.5)
            f.write(data[len(data) // 2:])
        wait_for(lambda: status(srv, "m").get(2) == ("AVAILABLE", "OK"), 10, "v2 AVAILABLE", srv)
        wait_for(lambda: client.last() == 2.0, 10, "client on v2", srv)
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]


def test_polling_disabled_reload_api_still_rescans(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1})
    srv, _ = start_config(start_server, tmp_path, [{"name": "m", "base_path": repo}], "m", poll=0)
    assert "Started model manager thread" not in srv.read_log()
    add_version(repo, 2, 2)
    time.sleep(1.5)  # no watcher can be waited for; this only gives a wrongly running one time to act
    assert srv.CYCLE_BEGIN not in srv.read_log()
    assert status(srv, "m") == {1: ("AVAILABLE", "OK")}
    code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
    assert code == 200, body
    cfg = json.loads(body)
    states = {s["version"]: s["state"] for s in cfg["m"]["model_version_status"]}
    assert states == {"2": "AVAILABLE", "1": "END"}
    assert predict_value(srv.rest_port, "m") == (200, 2.0)


def test_single_model_mode_watches_versions(start_server, tmp_path):
    repo = make_repo(str(tmp_path), "m", {1: 1})
    srv = start_server(["--model_name", "m", "--model_path", repo, "--model_version_policy", '{"all": {}}'], wait_for="m")
    client = Client(srv.rest_port, "m", version=1)
    client.start()
    try:
        add_version(repo, 2, 2)
        wait_for(lambda: status(srv, "m") == {1: ("AVAILABLE", "OK"), 2: ("AVAILABLE", "OK")}, 10, "v2 added", srv)
        shutil.rmtree(os.path.join(repo, "2"))
        wait_for(lambda: status(srv, "m").get(2) == ("END", "OK"), 10, "v2 END", srv)
        code, _, body = http("POST", f"{srv.rest}/v1/config/reload")
        assert code == 200 and b'"m"' in body
    finally:
        client.finish()
    assert client.failures == [], client.failures[:5]
