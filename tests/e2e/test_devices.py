"""target_device end to end: CPU, MULTI/HETERO/AUTO over present devices, absent devices."""
import numpy as np
import pytest

import shape_models as sm


@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU,CPU", "HETERO:GPU,CPU", "AUTO", "AUTO:GPU,CPU"])
def test_present_devices_serve(start_server, tmp_path, device):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--target_device", device], wait_for="m")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    status, body = sm.predict(srv, "m", {"x": x})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["outputs"]), x * 2)


@pytest.mark.parametrize("device", ["GPU", "NPU", "MYRIAD", "HDDL", "MULTI:CPU,GPU", "HETERO:NPU,GPU"])
def test_absent_device_leaves_version_loading(start_server, tmp_path, device):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = start_server(["--model_name", "m", "--model_path", repo, "--target_device", device])
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    log = srv.read_log()
    assert "Cannot compile model into target device" in log
    assert "Available devices: CPU" in log
    # Inference on a version that never loads waits 10 s for it, then fails as OVMS does.
    status, body = sm.predict(srv, "m", {"x": np.ones((1, 3), np.float32)}, timeout=30)
    assert (status, body) == (404, {"error": "Model with requested version is not loaded yet"})
