"""Models served from gs:// against fake_gcs.py on loopback (STORAGE_EMULATOR_HOST): a service
account key made with openssl, whose signed JWT the fake verifies before it issues the bearer token
that every storage request must carry; anonymous access; paged listings; wrong credentials; and the
server stopped in the middle of a download while the old version keeps serving."""
import os
import time

import pytest

from cloud_peers import (FakeGcs, cached_copy, cloud_server, delete_version, make_service_account,  # noqa: F401
                         predict_value, upload_version, version_states, wait_until)


def gcs_env(peer, cred=None):
    env = {"STORAGE_EMULATOR_HOST": peer.url}
    if cred:
        env["GOOGLE_APPLICATION_CREDENTIALS"] = cred
    return env


@pytest.fixture
def peers(tmp_path):
    started = []

    def _start(*args, **kwargs):
        p = FakeGcs(str(tmp_path), *args, **kwargs)
        started.append(p)
        return p

    yield _start
    for p in started:
        p.stop()


def authenticated(peers, tmp_path, **kwargs):
    from conftest import free_port
    port = free_port()
    cred, pub, pem = make_service_account(str(tmp_path), f"http://127.0.0.1:{port}/token")
    return peers(port=port, extra=["--public-key", pub] + kwargs.get("extra", [])), cred, pem


def test_service_account_serves_and_follows_versions(peers, cloud_server, tmp_path):
    gcs, cred, pem = authenticated(peers, tmp_path, extra=["--page-size", "1"])
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m", "--file_system_poll_wait_seconds", "1"],
                       gcs_env(gcs, cred), wait_for="m")
    assert predict_value(srv) == 1.0
    names2 = upload_version(gcs, "m", 2, 2, str(tmp_path), extra_files={"sub/extra.bin": os.urandom(300000)})
    wait_until(lambda: version_states(srv).get(2) == "AVAILABLE", what="version 2 AVAILABLE", server=srv)
    assert predict_value(srv) == 2.0
    delete_version(gcs, "m", 2, names2)
    wait_until(lambda: version_states(srv).get(2) == "END", what="version 2 END", server=srv)
    assert predict_value(srv) == 1.0
    # The access token is cached: one token request for many polls.
    time.sleep(2)
    assert gcs.stats()["token_requests"] == 1
    log = srv.read_log()
    assert "PRIVATE KEY" not in log and pem.splitlines()[1] not in log


def test_token_is_refreshed_before_it_expires(peers, cloud_server, tmp_path):
    gcs, cred, _ = authenticated(peers, tmp_path, extra=["--token-lifetime", "4"])
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m", "--file_system_poll_wait_seconds", "1"],
                       gcs_env(gcs, cred), wait_for="m")
    # Tokens live 4 s and are renewed at half-life: polling keeps working past several lifetimes.
    time.sleep(9)
    upload_version(gcs, "m", 2, 2, str(tmp_path))
    wait_until(lambda: version_states(srv).get(2) == "AVAILABLE", what="version 2 AVAILABLE", server=srv)
    assert gcs.stats()["token_requests"] >= 3
    assert "401" not in srv.read_log()


def test_anonymous_public_bucket(peers, cloud_server, tmp_path):
    gcs = peers()
    upload_version(gcs, "pub/m", 4, 4, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/pub/m"], gcs_env(gcs), wait_for="m")
    assert predict_value(srv) == 4.0
    assert "anonymous" in srv.read_log()


def test_wrong_service_account_key(peers, cloud_server, tmp_path):
    gcs, _, _ = authenticated(peers, tmp_path)
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    # A key the server does not know (same e-mail and token URI, different RSA key).
    other_cred, _, other_pem = make_service_account(str(tmp_path), f"{gcs.url}/token")
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m"], gcs_env(gcs, other_cred),
                       expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    log = srv.read_log()
    assert "OAuth2 access token" in log and "invalid_grant" in log, log
    assert other_pem.splitlines()[1] not in log


def test_server_stopped_mid_download_keeps_old_version(peers, cloud_server, tmp_path):
    from conftest import free_port
    port = free_port()
    gcs = peers(port=port, extra=["--throttle", str(2 * 1024 * 1024)])
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m", "--file_system_poll_wait_seconds", "1"],
                       gcs_env(gcs), wait_for="m")
    assert predict_value(srv) == 1.0
    # Version 2 carries 40 MB: at 2 MB/s its download takes ~20 s; stop the server during it.
    upload_version(gcs, "m", 2, 2, str(tmp_path), extra_files={"weights.bin": os.urandom(40 * 1024 * 1024)})
    wait_until(lambda: "Downloading gs://models/m/2" in srv.read_log(), what="the download to start", server=srv)
    time.sleep(1.5)
    gcs.stop()
    wait_until(lambda: "Downloading gs://models/m/2 failed" in srv.read_log(), what="the failure", server=srv)
    # The serving version keeps serving; no half-downloaded version was loaded.
    assert predict_value(srv) == 1.0
    assert version_states(srv).get(1) == "AVAILABLE"
    assert version_states(srv).get(2) != "AVAILABLE"
    cache = [n for n in os.listdir(srv.log_path.rsplit("/", 1)[0]) if n.startswith("ovms-remote-")]
    for c in cache:
        root = os.path.join(srv.log_path.rsplit("/", 1)[0], c)
        assert not [n for n in os.listdir(root) if n.startswith(".partial-")], os.listdir(root)
    # The server comes back (unthrottled): the next attempt, after the backoff, loads version 2.
    peers(port=port)
    wait_until(lambda: version_states(srv).get(2) == "AVAILABLE", timeout=90, what="version 2 after restart",
               server=srv)
    assert predict_value(srv) == 2.0
    with open(os.path.join(gcs.root, "models", "m", "2", "weights.bin"), "rb") as f:
        assert cached_copy(srv, "m/2", "weights.bin") == f.read()


def test_versions_download_concurrently(peers, cloud_server, tmp_path):
    # Each version carries 3 MB served at 1 MB/s: one after another they would take 9 s.
    gcs = peers(extra=["--throttle", str(1024 * 1024)])
    for v in (1, 2, 3):
        upload_version(gcs, "m", v, v, str(tmp_path), extra_files={"pad.bin": os.urandom(3 * 1024 * 1024)})
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m", "--model_version_policy",
                        '{"all": {}}'], gcs_env(gcs))
    wait_until(lambda: all(version_states(srv).get(v) == "AVAILABLE" for v in (1, 2, 3)), timeout=120,
               what="versions 1-3 AVAILABLE", server=srv)
    lines = [ln for ln in srv.read_log().splitlines() if "Downloading gs://" in ln or "Downloaded gs://" in ln]
    first_done = next(i for i, ln in enumerate(lines) if "Downloaded gs://" in ln)
    started_before = [ln for ln in lines[:first_done] if "Downloading gs://" in ln]
    assert len(started_before) == 3, "\n".join(lines)
    assert [predict_value(srv, version=v) for v in (1, 2, 3)] == [1.0, 2.0, 3.0]


def test_models_download_concurrently(peers, cloud_server, tmp_path):
    # Three models in one config.json, each with 3 MB served at 1 MB/s: one model after another they
    # would take 9 s; the manager loads different models at the same time.
    import json
    gcs = peers(extra=["--throttle", str(1024 * 1024)])
    names = ("m1", "m2", "m3")
    for i, name in enumerate(names):
        upload_version(gcs, name, 1, i + 1, str(tmp_path), extra_files={"pad.bin": os.urandom(3 * 1024 * 1024)})
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_config_list": [
        {"config": {"name": n, "base_path": f"gs://models/{n}"}} for n in names]}))
    srv = cloud_server(["--config_path", str(config)], gcs_env(gcs))
    wait_until(lambda: all(version_states(srv, n).get(1) == "AVAILABLE" for n in names), timeout=120,
               what="m1-m3 AVAILABLE", server=srv)
    lines = [ln for ln in srv.read_log().splitlines() if "Downloading gs://" in ln or "Downloaded gs://" in ln]
    first_done = next(i for i, ln in enumerate(lines) if "Downloaded gs://" in ln)
    started_before = {n for n in names for ln in lines[:first_done] if f"gs://models/{n}/" in ln}
    assert started_before == set(names), "\n".join(lines)
    assert [predict_value(srv, model=n) for n in names] == [1.0, 2.0, 3.0]


def test_failed_first_download_is_retried_with_backoff(peers, cloud_server, tmp_path):
    # The first 3 downloads fail (503): the server stays up, reports why, backs off (1 s, 2 s, 4 s)
    # and serves the model once a download succeeds.
    gcs = peers(extra=["--fail-media", "3"])
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m", "--file_system_poll_wait_seconds", "1"],
                       gcs_env(gcs))
    wait_until(lambda: "Downloading gs://models/m/1 failed" in srv.read_log(), what="the first failure", server=srv)
    assert "HTTP 503: Backend Error" in srv.read_log()
    assert srv.proc.poll() is None
    t0 = time.time()
    wait_until(lambda: version_states(srv).get(1) == "AVAILABLE", timeout=60, what="version 1 AVAILABLE", server=srv)
    assert predict_value(srv) == 1.0
    # Backoff: 3 failures then a success take at least 1 + 2 + 4 s after the first; polls in between
    # did not each reach the server.
    assert time.time() - t0 >= 5
    assert gcs.stats()["media_requests"] == 4
    log = srv.read_log()
    assert "next attempt in 4 s" in log and "Storage access to gs://models/m/1 works again" in log


def test_stalled_download_times_out_and_old_version_serves(peers, cloud_server, tmp_path):
    gcs = peers(extra=["--stall-over", str(1024 * 1024)])
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    env = dict(gcs_env(gcs), OVMS_STORAGE_STALL_TIMEOUT="2")
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m", "--file_system_poll_wait_seconds", "1"],
                       env, wait_for="m")
    upload_version(gcs, "m", 2, 2, str(tmp_path), extra_files={"weights.bin": os.urandom(4 * 1024 * 1024)})
    wait_until(lambda: "Downloading gs://models/m/2 failed" in srv.read_log(), timeout=60, what="the timeout",
               server=srv)
    assert "Operation too slow" in srv.read_log() or "Timeout was reached" in srv.read_log()
    assert predict_value(srv) == 1.0
    assert version_states(srv).get(2) != "AVAILABLE"


def test_unreadable_credentials_file(peers, cloud_server, tmp_path):
    gcs = peers()
    upload_version(gcs, "m", 1, 1, str(tmp_path))
    srv = cloud_server(["--model_name", "m", "--model_path", "gs://models/m"],
                       gcs_env(gcs, str(tmp_path / "no-such-key.json")), expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    assert "GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read" in srv.read_log()
