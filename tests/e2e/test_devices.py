"""target_device end to end: CPU, MULTI/HETERO/AUTO over present devices, absent devices."""
import json

import numpy as np
import pytest

import shape_models as sm
from conftest import http


@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU,CPU", "HETERO:GPU,CPU", "AUTO", "AUTO:GPU,CPU", "MULTI:GPU,CPU"])
def test_present_devices_serve(start_server, tmp_path, device):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--target_device", device], wait_for="m")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    status, body = sm.predict(srv, "m", {"x": x})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["outputs"]), x * 2)
    if "GPU" in device and device.startswith(("MULTI:", "HETERO:")):
        # Issue #13: the absent devices and the ones used are named in a warning.
        assert f"Target device {device}: device(s) GPU not available on this host; using CPU" in srv.read_log()


@pytest.mark.parametrize("device", ["GPU", "NPU", "MYRIAD", "HDDL", "MULTI:NPU,GPU", "HETERO:NPU,GPU"])
def test_absent_device_leaves_version_loading(start_server, tmp_path, device):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--target_device", device])
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    log = srv.read_log()
    assert "Cannot compile model into target device" in log
    assert "Available devices: CPU" in log
    # No version is available, so there is no default version to infer on ...
    status, body = sm.predict(srv, "m", {"x": np.ones((1, 3), np.float32)}, timeout=30)
    assert (status, body) == (404, {"error": "Model with requested version is not found"})
    if device == "GPU":  # (once: it takes 10 s) ... and version 1 is waited for 10 s, then reported as loading
        status, _, body = http("POST", f"{srv.rest}/v1/models/m/versions/1:predict",
                               json.dumps({"inputs": {"x": [[1.0, 2.0, 3.0]]}}), timeout=30)
        assert (status, json.loads(body)) == (404, {"error": "Model with requested version is not loaded yet"})
    # and the server is still alive and answering
    assert http("GET", f"{srv.rest}/v2/health/live")[0] == 200
