"""TF-Serving gRPC API end to end: python3-grpcio with stubs generated from our protos."""
import os
import threading

import grpc
import numpy as np
import pytest

import model_factory
from conftest import DEMO_MODEL
from demo_reference import demo_probabilities

DEMO_ONNX = os.path.join(DEMO_MODEL, "1", "model.onnx")
SAMPLES = np.array([[5.1, 3.5, 1.4, 0.2], [6.0, 2.8, 4.5, 1.4], [6.7, 3.0, 5.8, 2.2]], dtype=np.float32)


def make_tensor(pb, array, dtype_name, typed=False):
    t = pb.tensor.TensorProto()
    t.dtype = pb.types.DataType.Value(dtype_name)
    for d in array.shape:
        t.tensor_shape.dim.add().size = d
    if not typed:
        t.tensor_content = array.tobytes()
        return t
    flat = array.reshape(-1)
    if array.dtype == np.float32:
        t.float_val.extend(flat.tolist())
    elif array.dtype == np.float64:
        t.double_val.extend(flat.tolist())
    elif array.dtype == np.float16:
        t.half_val.extend(flat.view(np.uint16).tolist())
    elif array.dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32):
        t.int_val.extend(flat.tolist())
    elif array.dtype == np.int64:
        t.int64_val.extend(flat.tolist())
    elif array.dtype == np.uint32:
        t.uint32_val.extend(flat.tolist())
    elif array.dtype == np.uint64:
        t.uint64_val.extend(flat.tolist())
    elif array.dtype == np.bool_:
        t.bool_val.extend(flat.tolist())
    return t


def to_numpy(pb, t, dtype):
    shape = [d.size for d in t.tensor_shape.dim]
    return np.frombuffer(t.tensor_content, dtype=dtype).reshape(shape)


def predict_request(pb, model, inputs, version=None):
    req = pb.predict.PredictRequest()
    req.model_spec.name = model
    if version is not None:
        req.model_spec.version.value = version
    for k, v in inputs.items():
        req.inputs[k].CopyFrom(v)
    return req


@pytest.fixture
def stub(pb, demo_server):
    ch = grpc.insecure_channel(demo_server.grpc_address,
                               options=[("grpc.max_send_message_length", 1 << 30),
                                        ("grpc.max_receive_message_length", 1 << 30)])
    yield pb.prediction_grpc.PredictionServiceStub(ch), pb.model_grpc.ModelServiceStub(ch)
    ch.close()


@pytest.mark.parametrize("typed", [False, True], ids=["tensor_content", "float_val"])
def test_predict_demo_matches_reference(pb, stub, typed):
    predict, _ = stub
    req = predict_request(pb, "demo", {"features": make_tensor(pb, SAMPLES, "DT_FLOAT", typed)})
    resp = predict.Predict(req, timeout=30)
    assert list(resp.outputs.keys()) == ["probabilities"]
    out = resp.outputs["probabilities"]
    assert out.dtype == pb.types.DT_FLOAT
    got = to_numpy(pb, out, np.float32)
    np.testing.assert_allclose(got, demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)
    assert list(got.argmax(axis=1)) == [0, 1, 2]


def test_predict_explicit_version(pb, stub):
    predict, _ = stub
    req = predict_request(pb, "demo", {"features": make_tensor(pb, SAMPLES, "DT_FLOAT")}, version=1)
    assert "probabilities" in predict.Predict(req, timeout=30).outputs


def test_metadata(pb, stub):
    predict, _ = stub
    req = pb.metadata.GetModelMetadataRequest()
    req.model_spec.name = "demo"
    req.metadata_field.append("signature_def")
    resp = predict.GetModelMetadata(req, timeout=10)
    assert resp.model_spec.name == "demo" and resp.model_spec.version.value == 1
    sigmap = pb.metadata.SignatureDefMap()
    assert resp.metadata["signature_def"].Unpack(sigmap)
    sig = sigmap.signature_def["serving_default"]
    assert sig.inputs["features"].dtype == pb.types.DT_FLOAT
    assert [d.size for d in sig.inputs["features"].tensor_shape.dim] == [-1, 4]
    assert [d.size for d in sig.outputs["probabilities"].tensor_shape.dim] == [-1, 3]


def test_metadata_errors(pb, stub):
    predict, _ = stub
    req = pb.metadata.GetModelMetadataRequest()
    req.model_spec.name = "demo"
    with pytest.raises(grpc.RpcError) as e:
        predict.GetModelMetadata(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details() == "Invalid signature name"
    with pytest.raises(grpc.RpcError) as e:
        predict.GetModelMetadata(pb.metadata.GetModelMetadataRequest(metadata_field=["signature_def"]), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and e.value.details() == "model_spec missing in request"
    req.metadata_field.append("signature_def")
    req.model_spec.name = "nope"
    with pytest.raises(grpc.RpcError) as e:
        predict.GetModelMetadata(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and e.value.details() == "Model with requested name is not found"


def test_model_status(pb, stub):
    _, model = stub
    req = pb.status.GetModelStatusRequest()
    req.model_spec.name = "demo"
    resp = model.GetModelStatus(req, timeout=10)
    assert len(resp.model_version_status) == 1
    s = resp.model_version_status[0]
    assert s.version == 1 and s.state == pb.status.ModelVersionStatus.AVAILABLE
    assert s.status.error_code == 0 and s.status.error_message == "OK"
    req.model_spec.version.value = 7
    with pytest.raises(grpc.RpcError) as e:
        model.GetModelStatus(req, timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert e.value.details() == "Model with requested version is not found"


def test_reload_config_request_is_ok(pb, stub):
    _, model = stub
    from tensorflow_serving.apis import model_management_pb2
    resp = model.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(), timeout=10)
    # A no-op that returns OK (OVMS reloads by itself): an empty response, and the model still serves.
    assert resp == model_management_pb2.ReloadConfigResponse() and not resp.HasField("status")
    status = model.GetModelStatus(pb.status.GetModelStatusRequest(model_spec={"name": "demo"}), timeout=10)
    assert status.model_version_status[0].state == pb.status.ModelVersionStatus.AVAILABLE


def expect_error(fn, code, details):
    with pytest.raises(grpc.RpcError) as e:
        fn()
    assert e.value.code() == code, e.value.details()
    assert e.value.details() == details


def test_request_errors(pb, stub):
    predict, _ = stub
    call = lambda inputs, model="demo", version=None: (
        lambda: predict.Predict(predict_request(pb, model, inputs, version), timeout=10))
    good = make_tensor(pb, SAMPLES, "DT_FLOAT")
    expect_error(call({"features": good}, model="missing"), grpc.StatusCode.NOT_FOUND,
                 "Pipeline with requested name is not found")
    expect_error(call({"features": good}, version=5), grpc.StatusCode.NOT_FOUND,
                 "Model with requested version is not found")
    expect_error(call({}), grpc.StatusCode.INVALID_ARGUMENT, "Invalid number of inputs - Expected: 1; Actual: 0")
    expect_error(call({"features": good, "extra": good}), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of inputs - Expected: 1; Actual: 2")
    expect_error(call({"feature": good}), grpc.StatusCode.INVALID_ARGUMENT,
                 "Missing input with specific name - Required input: features")
    expect_error(call({"features": make_tensor(pb, SAMPLES.astype(np.int32), "DT_INT32")}),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input precision - Expected: FP32; Actual: I32; input name: features")
    expect_error(call({"features": make_tensor(pb, SAMPLES.reshape(3, 4, 1), "DT_FLOAT")}),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of shape dimensions - Expected: (-1,4); Actual: (3,4,1); input name: features")
    expect_error(call({"features": make_tensor(pb, np.zeros((3, 5), np.float32), "DT_FLOAT")}),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid input shape - Expected: (-1,4); Actual: (3,5); input name: features")
    # Declared shape disagrees with the bytes actually sent.
    short = make_tensor(pb, SAMPLES, "DT_FLOAT")
    short.tensor_content = short.tensor_content[:-4]
    expect_error(call({"features": short}), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid content size of tensor proto - Expected: 48 bytes; Actual: 44 bytes; input name: features")
    empty = make_tensor(pb, SAMPLES, "DT_FLOAT")
    empty.tensor_content = b""
    expect_error(call({"features": empty}), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid content size of tensor proto - Expected: 48 bytes; Actual: 0 bytes; input name: features")
    typed_short = make_tensor(pb, SAMPLES, "DT_FLOAT", typed=True)
    del typed_short.float_val[-1]
    expect_error(call({"features": typed_short}), grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of values in tensor proto container - Expected: 12; Actual: 11; input name: features")
    # Negative and huge declared dims: refused before anything is allocated.
    neg = make_tensor(pb, SAMPLES, "DT_FLOAT")
    neg.tensor_shape.dim[0].size = -3
    with pytest.raises(grpc.RpcError) as e:
        call({"features": neg})()
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().startswith("Invalid input shape - Negative or zero dimension size is not acceptable")
    huge = make_tensor(pb, SAMPLES, "DT_FLOAT")
    huge.tensor_shape.dim[0].size = 1 << 60
    with pytest.raises(grpc.RpcError) as e:
        call({"features": huge})()
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().startswith("Invalid content size of tensor proto")
    huge_typed = make_tensor(pb, SAMPLES, "DT_FLOAT", typed=True)
    huge_typed.tensor_shape.dim[0].size = 1 << 40
    with pytest.raises(grpc.RpcError) as e:
        call({"features": huge_typed})()
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The server still serves after all of that.
    assert "probabilities" in call({"features": good})().outputs


def test_malformed_protobuf(pb, demo_server, stub):
    ch = grpc.insecure_channel(demo_server.grpc_address)
    raw = ch.unary_unary("/tensorflow.serving.PredictionService/Predict",
                         request_serializer=lambda b: b, response_deserializer=lambda b: b)
    for garbage in [b"\xff\xff\xff\xff", b"\x0a\x05abc", b"\x12\xff\xff\xff\xff\x0f"]:
        with pytest.raises(grpc.RpcError) as e:
            raw(garbage, timeout=10)
        assert e.value.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT,
                                  grpc.StatusCode.NOT_FOUND)
    ch.close()
    predict, _ = stub
    req = predict_request(pb, "demo", {"features": make_tensor(pb, SAMPLES, "DT_FLOAT")})
    assert "probabilities" in predict.Predict(req, timeout=10).outputs


def test_large_message_accepted(pb, stub):
    predict, _ = stub
    batch = 1 << 21  # 32 MiB of input, far above gRPC's 4 MiB default
    x = np.tile(SAMPLES, (batch // 3 + 1, 1))[:batch]
    req = predict_request(pb, "demo", {"features": make_tensor(pb, x, "DT_FLOAT")})
    got = to_numpy(pb, predict.Predict(req, timeout=120).outputs["probabilities"], np.float32)
    assert got.shape == (batch, 3)
    np.testing.assert_allclose(got[:3], demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)


def test_concurrent_requests(pb, stub):
    predict, _ = stub
    errors = []

    def worker(i):
        try:
            x = SAMPLES + np.float32(i % 3) * 0.01
            req = predict_request(pb, "demo", {"features": make_tensor(pb, x, "DT_FLOAT")})
            for _ in range(20):
                got = to_numpy(pb, predict.Predict(req, timeout=30).outputs["probabilities"], np.float32)
                np.testing.assert_allclose(got, demo_probabilities(DEMO_ONNX, x), rtol=1e-5, atol=1e-6)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors


@pytest.mark.parametrize("typed", [False, True], ids=["tensor_content", "typed_fields"])
def test_all_precisions(pb, start_server, tmp_path, typed):
    # Every precision OVMS's TF-Serving serializer writes (BOOL, U32 and U64 outputs it refuses: below).
    serializable = [p for p in model_factory.PRECISIONS if p not in TFS_UNSERIALIZABLE]
    repo = model_factory.all_types(str(tmp_path / "all_types"), precisions=serializable)
    srv = start_server(["--model_name", "all", "--model_path", repo], wait_for="all")
    ch = grpc.insecure_channel(srv.grpc_address)
    predict = pb.prediction_grpc.PredictionServiceStub(ch)
    rng = np.random.default_rng(1)
    arrays = {}
    for name, (_, dt, tfname, _) in model_factory.PRECISIONS.items():
        if name not in serializable:
            continue
        if dt == np.bool_:
            a = rng.integers(0, 2, size=(2, 3)).astype(np.bool_)
        elif np.issubdtype(dt, np.floating):
            a = rng.normal(size=(2, 3)).astype(dt)
        else:
            info = np.iinfo(dt)
            a = np.array([[info.min, info.max, 0], [1, 2, 3]], dtype=dt)
        arrays[name] = (a, tfname)
    req = predict_request(pb, "all", {f"in_{n}": make_tensor(pb, a, tf, typed) for n, (a, tf) in arrays.items()})
    resp = predict.Predict(req, timeout=30)
    for name, (a, tfname) in arrays.items():
        out = resp.outputs[f"out_{name}"]
        assert out.dtype == pb.types.DataType.Value(tfname), name
        np.testing.assert_array_equal(to_numpy(pb, out, a.dtype), a, err_msg=name)
    ch.close()


TFS_UNSERIALIZABLE = ("bool", "u32", "u64")


def test_outputs_tfs_cannot_serialize(pb, start_server, tmp_path):
    """As OVMS: a BOOL, U32 or U64 model output fails a TF-Serving Predict with INTERNAL "Unsupported
    serialization precision" (its serializer has no case for them); the inputs are accepted."""
    for name in TFS_UNSERIALIZABLE:
        _, dt, tfname, _ = model_factory.PRECISIONS[name]
        repo = model_factory.all_types(str(tmp_path / name), precisions=[name])
        srv = start_server(["--model_name", name, "--model_path", repo], wait_for=name)
        ch = grpc.insecure_channel(srv.grpc_address)
        predict = pb.prediction_grpc.PredictionServiceStub(ch)
        with pytest.raises(grpc.RpcError) as e:
            predict.Predict(predict_request(pb, name, {f"in_{name}": make_tensor(pb, np.ones((1, 3), dt), tfname, False)}),
                            timeout=30)
        assert e.value.code() == grpc.StatusCode.INTERNAL, name
        assert e.value.details() == "Unsupported serialization precision", name
        ch.close()


def test_scalar_and_two_inputs(pb, start_server, tmp_path):
    srv = start_server(["--model_name", "two", "--model_path", model_factory.two_inputs(str(tmp_path / "two"))],
                       wait_for="two")
    scalar = start_server(["--model_name", "scalar", "--model_path", model_factory.scalar(str(tmp_path / "scalar"))],
                          wait_for="scalar")
    sch = grpc.insecure_channel(scalar.grpc_address)
    sstub = pb.prediction_grpc.PredictionServiceStub(sch)
    # A rank-0 tensor: no dims in tensor_shape, one value; the answer is rank 0 too.
    for typed in (False, True):
        resp = sstub.Predict(predict_request(pb, "scalar", {"s": make_tensor(pb, np.array(1.25, np.float32), "DT_FLOAT",
                                                                             typed)}), timeout=10)
        out = resp.outputs["out"]
        assert len(out.tensor_shape.dim) == 0
        assert to_numpy(pb, out, np.float32).shape == () and to_numpy(pb, out, np.float32) == 2.5
    expect_error(lambda: sstub.Predict(predict_request(pb, "scalar", {"s": make_tensor(pb, np.ones(1, np.float32),
                                                                                        "DT_FLOAT")}), timeout=10),
                 grpc.StatusCode.INVALID_ARGUMENT,
                 "Invalid number of shape dimensions - Expected: (); Actual: (1); input name: s")
    sch.close()
    ch = grpc.insecure_channel(srv.grpc_address)
    predict = pb.prediction_grpc.PredictionServiceStub(ch)
    x = np.array([[1, 2], [3, 4]], np.float32)
    y = np.array([[10, 20], [30, 40]], np.float32)
    resp = predict.Predict(predict_request(pb, "two", {"x": make_tensor(pb, x, "DT_FLOAT"),
                                                       "y": make_tensor(pb, y, "DT_FLOAT")}), timeout=10)
    np.testing.assert_array_equal(to_numpy(pb, resp.outputs["sum"], np.float32), x + y)
    np.testing.assert_array_equal(to_numpy(pb, resp.outputs["product"], np.float32), x * y)
    ch.close()
