"""Cloud-storage emulators for the test_cloud_*.py tests, started on loopback ports and stopped (by
their PID) afterwards: s3rver (S3), Azurite (Azure Blob), both pinned in tests/peers, and
fake_gcs.py (GCS JSON API + OAuth2 token endpoint) from this folder. Also the uploaders the tests
use to change the "remote" repositories as a user would."""
import base64
import datetime
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

import pytest

from conftest import ROOT, free_port, http

PEERS = os.path.join(ROOT, "tests", "peers", "node_modules", ".bin")
FAKE_GCS = os.path.join(os.path.dirname(__file__), "fake_gcs.py")
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def require_peer(name):
    path = os.path.join(PEERS, name)
    if not os.path.exists(path):
        msg = f"{path} missing: run tools/install_test_peers.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def wait_port(port, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"emulator did not listen on {port} within {timeout}s")


class Peer:
    """One emulator process on a loopback port."""

    def __init__(self, args, port, log_path):
        self.port = port
        self.args = args
        self.log_path = log_path
        self.proc = None
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, self.proc)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)  # the emulator's own process group (npm shims spawn node)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


# ------------------------------------------------------------------------------------------ S3


def make_tls_ca(tmp):
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it (security_helpers.Pki).
    Returns (ca_cert, server_key, server_cert) paths."""
    from security_helpers import Pki
    pki = Pki(os.path.join(tmp, "tls"))
    return pki.ca, pki.server_key, pki.server


class S3rver(Peer):
    BUCKET = "models"

    def __init__(self, tmp, tls=None):
        """tls: (ca_cert, server_key, server_cert) from make_tls_ca to serve https."""
        exe = require_peer("s3rver")
        port = free_port()
        data = os.path.join(tmp, "s3rver-data")
        os.makedirs(data, exist_ok=True)
        self.tls = tls
        # --openssl-legacy-provider: s3rver encrypts its ListObjectsV2 continuation tokens with a cipher
        # that OpenSSL 3 keeps in the legacy provider (without it every second page is a 500).
        args = ["node", "--openssl-legacy-provider", exe, "-d", data, "-a", "127.0.0.1", "-p", str(port),
                "--configure-bucket", self.BUCKET, "--silent"]
        if tls:
            args += ["--key", tls[1], "--cert", tls[2]]
        super().__init__(args, port, os.path.join(tmp, "s3rver.log"))

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _call(self, method, key, data=None):
        url = f"{self.url}/{self.BUCKET}/{urllib.parse.quote(key)}"
        if not self.tls:
            return http(method, url, body=data)
        from security_helpers import https
        return https(method, url, self.tls[0], body=data, timeout=30)

    def put(self, key, data):
        status, _, body = self._call("PUT", key, data)
        assert status == 200, (status, body)

    def delete(self, key):
        status, _, body = self._call("DELETE", key)
        assert status in (200, 204), (status, body)

    def env(self, access_key="S3RVER", secret="S3RVER"):
        return {"S3_ENDPOINT": self.url, "AWS_ACCESS_KEY_ID": access_key,
                "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1"}


# ------------------------------------------------------------------------------------------ Azure


def azure_sign(method, path, query, headers, content_length, content_type, account=AZURITE_ACCOUNT, key=AZURITE_KEY):
    """Shared Key signature, written from the Azure Storage REST documentation (test-side, independent
    of the server's implementation)."""
    canon_headers = "".join(f"{k}:{v}\n" for k, v in sorted((k.lower(), v) for k, v in headers.items()
                                                            if k.lower().startswith("x-ms-")))
    resource = f"/{account}{path}"
    for k, v in sorted(query.items()):
        resource += f"\n{k.lower()}:{v}"
    sts = "\n".join([method, "", "", str(content_length) if content_length else "", "", content_type, "", "", "",
                     "", "", ""]) + "\n" + canon_headers + resource
    sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
    return f"SharedKey {account}:{sig}"


class Azurite(Peer):
    CONTAINER = "models"

    def __init__(self, tmp):
        exe = require_peer("azurite-blob")
        port = free_port()
        data = os.path.join(tmp, "azurite-data")
        os.makedirs(data, exist_ok=True)
        super().__init__(["node", exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", data,
                          "--disableTelemetry", "--skipApiVersionCheck", "--silent"], port,
                         os.path.join(tmp, "azurite.log"))
        self.request("PUT", f"/{self.CONTAINER}", {"restype": "container"}, expect=(201, 409))

    def request(self, method, path, query=None, data=b"", extra=None, expect=(200, 201, 202)):
        query = query or {}
        headers = {"x-ms-date": datetime.datetime.utcnow().strftime("%a, %d %b %Y %H:%M:%S GMT"),
                   "x-ms-version": "2021-08-06"}
        headers.update(extra or {})
        # Always an explicit Content-Type: urllib would add (unsigned) form-encoding to a PUT.
        ctype = "application/octet-stream" if method in ("PUT", "POST") else ""
        full_path = f"/{AZURITE_ACCOUNT}{urllib.parse.quote(path)}"
        headers["Authorization"] = azure_sign(method, full_path, query, headers, len(data), ctype)
        if ctype:
            headers["Content-Type"] = ctype
        url = f"{self.url}{full_path}" + ("?" + urllib.parse.urlencode(query) if query else "")
        status, _, body = http(method, url, body=data if data or method == "PUT" else None, headers=headers)
        assert status in expect, (method, path, status, body)
        return body

    def put(self, key, data):
        self.request("PUT", f"/{self.CONTAINER}/{key}", data=data, extra={"x-ms-blob-type": "BlockBlob"})

    def delete(self, key):
        self.request("DELETE", f"/{self.CONTAINER}/{key}")

    def account_sas(self, key=AZURITE_KEY, permissions="rl"):
        """An account SAS (Blob service; service, container and object level), signed as the Azure
        documentation describes for versions from 2020-12-06 (which Azurite verifies)."""
        f = {"sv": "2021-08-06", "ss": "b", "srt": "sco", "sp": permissions, "se": "2099-01-01T00:00:00Z",
             "spr": "https,http"}
        sts = "\n".join([AZURITE_ACCOUNT, f["sp"], f["ss"], f["srt"], "", f["se"], "", f["spr"], f["sv"], "", ""])
        f["sig"] = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
        return urllib.parse.urlencode(f)

    def sas_connection_string(self, sas):
        return f"BlobEndpoint=http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT};SharedAccessSignature={sas}"

    def connection_string(self, key=AZURITE_KEY):
        return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
                f"BlobEndpoint=http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT};")


# ------------------------------------------------------------------------------------------ GCS


class FakeGcs(Peer):
    BUCKET = "models"

    def __init__(self, tmp, port=None, extra=()):
        self.root = os.path.join(tmp, "gcs-data")
        os.makedirs(os.path.join(self.root, self.BUCKET), exist_ok=True)
        port = port or free_port()
        self.extra = list(extra)
        super().__init__(["/usr/bin/python3", FAKE_GCS, "--port", str(port), "--root", self.root] + self.extra, port,
                         os.path.join(tmp, "fake_gcs.log"))

    def put(self, key, data):
        p = os.path.join(self.root, self.BUCKET, key)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = p + ".uploading"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)

    def delete(self, key):
        os.remove(os.path.join(self.root, self.BUCKET, key))

    def stats(self):
        import json
        return json.loads(http("GET", f"{self.url}/_stats")[2])


def make_service_account(tmp, token_uri, email="ovms-test@example.iam.gserviceaccount.com"):
    """A service-account key file (RSA key made with openssl) and the public key for the fake."""
    import json
    key = os.path.join(tmp, f"sa-{time.time_ns()}.pem")
    pub = key + ".pub"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    with open(key) as f:
        pem = f.read()
    cred = os.path.join(tmp, f"sa-{time.time_ns()}.json")
    with open(cred, "w") as f:
        json.dump({"type": "service_account", "project_id": "test", "private_key_id": "k1", "private_key": pem,
                   "client_email": email, "token_uri": token_uri}, f)
    return cred, pub, pem


# ------------------------------------------------------------------------------------------ models


def model_files(value, version_dir_tmp):
    """The files of an add_const(value) version (out = in + value on FP32 [1,10])."""
    import model_factory
    repo = os.path.join(version_dir_tmp, f"m{time.time_ns()}")
    model_factory.add_const(repo, value=float(value), version=1)
    d = os.path.join(repo, "1")
    files = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name), "rb") as f:
            files[name] = f.read()
    shutil.rmtree(repo)
    return files


def upload_version(peer, prefix, version, value, tmp, extra_files=None):
    # Extra files first, the model last: a poll between two uploads may see a partial folder, and
    # (as in OVMS) a loaded version does not notice files added later.
    files = dict(extra_files or {})
    files.update(model_files(value, tmp))
    for name, data in files.items():
        peer.put(f"{prefix}/{version}/{name}", data)
    return list(files)


def delete_version(peer, prefix, version, names):
    for name in names:
        peer.delete(f"{prefix}/{version}/{name}")


def predict_value(server, model="m", version=None):
    """Runs the add_const model on zeros; returns the constant it adds (which version answered)."""
    import json
    url = f"{server.rest}/v1/models/{model}" + (f"/versions/{version}" if version else "") + ":predict"
    status, _, body = http("POST", url, body=json.dumps({"instances": [[0.0] * 10]}))
    assert status == 200, (status, body)
    return json.loads(body)["predictions"][0][0]


def version_states(server, model="m"):
    import json
    try:
        status, _, body = http("GET", f"{server.rest}/v1/models/{model}")
    except OSError:  # not listening yet
        return {}
    if status != 200:
        return {}
    return {int(v["version"]): v["state"] for v in json.loads(body)["model_version_status"]}


def wait_until(predicate, timeout=60, what="condition", server=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + (server.read_log()[-6000:] if server else ""))


# ------------------------------------------------------------------------------------------ ovms


@pytest.fixture
def cloud_server(tmp_path):
    """Starts ovms with extra environment variables (credentials, endpoints); stops it afterwards."""
    from conftest import OvmsServer
    servers = []

    def _start(args, env, wait_for=None, expect_exit=False):
        workdir = tmp_path / f"ovms{len(servers)}"
        workdir.mkdir()
        saved = dict(os.environ)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "S3_ENDPOINT",
                  "SSL_CERT_FILE", "SSL_CERT_DIR",
                  "GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "AZURE_STORAGE_CONNECTION_STRING",
                  "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
            os.environ.pop(k, None)
        os.environ.update(env)
        os.environ["OVMS_STORAGE_CACHE_DIR"] = str(workdir)
        try:
            srv = OvmsServer(args, str(workdir))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        srv.expect_exit = expect_exit
        servers.append(srv)
        if wait_for:
            srv.wait_available(wait_for)
        return srv

    yield _start
    for s in servers:
        rc = s.stop()
        if not s.expect_exit:
            assert rc == 0, f"ovms exit code {rc}\n{s.read_log()}"


def in_cache(server, name):
    import glob
    return bool(glob.glob(os.path.join(os.path.dirname(server.log_path), "ovms-remote-*", "*", name)))


def cached_copy(server, version_path_suffix, name):
    """The bytes of `name` in the server's download cache (the copy the version was loaded from)."""
    import glob
    workdir = os.path.dirname(server.log_path)
    for p in glob.glob(os.path.join(workdir, "ovms-remote-*", "*", name)):
        with open(p, "rb") as f:
            return f.read()
    raise AssertionError(f"{name} not in the download cache of {workdir}")
