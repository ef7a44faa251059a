"""batch_size, shape and layout model options end to end (§7), through TFS REST."""
import json

import numpy as np
import pytest

import shape_models as sm
from conftest import http


def serve(start_server, repo, *extra, wait=True):
    return start_server(["--model_name", "m", "--model_path", repo, *extra], wait_for="m" if wait else None)


def test_batch_size_fixed_on_dynamic_model(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = serve(start_server, repo, "--batch_size", "4")
    assert sm.metadata_dims(srv, "m") == {"inputs": {"x": [4, 3]}, "outputs": {"y": [4, 3]}}
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    status, body = sm.predict(srv, "m", {"x": x})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["outputs"]), x * 2)
    status, body = sm.predict(srv, "m", {"x": x[:3]})
    assert (status, body) == (400, {"error": "Invalid input batch size - Expected: 4; Actual: 3; input name: x"})


def test_batch_size_range(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), [1, 3])
    srv = serve(start_server, repo, "--batch_size", "2:3")
    assert sm.metadata_dims(srv, "m")["inputs"] == {"x": [-1, 3]}
    assert sm.predict(srv, "m", {"x": np.ones((3, 3), np.float32)})[0] == 200
    status, body = sm.predict(srv, "m", {"x": np.ones((4, 3), np.float32)})
    assert (status, body) == (400, {"error": "Invalid input batch size - Expected: [2~3]; Actual: 4; input name: x"})


def test_shape_tuple(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", "k"])
    srv = serve(start_server, repo, "--shape", "(2, 5)")
    assert sm.metadata_dims(srv, "m") == {"inputs": {"x": [2, 5]}, "outputs": {"y": [2, 5]}}
    assert sm.predict(srv, "m", {"x": np.ones((2, 5), np.float32)})[0] == 200
    status, body = sm.predict(srv, "m", {"x": np.ones((2, 4), np.float32)})
    assert (status, body) == (400, {"error": "Invalid input shape - Expected: (2,5); Actual: (2,4); input name: x"})


def test_shape_wins_over_batch_size(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = serve(start_server, repo, "--shape", "(5,3)", "--batch_size", "2")
    assert sm.metadata_dims(srv, "m")["inputs"] == {"x": [5, 3]}


def test_shape_map_with_mapping_config(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3], mapping={"inputs": {"x": "pixels"}, "outputs": {"y": "out"}})
    srv = serve(start_server, repo, "--shape", '{"pixels": "(6,3)"}')
    assert sm.metadata_dims(srv, "m") == {"inputs": {"pixels": [6, 3]}, "outputs": {"out": [6, 3]}}
    status, body = sm.predict(srv, "m", {"pixels": np.ones((6, 3), np.float32)})
    assert status == 200 and np.array(body["outputs"]).shape == (6, 3)


def test_shape_map_unknown_name(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = serve(start_server, repo, "--shape", '{"nope": "(6,3)"}', wait=False)
    sm.wait_status(srv, "m", ("LOADING", "UNKNOWN"))
    assert "Shape from config not found in model" in srv.read_log()


def test_shape_range(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), [1, 3, 8])
    srv = serve(start_server, repo, "--shape", "(1,3,2:10)")
    assert sm.metadata_dims(srv, "m")["inputs"] == {"x": [1, 3, -1]}
    for width in (2, 7, 10):
        status, body = sm.predict(srv, "m", {"x": np.ones((1, 3, width), np.float32)})
        assert status == 200, body
        assert np.array(body["outputs"]).shape == (1, 3, width)
    status, body = sm.predict(srv, "m", {"x": np.ones((1, 3, 11), np.float32)})
    assert (status, body) == (400, {"error": "Invalid input shape - Expected: (1,3,[2~10]); Actual: (1,3,11); "
                                             "input name: x"})


@pytest.mark.parametrize("flag", [["--shape", "auto"], ["--batch_size", "auto"]])
def test_auto_accepts_any_shape(start_server, tmp_path, flag):
    repo = sm.add_fixed(str(tmp_path / "m"), (1, 10)) if flag[0] == "--batch_size" else \
        sm.scale(str(tmp_path / "m"), [1, 10])
    srv = serve(start_server, repo, *flag)
    # Issue #13: metadata shows what OVMS shows: the model's own shape until a request changes it, then the
    # shapes of the last request served (inputs and outputs), though no reload happens here.
    assert sm.metadata_dims(srv, "m") == {"inputs": {"x": [1, 10]}, "outputs": {"y": [1, 10]}}
    for batch in (1, 3, 8):
        status, body = sm.predict(srv, "m", {"x": np.ones((batch, 10), np.float32)})
        assert status == 200, body
        assert np.array(body["outputs"]).shape == (batch, 10)
        assert sm.metadata_dims(srv, "m") == {"inputs": {"x": [batch, 10]}, "outputs": {"y": [batch, 10]}}
        code, _, meta = http("GET", f"{srv.rest}/v2/models/m")
        meta = json.loads(meta)
        assert [meta["inputs"][0]["shape"], meta["outputs"][0]["shape"]] == [[batch, 10], [batch, 10]]
    # A rejected request changes nothing.
    status, _ = sm.predict(srv, "m", {"x": np.ones((2, 10, 1), np.float32)})
    assert status == 400
    assert sm.metadata_dims(srv, "m")["inputs"]["x"] == [8, 10]


def test_layout_nhwc_to_nchw(start_server, tmp_path):
    repo = sm.channel_scale_nchw(str(tmp_path / "m"), (1, 3, 2, 4))
    srv = serve(start_server, repo, "--layout", "NHWC:NCHW")
    # The client sends NHWC; the model output stays NCHW.
    assert sm.metadata_dims(srv, "m") == {"inputs": {"x": [1, 2, 4, 3]}, "outputs": {"y": [1, 3, 2, 4]}}
    x_nhwc = np.random.default_rng(1).standard_normal((1, 2, 4, 3)).astype(np.float32)
    status, body = sm.predict(srv, "m", {"x": x_nhwc})
    assert status == 200, body
    expected = sm.channel_scale_reference(x_nhwc.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(np.array(body["outputs"]), expected, rtol=1e-5, atol=1e-5)


def test_layout_output_map_form(start_server, tmp_path):
    repo = sm.channel_scale_nchw(str(tmp_path / "m"), (1, 3, 2, 4))
    srv = serve(start_server, repo, "--layout", '{"x": "nhwc:nchw", "y": "NHWC:NCHW"}')
    assert sm.metadata_dims(srv, "m") == {"inputs": {"x": [1, 2, 4, 3]}, "outputs": {"y": [1, 2, 4, 3]}}
    x_nhwc = np.random.default_rng(2).standard_normal((1, 2, 4, 3)).astype(np.float32)
    status, body = sm.predict(srv, "m", {"x": x_nhwc})
    assert status == 200, body
    expected = sm.channel_scale_reference(x_nhwc.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.array(body["outputs"]), expected, rtol=1e-5, atol=1e-5)


def test_layout_declares_batch_position(start_server, tmp_path):
    repo = sm.scale(str(tmp_path / "m"), [3, "n"])
    srv = serve(start_server, repo, "--layout", "CN", "--batch_size", "5")
    assert sm.metadata_dims(srv, "m")["inputs"] == {"x": [3, 5]}
    status, body = sm.predict(srv, "m", {"x": np.ones((3, 4), np.float32)})
    assert (status, body) == (400, {"error": "Invalid input batch size - Expected: 5; Actual: 4; input name: x"})


@pytest.mark.parametrize("shape", ["(2,5)", "(1,3,224,224)", "(1,3,300)"])
def test_shape_the_graph_cannot_take_keeps_the_original_shape(start_server, tmp_path, shape):
    """Issue #13: as OVMS's guide says, a shape that cannot be applied leaves the model at its original shape and
    the problem is logged; the model serves at that shape."""
    repo = sm.add_fixed(str(tmp_path / "m"), (1, 10))
    srv = serve(start_server, repo, "--shape", shape)
    assert sm.metadata_dims(srv, "m")["inputs"] == {"x": [1, 10]}
    status, body = sm.predict(srv, "m", {"x": np.ones((1, 10), np.float32)})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["outputs"]), np.full((1, 10), 2.0))
    log = srv.read_log()
    assert f"Model m could not be reshaped with requested shape {shape}" in log, log[-3000:]
    assert "it keeps its original shape" in log


def test_fixed_reshape_inside_the_graph_keeps_the_original_shape(start_server, tmp_path):
    """A rank-compatible shape that a constant Reshape inside the graph cannot take is found by a trial run at load,
    not by the first client (which used to get INTERNAL)."""
    from onnx import TensorProto, helper, numpy_helper
    repo = str(tmp_path / "m")
    target = numpy_helper.from_array(np.array([1, 48], dtype=np.int64), "target")
    g = helper.make_graph([helper.make_node("Reshape", ["x", "target"], ["y"])], "fixed_reshape",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 48])], [target])
    sm._save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo)
    srv = serve(start_server, repo, "--shape", "(1,3,8,8)")
    assert sm.metadata_dims(srv, "m")["inputs"] == {"x": [1, 3, 4, 4]}
    status, body = sm.predict(srv, "m", {"x": np.ones((1, 3, 4, 4), np.float32)})
    assert status == 200, body
    assert "Model m could not be reshaped with requested shape (1,3,8,8)" in srv.read_log()


@pytest.mark.parametrize("flag,message", [
    (["--shape", "(1,x)"], "The provided shape is in wrong format"),
    (["--batch_size", "0:4"], "The provided shape is in wrong format"),
    (["--layout", "NCHWX"], "The provided layout is in wrong format"),
])
def test_wrong_format_stops_single_model_server(start_server, tmp_path, flag, message):
    repo = sm.scale(str(tmp_path / "m"), ["n", 3])
    srv = serve(start_server, repo, *flag, wait=False)
    assert srv.proc.wait(timeout=30) == 1
    assert message in srv.read_log()
    srv.proc.returncode = 0  # the fixture checks for a clean exit


def test_ir_model_layout_and_batch(start_server):
    from conftest import TEST_MODELS
    import os
    repo = os.path.join(TEST_MODELS, "increment_1x3x4x5")
    if not os.path.isdir(repo):
        pytest.skip("../shared fixtures not present")
    srv = serve(start_server, repo, "--layout", "NHWC:NCHW", "--batch_size", "2")
    dims = sm.metadata_dims(srv, "m")
    assert list(dims["inputs"].values()) == [[2, 4, 5, 3]]
    assert list(dims["outputs"].values()) == [[2, 3, 4, 5]]
    name = next(iter(dims["inputs"]))
    x = np.random.default_rng(4).standard_normal((2, 4, 5, 3)).astype(np.float32)
    status, body = sm.predict(srv, "m", {name: x})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["outputs"]), x.transpose(0, 3, 1, 2) + 1, rtol=1e-6)
