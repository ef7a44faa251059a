"""Models served from azure:// (and az://, azfs://) against Azurite on loopback, which checks the
Shared Key signature of every request: versions added and deleted remotely, a wrong account key,
and a missing container."""
import pytest

import os
import urllib.parse

from cloud_peers import (Azurite, cached_copy, cloud_server, delete_version, predict_value,  # noqa: F401
                         upload_version, version_states, wait_until)

WRONG_KEY = "d3Jvbmcta2V5LXRoYXQtbXVzdC1ub3QtYmUtbG9nZ2VkLXdyb25nLWtleS13cm9uZy1rZXk="


@pytest.fixture
def azurite(tmp_path):
    peer = Azurite(str(tmp_path))
    yield peer
    peer.stop()


def test_serves_a_model_and_follows_versions(azurite, cloud_server, tmp_path):
    upload_version(azurite, "m", 1, 1, str(tmp_path))
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string()}
    srv = cloud_server(["--model_name", "m", "--model_path", "azure://models/m", "--file_system_poll_wait_seconds",
                        "1"], env, wait_for="m")
    assert predict_value(srv) == 1.0
    # Names that need encoding, and a 40 MB blob fetched as two signed x-ms-range requests.
    big = os.urandom(40 * 1024 * 1024)
    names2 = upload_version(azurite, "m", 2, 2, str(tmp_path), extra_files={"dir with space/x+y.bin": b"z" * 1000,
                                                                            "big.bin": big})
    wait_until(lambda: version_states(srv).get(2) == "AVAILABLE", what="version 2 AVAILABLE", server=srv)
    assert predict_value(srv) == 2.0
    assert cached_copy(srv, "m/2", "big.bin") == big
    delete_version(azurite, "m", 2, names2)
    wait_until(lambda: version_states(srv).get(2) == "END", what="version 2 END", server=srv)
    assert predict_value(srv) == 1.0
    assert "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" not in srv.read_log()


@pytest.mark.parametrize("scheme", ["az", "azfs"])
def test_other_azure_schemes(azurite, cloud_server, tmp_path, scheme):
    upload_version(azurite, "n", 3, 3, str(tmp_path))
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string()}
    srv = cloud_server(["--model_name", "n", "--model_path", f"{scheme}://models/n"], env, wait_for="n")
    assert predict_value(srv, "n") == 3.0


def test_wrong_account_key(azurite, cloud_server, tmp_path):
    upload_version(azurite, "m", 1, 1, str(tmp_path))
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string(key=WRONG_KEY)}
    srv = cloud_server(["--model_name", "m", "--model_path", "azure://models/m"], env, expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    log = srv.read_log()
    assert "HTTP 403" in log and ("AuthorizationFailure" in log or "AuthenticationFailed" in log), log
    assert WRONG_KEY not in log


def test_missing_container_and_no_connection_string(azurite, cloud_server, tmp_path):
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string()}
    srv = cloud_server(["--model_name", "m", "--model_path", "azure://nocontainer/m"], env, expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    assert "ContainerNotFound" in srv.read_log()
    srv = cloud_server(["--model_name", "m", "--model_path", "azure://models/m"], {}, expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    assert "AZURE_STORAGE_CONNECTION_STRING is not set" in srv.read_log()


def test_sas_connection_string(azurite, cloud_server, tmp_path):
    upload_version(azurite, "s", 1, 6, str(tmp_path))
    sas = azurite.account_sas()
    srv = cloud_server(["--model_name", "s", "--model_path", "azure://models/s"],
                       {"AZURE_STORAGE_CONNECTION_STRING": azurite.sas_connection_string(sas)}, wait_for="s")
    assert predict_value(srv, "s") == 6.0
    log = srv.read_log()
    assert "SAS token" in log
    assert urllib.parse.parse_qs(sas)["sig"][0] not in log and "sig=" not in log
    # A SAS signed with another key is refused, and neither the SAS nor its signature is logged.
    bad = azurite.account_sas(key=WRONG_KEY)
    srv = cloud_server(["--model_name", "s", "--model_path", "azure://models/s"],
                       {"AZURE_STORAGE_CONNECTION_STRING": azurite.sas_connection_string(bad)}, expect_exit=True)
    assert srv.proc.wait(timeout=60) != 0
    log = srv.read_log()
    assert "HTTP 403" in log
    assert urllib.parse.parse_qs(bad)["sig"][0] not in log and "sig=" not in log
