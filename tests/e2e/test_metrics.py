"""Prometheus metrics end to end (spec §8): GET /metrics, the families, labels, HELP texts and
buckets, series at zero after load, exact per-series deltas for every API, --metrics_list and
config.json `monitoring`, and the startup errors."""
import json
import math
import os
import re
import shutil

import grpc
import numpy as np
import pytest

import model_factory
from conftest import DEMO_MODEL, http, stubs_dir
from test_lifecycle import config, run_expect_exit, status, wait_for, write_json

SAMPLES = np.array([[5.1, 3.5, 1.4, 0.2], [6.0, 2.8, 4.5, 1.4]], dtype=np.float32)

HELP = {
    "ovms_requests_success": ("counter", "Number of successful requests to a model or a DAG."),
    "ovms_requests_fail": ("counter", "Number of failed requests to a model or a DAG."),
    "ovms_request_time_us": ("histogram", "Processing time of requests to a model or a DAG."),
    "ovms_inference_time_us": ("histogram", "Inference execution time in the OpenVINO backend."),
    "ovms_wait_for_infer_req_time_us": ("histogram", "Request waiting time in the scheduling queue."),
    "ovms_streams": ("gauge", "Number of OpenVINO execution streams."),
    "ovms_current_requests": ("gauge", "Number of inference requests currently in process."),
    "ovms_infer_req_queue_size": ("gauge", "Inference request queue size (nireq)."),
    "ovms_infer_req_active": ("gauge", "Number of currently consumed inference request from the processing queue."),
}
DEFAULT_FAMILIES = {"ovms_requests_success", "ovms_requests_fail", "ovms_request_time_us", "ovms_inference_time_us",
                    "ovms_wait_for_infer_req_time_us", "ovms_streams", "ovms_current_requests"}
BUCKETS = [math.floor(10 * 1.8 ** i) for i in range(33)]
METHODS = {"TensorFlowServing": ["Predict", "GetModelMetadata", "GetModelStatus"],
           "KServe": ["ModelInfer", "ModelMetadata", "ModelReady"]}
VERSIONLESS = {"GetModelStatus", "ModelReady"}


# ---------------------------------------------------------------- a strict exposition-format parser

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(\{{.*\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def _parse_labels(text):
    if not text:
        return ()
    inner = text[1:-1]
    labels, pos = [], 0
    while pos < len(inner):
        m = _LABEL.match(inner, pos)
        assert m, f"bad label set {text!r}"
        labels.append((m.group(1), m.group(2)))
        pos = m.end()
    names = [k for k, _ in labels]
    assert len(names) == len(set(names)), f"duplicate label in {text!r}"
    return tuple(sorted(labels))


def _parse_value(s):
    if s in ("+Inf", "-Inf", "NaN", "Nan"):
        return float(s.replace("Nan", "NaN"))
    assert re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", s), f"bad value {s!r}"
    return float(s)


def parse_exposition(text):
    """Returns {family: {"type", "help", "samples": {(sample name, labels): value}}}; asserts the
    Prometheus text format 0.0.4 rules the server must follow."""
    assert text.endswith("\n"), "exposition must end with a newline"
    families, current = {}, None
    for line in text[:-1].split("\n"):
        assert line, "empty line in exposition"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(_NAME, name) and name not in families, line
            current = families[name] = {"help": help_text, "type": None, "samples": {}}
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert current is not None and name in families and families[name] is current, line
            assert current["type"] is None and typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            current["type"] = typ
            continue
        assert not line.startswith("#"), f"unexpected comment {line!r}"
        m = _SAMPLE.match(line)
        assert m and current is not None and current["type"], f"bad sample line {line!r}"
        sname, labels, value = m.group(1), _parse_labels(m.group(2)), _parse_value(m.group(3))
        fam = [n for n, f in families.items() if f is current][0]
        allowed = {fam} if current["type"] != "histogram" else {fam + "_count", fam + "_sum", fam + "_bucket"}
        assert sname in allowed, f"sample {sname} in family {fam}"
        key = (sname, labels)
        assert key not in current["samples"], f"duplicate series {line!r}"
        current["samples"][key] = value
    for fam, f in families.items():
        assert f["type"], f"family {fam} has no TYPE"
        if f["type"] == "histogram":
            _check_histogram(fam, f)
    return families


def _check_histogram(fam, f):
    series = {}
    for (sname, labels), value in f["samples"].items():
        base = tuple(kv for kv in labels if kv[0] != "le")
        entry = series.setdefault(base, {"buckets": [], "count": None, "sum": None})
        if sname.endswith("_bucket"):
            le = dict(labels)["le"]
            entry["buckets"].append((math.inf if le == "+Inf" else float(le), value))
        elif sname.endswith("_count"):
            entry["count"] = value
        else:
            entry["sum"] = value
    for base, e in series.items():
        assert e["count"] is not None and e["sum"] is not None, f"{fam}{base}: missing _count/_sum"
        les = [le for le, _ in e["buckets"]]
        assert les == sorted(les) and les[-1] == math.inf, f"{fam}{base}: le order {les}"
        assert les[:-1] == BUCKETS, f"{fam}{base}: bucket boundaries {les}"
        counts = [c for _, c in e["buckets"]]
        assert all(a <= b for a, b in zip(counts, counts[1:])), f"{fam}{base}: buckets not cumulative"
        assert counts[-1] == e["count"], f"{fam}{base}: _count != +Inf bucket"


def scrape(srv):
    code, headers, body = http("GET", f"{srv.rest}/metrics")
    assert code == 200, body
    assert headers["Content-Type"].startswith("text/plain"), headers
    return parse_exposition(body.decode())


def flat(families):
    """{(sample name, labels): value} over all families."""
    out = {}
    for f in families.values():
        out.update(f["samples"])
    return out


def key(sample, **labels):
    return sample, tuple(sorted(labels.items()))


def req_key(family, api, interface, method, name, version):
    labels = {"api": api, "interface": interface, "method": method, "name": name}
    if method not in VERSIONLESS:
        labels["version"] = str(version)
    return key(family, **labels)


# ---------------------------------------------------------------- clients


@pytest.fixture(scope="module")
def kpb():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def tfs_tensor(pb, array):
    t = pb.tensor.TensorProto()
    t.dtype = pb.types.DataType.Value("DT_FLOAT")
    for d in array.shape:
        t.tensor_shape.dim.add().size = d
    t.tensor_content = array.tobytes()
    return t


class Clients:
    def __init__(self, srv, pb, kpb, model="demo"):
        self.srv, self.pb, self.kpb, self.model = srv, pb, kpb, model
        self.channel = grpc.insecure_channel(srv.grpc_address)
        self.predict = pb.prediction_grpc.PredictionServiceStub(self.channel)
        self.model_service = pb.model_grpc.ModelServiceStub(self.channel)
        self.kserve = kpb[1].GRPCInferenceServiceStub(self.channel)

    def close(self):
        self.channel.close()

    # TFS gRPC
    def tfs_grpc_predict(self, array=SAMPLES, model=None, version=None):
        req = self.pb.predict.PredictRequest()
        req.model_spec.name = model or self.model
        if version:
            req.model_spec.version.value = version
        req.inputs["features"].CopyFrom(tfs_tensor(self.pb, array))
        return self._grpc(lambda: self.predict.Predict(req, timeout=30))

    def tfs_grpc_metadata(self, field="signature_def", model=None):
        req = self.pb.metadata.GetModelMetadataRequest(metadata_field=[field])
        req.model_spec.name = model or self.model
        return self._grpc(lambda: self.predict.GetModelMetadata(req, timeout=30))

    def tfs_grpc_status(self, model=None, version=None):
        req = self.pb.status.GetModelStatusRequest()
        req.model_spec.name = model or self.model
        if version:
            req.model_spec.version.value = version
        return self._grpc(lambda: self.model_service.GetModelStatus(req, timeout=30))

    # TFS REST
    def tfs_rest_predict(self, body=None, model=None):
        body = body if body is not None else json.dumps({"instances": SAMPLES.tolist()})
        return http("POST", f"{self.srv.rest}/v1/models/{model or self.model}:predict", body)[0] == 200

    def tfs_rest_metadata(self, model=None):
        return http("GET", f"{self.srv.rest}/v1/models/{model or self.model}/metadata")[0] == 200

    def tfs_rest_status(self, model=None):
        return http("GET", f"{self.srv.rest}/v1/models/{model or self.model}")[0] == 200

    # KServe gRPC
    def kserve_grpc_infer(self, array=SAMPLES, model=None, version=""):
        pb2 = self.kpb[0]
        req = pb2.ModelInferRequest(model_name=model or self.model, model_version=version)
        t = req.inputs.add(name="features", datatype="FP32", shape=list(array.shape))
        req.raw_input_contents.append(array.tobytes())
        del t
        return self._grpc(lambda: self.kserve.ModelInfer(req, timeout=30))

    def kserve_grpc_metadata(self, model=None, version=""):
        req = self.kpb[0].ModelMetadataRequest(name=model or self.model, version=version)
        return self._grpc(lambda: self.kserve.ModelMetadata(req, timeout=30))

    def kserve_grpc_ready(self, model=None, version=""):
        req = self.kpb[0].ModelReadyRequest(name=model or self.model, version=version)
        return self._grpc(lambda: self.kserve.ModelReady(req, timeout=30))

    # KServe REST
    def kserve_rest_infer(self, body=None, model=None):
        if body is None:
            body = json.dumps({"inputs": [{"name": "features", "shape": list(SAMPLES.shape), "datatype": "FP32",
                                           "data": SAMPLES.reshape(-1).tolist()}]})
        return http("POST", f"{self.srv.rest}/v2/models/{model or self.model}/infer", body)[0] == 200

    def kserve_rest_metadata(self, model=None):
        return http("GET", f"{self.srv.rest}/v2/models/{model or self.model}")[0] == 200

    def kserve_rest_ready(self, model=None, version=None):
        path = f"/v2/models/{model or self.model}" + (f"/versions/{version}" if version else "") + "/ready"
        return http("GET", self.srv.rest + path)[0] == 200

    @staticmethod
    def _grpc(call):
        try:
            call()
            return True
        except grpc.RpcError:
            return False


def start_metrics_server(start_server, extra=(), model_path=DEMO_MODEL, name="demo"):
    return start_server(["--model_name", name, "--model_path", model_path, "--metrics_enable"] + list(extra),
                        wait_for=name)


# ---------------------------------------------------------------- tests


def test_series_exist_at_zero_after_load(start_server):
    srv = start_metrics_server(start_server)
    families = scrape(srv)
    assert set(families) == DEFAULT_FAMILIES  # MediaPipe families have no series here
    for fam, f in families.items():
        assert (f["type"], f["help"]) == HELP[fam], fam
    samples = flat(families)
    for family in ("ovms_requests_success", "ovms_requests_fail"):
        series = {k: v for k, v in samples.items() if k[0] == family}
        assert len(series) == 12, series
        for api, methods in METHODS.items():
            for interface in ("gRPC", "REST"):
                for method in methods:
                    k = req_key(family, api, interface, method, "demo", 1)
                    # GetModelStatus is what wait_available polled (REST); all else is 0
                    expected = None if (method == "GetModelStatus" and interface == "REST"
                                        and family == "ovms_requests_success") else 0
                    assert k in series, k
                    if expected is not None:
                        assert series[k] == expected, k
    for interface in ("gRPC", "REST"):
        assert samples[key("ovms_request_time_us_count", interface=interface, name="demo", version="1")] == 0
    for fam in ("ovms_inference_time_us", "ovms_wait_for_infer_req_time_us"):
        assert samples[key(fam + "_count", name="demo", version="1")] == 0
        assert samples[key(fam + "_sum", name="demo", version="1")] == 0
    assert samples[key("ovms_streams", name="demo", version="1")] >= 1
    assert samples[key("ovms_current_requests", name="demo", version="1")] == 0


def test_exact_deltas_per_api(start_server, pb, kpb):
    srv = start_metrics_server(start_server)
    c = Clients(srv, pb, kpb)
    n = 3
    try:
        before = flat(scrape(srv))
        for _ in range(n):
            assert c.tfs_grpc_predict()
            assert c.tfs_grpc_metadata()
            assert c.tfs_grpc_status()
            assert c.tfs_rest_predict()
            assert c.tfs_rest_metadata()
            assert c.tfs_rest_status()
            assert c.kserve_grpc_infer()
            assert c.kserve_grpc_metadata()
            assert c.kserve_grpc_ready()
            assert c.kserve_rest_infer()
            assert c.kserve_rest_metadata()
            assert c.kserve_rest_ready()
        # Failures that reach the model version: each counts once in requests_fail.
        bad = np.zeros((1, 5), dtype=np.float32)
        assert not c.tfs_grpc_predict(bad)
        assert not c.tfs_rest_predict('{"instances": [[1, 2]]}')
        assert not c.kserve_grpc_infer(bad)
        assert not c.kserve_rest_infer('{"inputs": [{"name": "features", "shape": [1, 5], "datatype": "FP32", '
                                       '"data": [1, 2, 3, 4, 5]}]}')
        # Requests that reach no model version are not counted anywhere.
        assert not c.tfs_grpc_predict(model="nope")
        assert not c.tfs_grpc_predict(version=42)
        assert not c.tfs_grpc_metadata(field="bogus")  # OVMS validates it before the model lookup
        assert not c.tfs_rest_status(model="nope")
        assert not c.kserve_grpc_infer(version="42")
        assert not c.kserve_grpc_ready(version="abc")
        assert not c.kserve_rest_ready(version=42)
        after = flat(scrape(srv))
    finally:
        c.close()

    expected = {}
    for api, methods in METHODS.items():
        for interface in ("gRPC", "REST"):
            for method in methods:
                expected[req_key("ovms_requests_success", api, interface, method, "demo", 1)] = n
                expected[req_key("ovms_requests_fail", api, interface, method, "demo", 1)] = 0
    for api, interface, method in [("TensorFlowServing", "gRPC", "Predict"),
                                   ("TensorFlowServing", "REST", "Predict"), ("KServe", "gRPC", "ModelInfer"),
                                   ("KServe", "REST", "ModelInfer")]:
        expected[req_key("ovms_requests_fail", api, interface, method, "demo", 1)] = 1
    # request_time: successful Predict / ModelInfer per interface; the engine ran 4 * n times.
    for interface in ("gRPC", "REST"):
        expected[key("ovms_request_time_us_count", interface=interface, name="demo", version="1")] = 2 * n
        expected[key("ovms_request_time_us_bucket", interface=interface, le="+Inf", name="demo", version="1")] = 2 * n
    for fam in ("ovms_inference_time_us", "ovms_wait_for_infer_req_time_us"):
        expected[key(fam + "_count", name="demo", version="1")] = 4 * n
        expected[key(fam + "_bucket", le="+Inf", name="demo", version="1")] = 4 * n

    assert set(after) == set(before), set(after) ^ set(before)  # no series for unknown names/versions
    for k, v in expected.items():
        assert after[k] - before[k] == v, (k, before[k], after[k])
    for k in after:
        if k in expected or k[0].endswith("_sum") or k[0].endswith("_bucket"):
            continue
        assert after[k] == before[k], (k, before[k], after[k])
    assert after[key("ovms_current_requests", name="demo", version="1")] == 0
    assert after[key("ovms_request_time_us_sum", interface="gRPC", name="demo", version="1")] > 0
    assert after[key("ovms_inference_time_us_sum", name="demo", version="1")] > 0


def test_metrics_list_filters_families(start_server, pb, kpb):
    srv = start_metrics_server(start_server, ["--nireq", "3", "--metrics_list",
                                              "ovms_requests_fail,ovms_infer_req_queue_size,ovms_infer_req_active"])
    families = scrape(srv)
    assert set(families) == {"ovms_requests_fail", "ovms_infer_req_queue_size", "ovms_infer_req_active"}
    for fam, f in families.items():
        assert (f["type"], f["help"]) == HELP[fam], fam
    samples = flat(families)
    assert samples[key("ovms_infer_req_queue_size", name="demo", version="1")] == 3
    assert samples[key("ovms_infer_req_active", name="demo", version="1")] == 0
    c = Clients(srv, pb, kpb)
    try:
        assert not c.tfs_grpc_predict(np.zeros((1, 5), dtype=np.float32))
    finally:
        c.close()
    samples = flat(scrape(srv))
    assert samples[req_key("ovms_requests_fail", "TensorFlowServing", "gRPC", "Predict", "demo", 1)] == 1


def test_route_disabled_methods_and_query(start_server, demo_server):
    code, headers, body = http("GET", f"{demo_server.rest}/metrics")
    assert (code, body) == (400, b'{"error":"Invalid request URL"}')
    assert headers["Content-Type"] == "application/json"
    srv = start_metrics_server(start_server)
    code, headers, body = http("GET", f"{srv.rest}/metrics?format=text&x=1")
    assert code == 200 and headers["Content-Type"].startswith("text/plain")
    parse_exposition(body.decode())
    for method in ("POST", "PUT", "DELETE"):
        code, _, _ = http(method, f"{srv.rest}/metrics", b"" if method != "DELETE" else None)
        assert code == 406, method
    assert http("GET", f"{srv.rest}/metrics/")[0] == 400


def test_versions_have_own_series_and_keep_them_when_retired(start_server, tmp_path):
    repo = str(tmp_path / "m")
    model_factory.add_const(repo, value=1.0, version=1)
    model_factory.add_const(repo, value=2.0, version=2)
    cfg = str(tmp_path / "config.json")
    write_json(cfg, config([{"name": "m", "base_path": repo, "model_version_policy": {"all": {}}}],
                           monitoring={"metrics": {"enable": True}}))
    srv = start_server(["--config_path", cfg, "--file_system_poll_wait_seconds", "1"], wait_for="m")
    wait_for(lambda: status(srv, "m") == {1: ("AVAILABLE", "OK"), 2: ("AVAILABLE", "OK")}, 30, "both versions", srv)
    samples = flat(scrape(srv))
    for v in ("1", "2"):
        assert key("ovms_streams", name="m", version=v) in samples
        assert key("ovms_requests_success", api="KServe", interface="REST", method="ModelInfer", name="m",
                   version=v) in samples
    body = json.dumps({"inputs": {"b": [[0.0] * 10]}})
    assert http("POST", f"{srv.rest}/v1/models/m/versions/1:predict", body)[0] == 200
    shutil.rmtree(os.path.join(repo, "2"))
    wait_for(lambda: status(srv, "m").get(2) == ("END", "OK"), 30, "v2 retired", srv)
    samples = flat(scrape(srv))
    assert key("ovms_streams", name="m", version="2") in samples  # kept after retirement
    assert samples[req_key("ovms_requests_success", "TensorFlowServing", "REST", "Predict", "m", 1)] == 1
    assert samples[req_key("ovms_requests_success", "TensorFlowServing", "REST", "Predict", "m", 2)] == 0


def test_config_json_monitoring(start_server, tmp_path):
    cfg = str(tmp_path / "config.json")
    write_json(cfg, config([{"name": "demo", "base_path": DEMO_MODEL}],
                           monitoring={"metrics": {"enable": True, "metrics_list": ["ovms_streams"]}}))
    srv = start_server(["--config_path", cfg], wait_for="demo")
    families = scrape(srv)
    assert set(families) == {"ovms_streams"}
    assert key("ovms_streams", name="demo", version="1") in families["ovms_streams"]["samples"]

    cfg2 = str(tmp_path / "config2.json")
    write_json(cfg2, config([{"name": "demo", "base_path": DEMO_MODEL}], monitoring={"metrics": {"enable": False}}))
    srv2 = start_server(["--config_path", cfg2], wait_for="demo")
    assert http("GET", f"{srv2.rest}/metrics")[0] == 400

    cfg3 = str(tmp_path / "config3.json")
    write_json(cfg3, config([{"name": "demo", "base_path": DEMO_MODEL}], monitoring={"metrics": {"enable": True}}))
    srv3 = start_server(["--config_path", cfg3], wait_for="demo")
    assert set(scrape(srv3)) == DEFAULT_FAMILIES


def test_startup_errors(tmp_path):
    demo = ["--model_name", "demo", "--model_path", DEMO_MODEL]
    rc, out = run_expect_exit(demo + ["--metrics_enable", "--metrics_list", "ovms_streams,ovms_bogus"])
    assert rc == 1, out
    rc, out = run_expect_exit(demo + ["--metrics_enable", "--rest_port", "0"])
    assert rc == 64 and "rest_port setting is missing" in out, out
    rc, out = run_expect_exit(demo + ["--metrics_list", "ovms_streams"])
    assert rc == 64 and "metrics_enable setting is missing" in out, out
    cfg = str(tmp_path / "config.json")
    write_json(cfg, config([{"name": "demo", "base_path": DEMO_MODEL}], monitoring={"metrics": {"enable": True}}))
    rc, out = run_expect_exit(["--config_path", cfg, "--metrics_enable"])
    assert rc == 1, out  # both CLI and config.json
    rc, out = run_expect_exit(["--config_path", cfg, "--rest_port", "0"])
    assert rc == 1, out  # config.json metrics without a REST port
    write_json(cfg, config([], monitoring={"metrics": {"enable": True, "metrics_list": ["ovms_nope"]}}))
    rc, out = run_expect_exit(["--config_path", cfg])
    assert rc == 1, out
