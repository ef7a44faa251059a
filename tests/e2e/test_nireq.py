"""nireq and plugin_config end to end."""
import threading

import numpy as np

import shape_models as sm


def test_nireq_1_with_8_concurrent_clients(start_server, tmp_path):
    repo = sm.heavy(str(tmp_path / "m"))
    srv = start_server(["--model_name", "m", "--model_path", repo, "--nireq", "1",
                        "--rest_workers", "8"], wait_for="m")
    results = [None] * 8
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal((16, 256)).astype(np.float32) for _ in range(8)]

    def client(i):
        results[i] = sm.predict(srv, "m", {"x": inputs[i]}, timeout=120)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (status, body) in enumerate(results):
        assert status == 200, body
        np.testing.assert_allclose(np.array(body["outputs"]), sm.heavy_reference(repo, inputs[i]),
                                   rtol=1e-3, atol=1e-3)


def test_unknown_plugin_config_key(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--plugin_config", '{"NOT_A_KEY": "1"}'])
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    log = srv.read_log()
    assert "Plugin config contains unsupported keys" in log and "NOT_A_KEY" in log


def test_known_plugin_config_serves(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--plugin_config",
                        '{"NUM_STREAMS": "2", "PERFORMANCE_HINT": "LATENCY"}'], wait_for="m")
    assert sm.predict(srv, "m", {"x": np.ones((1, 3), np.float32)})[0] == 200


def test_nireq_too_high(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--nireq", "100001"])
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    assert "Nireq parameter too high" in srv.read_log()
