"""Hostile request paths: the server must answer them with an error and keep serving.
Regression: a 30 KB path used to overflow the stack in the REST router's regular expressions."""
import json
import socket

import pytest

from conftest import http


def raw_get(port, path):
    """Sends a GET with an arbitrary path and returns the status line (b'' if the server closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("size", [9000, 30000, 64000])
@pytest.mark.parametrize("template", ["/v1/models/{}", "/v1/models/{}:predict", "/v1/models/m/labels/{}",
                                      "/v2/models/{}/infer", "/v2/models/{}/ready", "/v1/models/m/versions/{}"])
def test_long_paths_answer_an_error_and_the_server_keeps_serving(demo_server, size, template):
    filler = "1" * size if "versions" in template else "A" * size
    status = raw_get(demo_server.rest_port, template.format(filler))
    # Paths past the router's bound are 400 "Invalid request URL"; past the HTTP header limit, 431.
    assert status.startswith(b"HTTP/1.1 400") or status.startswith(b"HTTP/1.1 431"), status
    assert demo_server.proc.poll() is None, "server died"
    code, _, body = http("POST", demo_server.rest + "/v1/models/demo:predict",
                         json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}))
    assert code == 200, body


def test_long_path_under_header_limit_is_invalid_url(demo_server):
    code, _, body = http("GET", demo_server.rest + "/v1/models/" + "A" * 20000)
    assert code == 400
    assert json.loads(body) == {"error": "Invalid request URL"}
