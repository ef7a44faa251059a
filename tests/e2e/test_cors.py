"""CORS headers on every REST response and OPTIONS on any path (spec §1.1, §5)."""
import json

from conftest import DEMO_MODEL, http

CORS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")
CREDENTIALS = "Access-Control-Allow-Credentials"


def responses(srv):
    """(what, status, headers) for a spread of routes and outcomes."""
    body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]})
    calls = [
        ("status", "GET", "/v1/models/demo", None, 200),
        ("predict", "POST", "/v1/models/demo:predict", body, 200),
        ("kserve ready", "GET", "/v2/models/demo/ready", None, 200),
        ("live", "GET", "/v2/health/live", None, 200),
        ("bad url", "GET", "/nothing/here", None, 400),
        ("unknown model", "GET", "/v1/models/nope", None, 404),
        ("wrong method", "DELETE", "/v1/models/demo", None, 406),
        ("bad json", "POST", "/v1/models/demo:predict", "{", 412),
        ("metrics", "GET", "/metrics", None, 200),
        ("options", "OPTIONS", "/v1/models/demo:predict", None, 200),
        ("options anywhere", "OPTIONS", "/any/path/at/all?x=1", None, 200),
    ]
    out = []
    for what, method, path, data, expected in calls:
        code, headers, _ = http(method, srv.rest + path, data)
        assert code == expected, (what, code)
        out.append((what, code, headers))
    return out


def test_default_cors_headers(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--metrics_enable"], wait_for="demo")
    for what, _, headers in responses(srv):
        for h in CORS:
            assert headers.get(h) == "*", (what, h, headers)
        assert CREDENTIALS not in headers, (what, headers)


def test_custom_cors_flags(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--metrics_enable",
                        "--allowed_origins", "http://a.example,http://b.example", "--allowed_methods", "GET,POST",
                        "--allowed_headers", "Content-Type,X-Custom", "--allow_credentials"], wait_for="demo")
    for what, _, headers in responses(srv):
        assert headers.get("Access-Control-Allow-Origin") == "http://a.example,http://b.example", what
        assert headers.get("Access-Control-Allow-Methods") == "GET,POST", what
        assert headers.get("Access-Control-Allow-Headers") == "Content-Type,X-Custom", what
        assert headers.get(CREDENTIALS) == "true", what


def test_options_preflight_has_empty_body(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL], wait_for="demo")
    for path in ("/v1/models/demo", "/v2/models/demo/infer", "/metrics", "/v1/config/reload", "/"):
        code, headers, body = http("OPTIONS", srv.rest + path,
                                   headers={"Origin": "http://x.example", "Access-Control-Request-Method": "POST"})
        assert (code, body) == (200, b""), path
        assert all(headers.get(h) == "*" for h in CORS), headers
    # A preflight does not run the handler: OPTIONS on a predict route infers nothing and is not an error.
    code, _, _ = http("OPTIONS", srv.rest + "/v1/models/nope:predict")
    assert code == 200
