"""TLS and mTLS on the gRPC and REST ports (--tls_cert_file, --tls_key_file, --tls_ca_file), with
certificates made by openssl and stock clients: curl and python3-grpcio's ssl_channel_credentials."""
import http.client as http_client
import ssl
import urllib.error

import grpc
import pytest

from conftest import DEMO_MODEL, http, stubs_dir
from security_helpers import DEMO_INFER, Pki, curl, https, read, run_to_exit, wait_tls_available



@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module")
def kserve():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


def demo_args(pki, mtls=False):
    args = ["--model_name", "demo", "--model_path", DEMO_MODEL,
            "--tls_cert_file", pki.server, "--tls_key_file", pki.server_key]
    return args + (["--tls_ca_file", pki.ca] if mtls else [])


def grpc_live(kserve, srv, creds, timeout=5):
    """ServerLive over a TLS channel; returns the response or raises grpc.RpcError."""
    with grpc.secure_channel(srv.grpc_address, creds) as ch:
        return kserve[1].GRPCInferenceServiceStub(ch).ServerLive(kserve[0].ServerLiveRequest(), timeout=timeout)


def grpc_metadata(kserve, srv, creds, timeout=5):
    with grpc.secure_channel(srv.grpc_address, creds) as ch:
        return kserve[1].GRPCInferenceServiceStub(ch).ModelMetadata(kserve[0].ModelMetadataRequest(name="demo"),
                                                                      timeout=timeout)


def test_tls_rest_with_curl(start_server, pki):
    srv = start_server(demo_args(pki))
    wait_tls_available(srv, "demo", pki.ca)
    url = f"https://127.0.0.1:{srv.rest_port}"
    rc, status, body = curl(url + "/v2/models/demo/infer", "--cacert", pki.ca, "-d", DEMO_INFER)
    assert (rc, status) == (0, 200), body
    assert '"outputs"' in body
    rc, status, _ = curl(url + "/v2/health/ready", "--cacert", pki.ca)
    assert (rc, status) == (0, 200)
    # localhost is in the certificate's subjectAltName too
    rc, status, _ = curl(f"https://localhost:{srv.rest_port}/v2/health/live", "--cacert", pki.ca,
                         "--resolve", f"localhost:{srv.rest_port}:127.0.0.1")
    assert (rc, status) == (0, 200)
    # A client that does not trust the CA refuses the server (curl 60: peer certificate cannot be verified)
    rc, status, _ = curl(url + "/v2/health/ready", "--cacert", pki.other_ca)
    assert rc == 60 and status == 0
    # Plain HTTP on the TLS port gets no HTTP answer
    with pytest.raises((OSError, http_client.HTTPException)):
        http("GET", f"http://127.0.0.1:{srv.rest_port}/v2/health/ready", timeout=5)
    assert "TLS enabled on the gRPC and REST ports" in srv.read_log()


def test_tls_grpc_with_grpcio(start_server, pki, kserve):
    srv = start_server(demo_args(pki))
    wait_tls_available(srv, "demo", pki.ca)
    creds = grpc.ssl_channel_credentials(root_certificates=read(pki.ca))
    assert grpc_live(kserve, srv, creds).live
    assert grpc_metadata(kserve, srv, creds).name == "demo"
    # A client trusting another CA fails the handshake
    with pytest.raises(grpc.RpcError) as e:
        grpc_live(kserve, srv, grpc.ssl_channel_credentials(root_certificates=read(pki.other_ca)))
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    # A plain-text client gets no answer
    with grpc.insecure_channel(srv.grpc_address) as ch, pytest.raises(grpc.RpcError) as e:
        kserve[1].GRPCInferenceServiceStub(ch).ServerLive(kserve[0].ServerLiveRequest(), timeout=5)
    assert e.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_mtls_rest_client_certificates(start_server, pki):
    srv = start_server(demo_args(pki, mtls=True))
    wait_tls_available(srv, "demo", pki.ca, cert=pki.client, key=pki.client_key)
    url = f"https://127.0.0.1:{srv.rest_port}/v2/models/demo/infer"
    rc, status, body = curl(url, "--cacert", pki.ca, "--cert", pki.client, "--key", pki.client_key, "-d", DEMO_INFER)
    assert (rc, status) == (0, 200), body
    # No client certificate, an expired one, one from another CA: the handshake fails (no HTTP status).
    for extra in ([], ["--cert", pki.expired, "--key", pki.expired_key],
                  ["--cert", pki.foreign, "--key", pki.foreign_key]):
        rc, status, _ = curl(url, "--cacert", pki.ca, "-d", DEMO_INFER, *extra)
        assert rc != 0 and status == 0, extra
    # The same with Python's ssl module
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        https("GET", f"https://127.0.0.1:{srv.rest_port}/v1/models/demo", pki.ca)
    assert srv.proc.poll() is None


def test_mtls_grpc_client_certificates(start_server, pki, kserve):
    srv = start_server(demo_args(pki, mtls=True))
    wait_tls_available(srv, "demo", pki.ca, cert=pki.client, key=pki.client_key)
    good = grpc.ssl_channel_credentials(read(pki.ca), read(pki.client_key), read(pki.client))
    assert grpc_metadata(kserve, srv, good).name == "demo"
    for creds in (grpc.ssl_channel_credentials(read(pki.ca)),
                  grpc.ssl_channel_credentials(read(pki.ca), read(pki.expired_key), read(pki.expired)),
                  grpc.ssl_channel_credentials(read(pki.ca), read(pki.foreign_key), read(pki.foreign))):
        with pytest.raises(grpc.RpcError) as e:
            grpc_live(kserve, srv, creds)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert grpc_live(kserve, srv, good).live


@pytest.mark.parametrize("case", ["cert_without_key", "ca_without_cert", "missing_cert", "missing_key",
                                  "key_mismatch", "not_pem", "ca_not_pem"])
def test_bad_tls_options_stop_the_server(tmp_path, pki, case):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    missing = str(tmp_path / "absent.pem")
    tls = {"cert_without_key": ["--tls_cert_file", pki.server],
           "ca_without_cert": ["--tls_ca_file", pki.ca],
           "missing_cert": ["--tls_cert_file", missing, "--tls_key_file", pki.server_key],
           "missing_key": ["--tls_cert_file", pki.server, "--tls_key_file", missing],
           "key_mismatch": ["--tls_cert_file", pki.server, "--tls_key_file", pki.client_key],
           "not_pem": ["--tls_cert_file", str(junk), "--tls_key_file", pki.server_key],
           "ca_not_pem": ["--tls_cert_file", pki.server, "--tls_key_file", pki.server_key,
                          "--tls_ca_file", str(junk)]}[case]
    expected = {"cert_without_key": "--tls_cert_file and --tls_key_file must be given together",
                "ca_without_cert": "--tls_cert_file and --tls_key_file must be given together",
                "missing_cert": f"Cannot read the file given by --tls_cert_file: {missing}",
                "missing_key": f"Cannot read the file given by --tls_key_file: {missing}",
                "key_mismatch": f"The private key in {pki.client_key} (--tls_key_file) does not match the certificate",
                "not_pem": f"No PEM certificate in the file given by --tls_cert_file: {junk}",
                "ca_not_pem": f"No PEM certificate in the file given by --tls_ca_file: {junk}"}[case]
    rc, log = run_to_exit(["--model_name", "demo", "--model_path", DEMO_MODEL] + tls, tmp_path)
    assert rc == 1, log
    assert expected in log, log
    assert "Started gRPC server" not in log and "Started REST server" not in log
