"""Certificates made with the openssl command line, and HTTPS/gRPC-TLS clients for the security tests."""
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from conftest import OvmsServer

DEMO_INFER = ('{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32",'
              '"data":[5.1,3.5,1.4,0.2]}]}')


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Pki:
    """A CA; server certificates for 127.0.0.1/localhost; client certificates (valid, expired, other CA)."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca, self.ca_key = self._self_signed("ca", "test-ca")
        self.other_ca, self.other_ca_key = self._self_signed("other-ca", "other-ca")
        self.server, self.server_key = self.issue("server", "localhost", serial=1001, server=True)
        self.server2, self.server2_key = self.issue("server2", "localhost", serial=1002, server=True)
        self.client, self.client_key = self.issue("client", "client", serial=2001)
        self.expired, self.expired_key = self.issue("expired", "client-expired", serial=2002, days=-1)
        self.foreign, self.foreign_key = self.issue("foreign", "client-foreign", serial=2003, ca="other-ca")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _self_signed(self, name, cn):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "30", "-subj", f"/CN={cn}", cwd=self.dir)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")

    def issue(self, name, cn, serial, server=False, days=30, ca="ca"):
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=self.dir)
        ext = self.path(f"{name}.ext")
        with open(ext, "w") as f:
            if server:
                f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                 "-set_serial", str(serial), "-days", str(days), "-extfile", ext, "-out", f"{name}.pem", cwd=self.dir)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def https(method, url, ca, body=None, headers=None, cert=None, key=None, timeout=10):
    """(status, headers, body) over HTTPS; raises ssl/URL errors when the handshake fails."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def curl(url, *args):
    """curl's exit code, HTTP status (or 0) and body."""
    out = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10", *args, url],
                         capture_output=True, text=True)
    body, _, code = out.stdout.rpartition("\n")
    return out.returncode, int(code or 0), body


def wait_tls_available(srv, model, ca, cert=None, key=None, headers=None, timeout=60):
    url = f"https://127.0.0.1:{srv.rest_port}/v1/models/{model}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"ovms exited with {srv.proc.returncode}:\n{srv.read_log()}")
        try:
            status, _, body = https("GET", url, ca, cert=cert, key=key, headers=headers, timeout=2)
            if status == 200 and b'"AVAILABLE"' in body:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"model {model} not available over TLS in {timeout}s:\n{srv.read_log()}")


def run_to_exit(args, tmp_path, timeout=30):
    """Starts ovms with `args` expecting it to exit by itself; returns (exit code, log text)."""
    srv = OvmsServer(args, str(tmp_path))
    try:
        rc = srv.proc.wait(timeout=timeout)
    except Exception:
        srv.proc.kill()
        srv.proc.wait()
        raise
    srv.log.close()
    return rc, srv.read_log()
