"""gRPC bind address: the default 0.0.0.0 listens on IPv4 only (as its help text says), not on a
dual-stack [::] socket; an explicit IPv6 address still works."""
import socket
import time

import grpc
import pytest

from conftest import DEMO_MODEL, stubs_dir


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def connects(family, host, port):
    with socket.socket(family) as s:
        s.settimeout(3)
        try:
            s.connect((host, port))
            return True
        except OSError:
            return False


def server_live(target):
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    with grpc.insecure_channel(target) as ch:
        return grpc_predict_v2_pb2_grpc.GRPCInferenceServiceStub(ch).ServerLive(
            grpc_predict_v2_pb2.ServerLiveRequest(), timeout=10).live


def wait_port(family, host, port, srv, timeout=30):
    deadline = time.time() + timeout
    while not connects(family, host, port):
        assert srv.proc.poll() is None and time.time() < deadline, srv.read_log()
        time.sleep(0.1)


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_default_grpc_bind_is_ipv4_only(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL], wait_for="demo")
    wait_port(socket.AF_INET, "127.0.0.1", srv.grpc_port, srv)
    assert server_live(f"127.0.0.1:{srv.grpc_port}")
    assert not connects(socket.AF_INET6, "::1", srv.grpc_port)


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_explicit_ipv6_grpc_bind(start_server):
    srv = start_server(["--model_name", "demo", "--model_path", DEMO_MODEL, "--grpc_bind_address", "::1"],
                       wait_for="demo")
    wait_port(socket.AF_INET6, "::1", srv.grpc_port, srv)
    assert server_live(f"ipv6:[::1]:{srv.grpc_port}")
    assert not connects(socket.AF_INET, "127.0.0.1", srv.grpc_port)
