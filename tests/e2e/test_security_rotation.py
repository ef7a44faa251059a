"""Certificate rotation: the TLS files are re-read when they change while clients keep sending; no
request fails, connections already open keep working, new connections get the new certificate, and a
bad new certificate keeps the old one with an ERROR line naming the file."""
import http.client
import os
import shutil
import socket
import ssl
import threading
import time

import grpc
import pytest

from conftest import DEMO_MODEL, stubs_dir
from security_helpers import DEMO_INFER, Pki, read, wait_tls_available



def peer_certificate(port, ca, alpn=None):
    """DER of the certificate a new TLS connection to 127.0.0.1:port is given."""
    ctx = ssl.create_default_context(cafile=ca)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert(binary_form=True)


def der(path):
    return ssl.PEM_cert_to_DER_cert(read(path).decode())


def replace_file(path, content):
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, path)


class Traffic:
    """Clients sending continuously: REST on one kept-alive connection, REST on a new connection per
    request, and gRPC ModelInfer on one channel."""

    def __init__(self, srv, ca, kserve):
        self.srv, self.ca, self.kserve = srv, ca, kserve
        self.ok = {"rest_keepalive": 0, "rest_new": 0, "grpc": 0}
        self.failures = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=f) for f in (self.rest_keepalive, self.rest_new, self.grpc_loop)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def _post(self, conn):
        conn.request("POST", "/v2/models/demo/infer", DEMO_INFER, {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"status {r.status}: {body[:200]}")

    def rest_keepalive(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.rest_port, context=ctx, timeout=10)
        while not self.stop.is_set():
            try:
                self._post(conn)
                self.ok["rest_keepalive"] += 1
            except Exception as e:  # noqa: BLE001
                self.failures.append(f"rest keep-alive: {e!r}")
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", self.srv.rest_port, context=ctx, timeout=10)
        conn.close()

    def rest_new(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        while not self.stop.is_set():
            conn = http.client.HTTPSConnection("127.0.0.1", self.srv.rest_port, context=ctx, timeout=10)
            try:
                self._post(conn)
                self.ok["rest_new"] += 1
            except Exception as e:  # noqa: BLE001
                self.failures.append(f"rest new connection: {e!r}")
            finally:
                conn.close()

    def grpc_loop(self):
        kpb, kgrpc = self.kserve
        creds = grpc.ssl_channel_credentials(root_certificates=read(self.ca))
        req = kpb.ModelInferRequest(model_name="demo")
        inp = req.inputs.add(name="features", datatype="FP32", shape=[1, 4])
        inp.contents.fp32_contents.extend([5.1, 3.5, 1.4, 0.2])
        with grpc.secure_channel(self.srv.grpc_address, creds) as ch:
            stub = kgrpc.GRPCInferenceServiceStub(ch)
            while not self.stop.is_set():
                try:
                    stub.ModelInfer(req, timeout=10)
                    self.ok["grpc"] += 1
                except grpc.RpcError as e:
                    self.failures.append(f"grpc: {e.code()} {e.details()}")


def wait_for(predicate, what, srv, timeout=20):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"{what} not seen in {timeout}s:\n{srv.read_log()[-4000:]}"
        time.sleep(0.2)


def test_certificate_rotated_under_traffic(start_server, tmp_path):
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    kserve = (grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc)
    pki = Pki(str(tmp_path / "pki"))
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    shutil.copy(pki.server, cert)
    shutil.copy(pki.server_key, key)
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--tls_cert_file", cert,
                        "--tls_key_file", key])
    wait_tls_available(srv, "demo", pki.ca)
    assert peer_certificate(srv.rest_port, pki.ca) == der(pki.server)
    assert peer_certificate(srv.grpc_port, pki.ca, alpn=["h2"]) == der(pki.server)

    with Traffic(srv, pki.ca, kserve) as traffic:
        time.sleep(1)
        before = dict(traffic.ok)
        # Rotate: the key first, then the certificate (each replaced atomically, as deploy tools do).
        replace_file(key, read(pki.server2_key))
        replace_file(cert, read(pki.server2))
        wait_for(lambda: peer_certificate(srv.rest_port, pki.ca) == der(pki.server2), "new REST certificate", srv)
        wait_for(lambda: peer_certificate(srv.grpc_port, pki.ca, alpn=["h2"]) == der(pki.server2),
                 "new gRPC certificate", srv)
        # A broken certificate: the last good one stays in use, the log says why and names the file.
        replace_file(cert, b"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        wait_for(lambda: "TLS files changed but are not used" in srv.read_log(), "the rejection", srv)
        time.sleep(2.5)  # longer than gRPC's 1 s refresh of its staged files
        assert peer_certificate(srv.rest_port, pki.ca) == der(pki.server2)
        assert peer_certificate(srv.grpc_port, pki.ca, alpn=["h2"]) == der(pki.server2)
        time.sleep(1)
        after = dict(traffic.ok)
    assert traffic.failures == [], traffic.failures[:10]
    for kind in after:
        assert after[kind] > before[kind], (kind, before, after)
    log = srv.read_log()
    assert "TLS certificate reloaded from " + cert in log
    errors = [line for line in log.splitlines() if "TLS files changed but are not used" in line]
    assert errors and all("[error]" in line for line in errors), errors
    assert any(cert in line for line in errors), errors


def test_client_ca_rotated(start_server, tmp_path):
    """mTLS: after --tls_ca_file changes, new connections need a client certificate from the new CA."""
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    pki = Pki(str(tmp_path / "pki"))
    ca = str(tmp_path / "clients-ca.pem")
    shutil.copy(pki.ca, ca)
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--tls_cert_file", pki.server,
                        "--tls_key_file", pki.server_key, "--tls_ca_file", ca])
    wait_tls_available(srv, "demo", pki.ca, cert=pki.client, key=pki.client_key)

    def rest_ok(cert, key):
        ctx = ssl.create_default_context(cafile=pki.ca)
        ctx.load_cert_chain(cert, key)
        conn = http.client.HTTPSConnection("127.0.0.1", srv.rest_port, context=ctx, timeout=5)
        try:
            conn.request("GET", "/v1/models/demo")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def grpc_ok(cert, key):
        creds = grpc.ssl_channel_credentials(read(pki.ca), read(key), read(cert))
        with grpc.secure_channel(srv.grpc_address, creds) as ch:
            try:
                grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub(ch).ServerLive(
                    grpc_predict_v2_pb2.ServerLiveRequest(), timeout=5)
                return True
            except grpc.RpcError:
                return False

    assert rest_ok(pki.client, pki.client_key) and grpc_ok(pki.client, pki.client_key)
    assert not rest_ok(pki.foreign, pki.foreign_key) and not grpc_ok(pki.foreign, pki.foreign_key)
    replace_file(ca, read(pki.other_ca))
    wait_for(lambda: rest_ok(pki.foreign, pki.foreign_key), "the new client CA on REST", srv)
    wait_for(lambda: grpc_ok(pki.foreign, pki.foreign_key), "the new client CA on gRPC", srv)
    assert not rest_ok(pki.client, pki.client_key) and not grpc_ok(pki.client, pki.client_key)
