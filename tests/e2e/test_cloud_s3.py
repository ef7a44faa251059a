"""Models served from s3:// (S3_ENDPOINT = s3rver on loopback, path-style, SigV4-signed requests):
versions added and deleted remotely, config.json base_path, wrong credentials, http_proxy, and
unsupported path schemes. s3rver does not check signatures (only the access key); the signatures
themselves are checked against botocore in tests/storage."""
import http.server as httpserver
import json
import os
import select
import socket
import socketserver
import threading
import urllib.error
import urllib.request

import pytest

from cloud_peers import (S3rver, cached_copy, cloud_server, delete_version, in_cache,  # noqa: F401
                         make_tls_ca, predict_value, upload_version, version_states, wait_until)
from conftest import http

SECRET = "S3RVER-secret-that-must-not-be-logged"


@pytest.fixture
def s3(tmp_path):
    peer = S3rver(str(tmp_path))
    yield peer
    peer.stop()


def test_serves_a_model_and_follows_versions(s3, cloud_server, tmp_path):
    names = upload_version(s3, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m", "--file_system_poll_wait_seconds", "1"],
                       s3.env(secret=SECRET), wait_for="m")
    assert predict_value(srv) == 1.0
    # A new version uploaded remotely is found on the next poll and served. Its 40 MB file arrives
    # as two ranged requests at once and is reassembled byte for byte.
    big = os.urandom(40 * 1024 * 1024)
    names2 = upload_version(s3, "m", 2, 2, str(tmp_path), extra_files={"big.bin": big})
    wait_until(lambda: version_states(srv).get(2) == "AVAILABLE", what="version 2 AVAILABLE", server=srv)
    assert predict_value(srv) == 2.0
    assert cached_copy(srv, "m/2", "big.bin") == big
    # Deleted remotely: retired, and version 1 serves again.
    delete_version(s3, "m", 2, names2)
    wait_until(lambda: version_states(srv).get(2) == "END", what="version 2 END", server=srv)
    wait_until(lambda: version_states(srv).get(1) == "AVAILABLE", what="version 1 back", server=srv)
    assert predict_value(srv) == 1.0
    # The local copy of the deleted version is removed from the download cache.
    wait_until(lambda: not in_cache(srv, "big.bin"), what="the cached copy of version 2 removed", server=srv)
    log = srv.read_log()
    assert SECRET not in log
    assert "Downloading s3://models/m/1" in log
    assert names


def test_config_file_base_path(s3, cloud_server, tmp_path):
    upload_version(s3, "repo/a", 1, 5, str(tmp_path))
    upload_version(s3, "repo/b", 3, 7, str(tmp_path))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_config_list": [
        {"config": {"name": "a", "base_path": "s3://models/repo/a"}},
        {"config": {"name": "b", "base_path": "s3://models/repo/b/"}}]}))
    srv = cloud_server(["--config_path", str(cfg)], s3.env(), wait_for="a")
    srv.wait_available("b")
    assert predict_value(srv, "a") == 5.0
    assert predict_value(srv, "b", version=3) == 7.0


def test_wrong_credentials_fail_clearly(s3, cloud_server, tmp_path):
    upload_version(s3, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"],
                       s3.env(access_key="NOT-A-KEY", secret=SECRET), expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    log = srv.read_log()
    assert "HTTP 403" in log and "s3://models/m" in log, log
    assert SECRET not in log


def test_missing_bucket_and_prefix(s3, cloud_server, tmp_path):
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://no-such-bucket/m"], s3.env(), expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    assert "NoSuchBucket" in srv.read_log()
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/no/such/prefix"], s3.env(),
                       expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    assert "no object exists under this prefix" in srv.read_log()


def test_listing_spans_pages(s3, cloud_server, tmp_path):
    """A version folder of 1,003 objects: S3 lists at most 1,000 keys a page, so the version loads
    only if the continuation token is followed; every object reaches the cache."""
    extra = {f"vocab/{i:04d}.txt": str(i).encode() for i in range(1001)}
    upload_version(s3, "m", 1, 4, str(tmp_path), extra_files=extra)
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], s3.env(), wait_for="m")
    assert predict_value(srv) == 4.0
    import glob
    cached = glob.glob(os.path.join(os.path.dirname(srv.log_path), "ovms-remote-*", "*", "vocab", "*.txt"))
    assert len(cached) == 1001, len(cached)
    assert cached_copy(srv, "m/1", os.path.join("vocab", "1000.txt")) == b"1000"


class _ForwardingProxy(httpserver.BaseHTTPRequestHandler):
    """A plain HTTP forward proxy (absolute-form request lines) that records what passed through."""
    seen = []

    def do_GET(self):
        _ForwardingProxy.seen.append(self.path)
        req = urllib.request.Request(self.path, headers={k: v for k, v in self.headers.items()
                                                         if k.lower() not in ("proxy-connection", "connection")})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30) as r:
                status, headers, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def proxy():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ForwardingProxy)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _ForwardingProxy.seen = []
    yield srv
    srv.shutdown()
    srv.server_close()


def test_http_proxy_and_no_proxy(s3, cloud_server, proxy, tmp_path):
    upload_version(s3, "m", 1, 1, str(tmp_path))
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    env = dict(s3.env(), http_proxy=proxy_url)
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], env, wait_for="m")
    assert predict_value(srv) == 1.0
    assert any("/models/m/1/model.onnx" in p for p in _ForwardingProxy.seen), _ForwardingProxy.seen
    srv.stop()
    # no_proxy names the endpoint: the proxy sees nothing.
    _ForwardingProxy.seen = []
    env = dict(s3.env(), http_proxy=proxy_url, no_proxy="127.0.0.1")
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], env, wait_for="m")
    assert predict_value(srv) == 1.0
    assert _ForwardingProxy.seen == []


class _ConnectProxy(httpserver.BaseHTTPRequestHandler):
    """An https_proxy: answers CONNECT host:port and relays the TLS bytes both ways unread."""
    seen = []

    def do_CONNECT(self):
        _ConnectProxy.seen.append(self.path)
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=30)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        conns = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(conns, [], [], 30)
                if not ready:
                    break
                for c in ready:
                    data = c.recv(65536)
                    if not data:
                        return
                    (upstream if c is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()

    def log_message(self, *a):
        pass


def test_https_endpoint_through_https_proxy(cloud_server, tmp_path):
    """S3_ENDPOINT over TLS with a private CA (trusted through SSL_CERT_FILE), reached through an
    https_proxy CONNECT tunnel; without the CA the certificate is refused and the server does not start."""
    ca, key, crt = make_tls_ca(str(tmp_path))
    s3 = S3rver(str(tmp_path), tls=(ca, key, crt))
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ConnectProxy)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    _ConnectProxy.seen = []
    try:
        upload_version(s3, "m", 1, 1, str(tmp_path))
        assert s3.env()["S3_ENDPOINT"].startswith("https://")
        env = dict(s3.env(), SSL_CERT_FILE=ca, https_proxy=f"http://127.0.0.1:{proxy.server_address[1]}")
        srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], env, wait_for="m")
        assert predict_value(srv) == 1.0
        assert f"127.0.0.1:{s3.port}" in _ConnectProxy.seen, _ConnectProxy.seen
        srv.stop()
        # The same endpoint without the private CA: verification fails, clearly, and nothing loads.
        srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], s3.env(), expect_exit=True)
        assert srv.proc.wait(timeout=60) != 0
        log = srv.read_log()
        assert "certificate" in log.lower() and "s3://models/m" in log, log
    finally:
        proxy.shutdown()
        proxy.server_close()
        s3.stop()


@pytest.mark.parametrize("path", ["foo://bucket/model", "hdfs://namenode/models/m"])
def test_unsupported_scheme_is_named(cloud_server, path):
    srv = cloud_server(["--model_name", "m", "--model_path", path], {}, expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    log = srv.read_log()
    scheme = path.split("://")[0]
    assert f'Unsupported model path scheme "{scheme}://"' in log, log
    assert "Directory does not exist" not in log


def test_unsupported_scheme_in_config_file(cloud_server, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_config_list": [{"config": {"name": "m", "base_path": "foo://bucket/m"}}]}))
    srv = cloud_server(["--config_path", str(cfg)], {})
    wait_until(lambda: 'Unsupported model path scheme "foo://"' in srv.read_log(), timeout=30,
               what="the unsupported-scheme message", server=srv)
    status, _, body = http("GET", f"{srv.rest}/v1/config")
    assert status == 200


def test_credentials_from_a_profile(s3, cloud_server, tmp_path):
    """AWS_PROFILE picks a section of the shared credentials file (s3rver knows only the S3RVER key,
    so the [default] section's key would be refused)."""
    upload_version(s3, "m", 1, 1, str(tmp_path))
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = NOT-A-KEY\naws_secret_access_key = x\n\n"
                     f"[profile ci]\naws_access_key_id=S3RVER\naws_secret_access_key = {SECRET}\n")
    env = {"S3_ENDPOINT": s3.env()["S3_ENDPOINT"], "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_PROFILE": "ci"}
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], env, wait_for="m")
    assert predict_value(srv) == 1.0
    assert 'credentials from profile "ci"' in srv.read_log()
    assert SECRET not in srv.read_log()
    env.pop("AWS_PROFILE")
    srv = cloud_server(["--model_name", "m", "--model_path", "s3://models/m"], env, expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    assert "InvalidAccessKeyId" in srv.read_log() or "HTTP 403" in srv.read_log()
