"""The Grafana dashboard (deploy/monitoring/grafana-dashboard.json) against a real server: every
metric family and every label that its queries use exists in /metrics of ovms started with the
metrics the deployment's config.json enables, after one request through each API."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARD = os.path.join(ROOT, "deploy", "monitoring", "grafana-dashboard.json")
BASE_CONFIG = os.path.join(ROOT, "deploy", "kubernetes", "base", "config.json")
DEMO_MODEL = os.path.join(ROOT, "models", "demo_classifier")
PROMQL_WORDS = {"sum", "by", "rate", "histogram_quantile", "max", "min", "avg", "count", "without", "on",
                "ignoring", "le", "irate", "increase"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def dashboard_queries():
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("expr", "definition") and isinstance(v, str):
                    exprs.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(json.load(open(DASHBOARD)))
    return exprs


def parse_metrics(text):
    """{family: set of label names} from the exposition text (histograms under their base name)."""
    families = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ", line)
        assert m, line
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
        families.setdefault(m.group(1), set()).update(labels)
    return families


@pytest.fixture
def server(tmp_path):
    binary = os.environ.get("OVMS_BINARY", os.path.join(ROOT, "build", "src", "ovms"))
    assert os.path.exists(binary), f"ovms binary not found at {binary}; set OVMS_BINARY"
    shutil.copytree(DEMO_MODEL, tmp_path / "models" / "model1")
    # The deployment's own config.json, with its model path pointed at the copy.
    config = json.load(open(BASE_CONFIG))
    config["model_config_list"][0]["config"]["base_path"] = str(tmp_path / "models" / "model1")
    (tmp_path / "config.json").write_text(json.dumps(config))
    grpc_port, rest_port = free_port(), free_port()
    log = open(tmp_path / "ovms.log", "wb")
    proc = subprocess.Popen([binary, "--config_path", str(tmp_path / "config.json"), "--port", str(grpc_port),
                             "--rest_port", str(rest_port)], stdout=log, stderr=subprocess.STDOUT)
    rest = f"http://127.0.0.1:{rest_port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            code, text = http("GET", f"{rest}/v1/models/model1")
            if code == 200 and "AVAILABLE" in text:
                break
        except OSError:
            pass
        assert proc.poll() is None, (tmp_path / "ovms.log").read_text()
        time.sleep(0.3)
    else:
        pytest.fail("server did not load model1: " + (tmp_path / "ovms.log").read_text())
    yield rest
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_dashboard_queries_exist_in_metrics(server):
    body = '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
    assert http("POST", f"{server}/v1/models/model1:predict", body)[0] == 200
    assert http("POST", f"{server}/v1/models/model1:predict", '{"instances": [[1, 2]]}')[0] == 400
    kbody = '{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}'
    assert http("POST", f"{server}/v2/models/model1/infer", kbody)[0] == 200
    code, text = http("GET", f"{server}/metrics")
    assert code == 200
    families = parse_metrics(text)

    queries = dashboard_queries()
    assert len(queries) >= 10
    used = {}
    for q in queries:
        for name in re.findall(r"\b(ovms_[a-z_]+)", q):
            used.setdefault(name, set())
        # Labels the query groups by or filters on must exist on every ovms series it reads.
        grouped = set()
        for group in re.findall(r"\bby \(([^)]*)\)", q):
            grouped |= {g.strip() for g in group.split(",")}
        grouped |= set(re.findall(r"([a-z_]+)=~?\"", q))
        for name in re.findall(r"\b(ovms_[a-z_]+)", q):
            used[name] |= grouped - {"le"} if name.endswith("_bucket") else grouped
        if "label_values(" in q:
            name, label = re.search(r"label_values\((ovms_[a-z_]+), *([a-z_]+)\)", q).groups()
            used[name].add(label)
    assert used, "the dashboard queries no ovms metric"
    missing = sorted(n for n in used if n not in families)
    assert not missing, f"dashboard metrics missing from /metrics: {missing}\n{sorted(families)}"
    for name, labels in used.items():
        assert labels <= families[name], f"{name}: labels {sorted(labels - families[name])} not in /metrics"
    # Every family the server exports for a single model is on the dashboard (nothing forgotten).
    model_families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in families if n.startswith("ovms_")}
    on_dashboard = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
    assert model_families <= on_dashboard, f"not on the dashboard: {sorted(model_families - on_dashboard)}"
