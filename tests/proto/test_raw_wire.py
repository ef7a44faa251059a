"""Requests built byte by byte from the published wire format, not from our .proto files.

Every other e2e client uses stubs generated from our own protos, so a field renumbered on both sides would
go unnoticed. Here each message is encoded by hand (protobuf varint / length-delimited encoding) with the
field numbers of the published definitions:
  TF-Serving 2.x  tensorflow_serving/apis/{predict,model,get_model_status,get_model_metadata}.proto,
                  tensorflow/core/framework/{tensor,tensor_shape,types}.proto
  KServe v2       grpc_predict_v2.proto (package inference)
and sent over gRPC as opaque bytes; the answers are decoded by hand the same way."""
import os
import struct
import sys

import grpc
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from conftest import DEMO_MODEL, OvmsServer  # noqa: E402
from demo_reference import demo_probabilities  # noqa: E402

SAMPLES = np.array([[5.1, 3.5, 1.4, 0.2], [6.0, 2.8, 4.5, 1.4]], np.float32)
DEMO_ONNX = os.path.join(DEMO_MODEL, "1", "model.onnx")

# ---- protobuf wire encoding (https://protobuf.dev/programming-guides/encoding/) ----
VARINT, I64, LEN, I32 = 0, 1, 2, 5


def varint(n):
    n &= (1 << 64) - 1  # negative int64 values are ten-byte two's complement varints
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(number, wire_type):
    return varint(number << 3 | wire_type)


def field_varint(number, value):
    return tag(number, VARINT) + varint(value)


def field_bytes(number, data):
    data = data.encode() if isinstance(data, str) else data
    return tag(number, LEN) + varint(len(data)) + data


def packed_varints(number, values):
    return field_bytes(number, b"".join(varint(v) for v in values))


def decode(data):
    """{field number: [values]}: ints for varint/fixed fields, bytes for length-delimited ones."""
    fields, i = {}, 0

    def read_varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = read_varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value = read_varint()
        elif wire_type == LEN:
            n = read_varint()
            value = data[i:i + n]
            i += n
        elif wire_type == I64:
            value = struct.unpack_from("<Q", data, i)[0]
            i += 8
        elif wire_type == I32:
            value = struct.unpack_from("<I", data, i)[0]
            i += 4
        else:
            raise AssertionError(f"wire type {wire_type} of field {number}")
        fields.setdefault(number, []).append(value)
    return fields


def unpack_varints(data):
    out, i = [], 0
    while i < len(data):
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append(value)
    return out


def raw_call(address, path, request):
    """A unary gRPC call with bytes in and bytes out: no generated code involved."""
    with grpc.insecure_channel(address) as ch:
        call = ch.unary_unary(path, request_serializer=None, response_deserializer=None)
        return call(request, timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = OvmsServer(["--model_name", "demo", "--model_path", DEMO_MODEL], str(tmp_path_factory.mktemp("raw")))
    srv.wait_available("demo")
    yield srv
    assert srv.stop() == 0, srv.read_log()


# ---- TF-Serving 2.x ----
# ModelSpec: name = 1, version = 2 (google.protobuf.Int64Value {value = 1}), signature_name = 3
# PredictRequest: model_spec = 1, inputs = 2 (map<string, TensorProto>: entry key = 1, value = 2)
# PredictResponse: outputs = 1 (map<string, TensorProto>), model_spec = 2 (not filled by OVMS)
# TensorProto: dtype = 1 (DataType enum, DT_FLOAT = 1), tensor_shape = 2, tensor_content = 4, float_val = 5
# TensorShapeProto: dim = 2 (Dim: size = 1, name = 2)
DT_FLOAT = 1


def tfs_tensor(array):
    shape = b"".join(field_bytes(2, field_varint(1, d)) for d in array.shape)
    return field_varint(1, DT_FLOAT) + field_bytes(2, shape) + field_bytes(4, array.tobytes())


def tfs_model_spec(name, version=None):
    spec = field_bytes(1, name)
    if version is not None:
        spec += field_bytes(2, field_varint(1, version))
    return spec


def test_tfs_predict_from_raw_bytes(server):
    entry = field_bytes(1, "features") + field_bytes(2, tfs_tensor(SAMPLES))
    request = field_bytes(1, tfs_model_spec("demo", 1)) + field_bytes(2, entry)
    response = decode(raw_call(server.grpc_address, "/tensorflow.serving.PredictionService/Predict", request))
    assert set(response) == {1}  # OVMS does not fill PredictResponse.model_spec
    (entry,) = response[1]
    entry = decode(entry)
    assert entry[1] == [b"probabilities"]
    tensor = decode(entry[2][0])
    assert tensor[1] == [DT_FLOAT]
    dims = [decode(d)[1][0] for d in decode(tensor[2][0])[2]]
    assert dims == [2, 3]
    got = np.frombuffer(tensor[4][0], np.float32).reshape(dims)
    np.testing.assert_allclose(got, demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)


def test_tfs_typed_float_val_from_raw_bytes(server):
    # float_val = 5 is `repeated float`, packed (proto3 default): fixed 32-bit little-endian values
    shape = b"".join(field_bytes(2, field_varint(1, d)) for d in SAMPLES.shape)
    tensor = field_varint(1, DT_FLOAT) + field_bytes(2, shape) + field_bytes(5, SAMPLES.astype("<f4").tobytes())
    request = field_bytes(1, tfs_model_spec("demo")) + field_bytes(2, field_bytes(1, "features") + field_bytes(2, tensor))
    response = decode(raw_call(server.grpc_address, "/tensorflow.serving.PredictionService/Predict", request))
    tensor = decode(decode(response[1][0])[2][0])
    np.testing.assert_allclose(np.frombuffer(tensor[4][0], np.float32).reshape(2, 3),
                               demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)


def test_tfs_model_status_from_raw_bytes(server):
    # GetModelStatusRequest: model_spec = 1. Response: model_version_status = 1
    # ModelVersionStatus: version = 1 (int64), state = 2 (AVAILABLE = 30), status = 3 (StatusProto:
    # error_code = 1, error_message = 2)
    request = field_bytes(1, tfs_model_spec("demo"))
    response = decode(raw_call(server.grpc_address, "/tensorflow.serving.ModelService/GetModelStatus", request))
    (status,) = response[1]
    status = decode(status)
    assert status[1] == [1] and status[2] == [30]
    assert decode(status[3][0]).get(2) == [b"OK"]


def test_tfs_metadata_from_raw_bytes(server):
    # GetModelMetadataRequest: model_spec = 1, metadata_field = 2 ("signature_def").
    # Response: model_spec = 1, metadata = 2 (map<string, google.protobuf.Any>; Any: type_url = 1, value = 2)
    request = field_bytes(1, tfs_model_spec("demo")) + field_bytes(2, "signature_def")
    response = decode(raw_call(server.grpc_address, "/tensorflow.serving.PredictionService/GetModelMetadata",
                               request))
    assert decode(response[1][0])[1] == [b"demo"]
    entry = decode(response[2][0])
    assert entry[1] == [b"signature_def"]
    any_msg = decode(entry[2][0])
    assert any_msg[1] == [b"type.googleapis.com/tensorflow.serving.SignatureDefMap"]
    # SignatureDefMap: signature_def = 1 (map<string, SignatureDef>); SignatureDef: inputs = 1, outputs = 2,
    # method_name = 3; TensorInfo: name = 1, dtype = 2, tensor_shape = 3
    sig_entry = decode(decode(any_msg[2][0])[1][0])
    assert sig_entry[1] == [b"serving_default"]
    sig = decode(sig_entry[2][0])
    inputs = decode(sig[1][0])
    assert inputs[1] == [b"features"]
    info = decode(inputs[2][0])
    assert info[1] == [b"features"] and info[2] == [DT_FLOAT]
    dims = [decode(d)[1][0] for d in decode(info[3][0])[2]]
    assert dims == [(1 << 64) - 1, 4]  # -1 (dynamic) as a ten-byte varint
    assert decode(sig[2][0])[1] == [b"probabilities"]


# ---- KServe v2 (package inference) ----
# ModelInferRequest: model_name = 1, model_version = 2, id = 3, parameters = 4, inputs = 5, outputs = 6,
#                    raw_input_contents = 7
# InferInputTensor: name = 1, datatype = 2, shape = 3 (repeated int64, packed), parameters = 4, contents = 5
# ModelInferResponse: model_name = 1, model_version = 2, id = 3, parameters = 4, outputs = 5,
#                     raw_output_contents = 6
# InferOutputTensor: name = 1, datatype = 2, shape = 3, parameters = 4, contents = 5
# InferTensorContents: fp32_contents = 6 (repeated float, packed)

def test_kserve_infer_from_raw_bytes(server):
    tensor = field_bytes(1, "features") + field_bytes(2, "FP32") + packed_varints(3, SAMPLES.shape)
    request = (field_bytes(1, "demo") + field_bytes(2, "1") + field_bytes(3, "raw-1") + field_bytes(5, tensor) +
               field_bytes(7, SAMPLES.tobytes()))
    response = decode(raw_call(server.grpc_address, "/inference.GRPCInferenceService/ModelInfer", request))
    assert response[1] == [b"demo"] and response[2] == [b"1"] and response[3] == [b"raw-1"]
    (out,) = response[5]
    out = decode(out)
    assert out[1] == [b"probabilities"] and out[2] == [b"FP32"]
    assert unpack_varints(out[3][0]) == [2, 3]
    got = np.frombuffer(response[6][0], np.float32).reshape(2, 3)
    np.testing.assert_allclose(got, demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)


def test_kserve_typed_contents_from_raw_bytes(server):
    contents = field_bytes(6, SAMPLES.astype("<f4").tobytes())
    tensor = (field_bytes(1, "features") + field_bytes(2, "FP32") + packed_varints(3, SAMPLES.shape) +
              field_bytes(5, contents))
    response = decode(raw_call(server.grpc_address, "/inference.GRPCInferenceService/ModelInfer",
                               field_bytes(1, "demo") + field_bytes(5, tensor)))
    np.testing.assert_allclose(np.frombuffer(response[6][0], np.float32).reshape(2, 3),
                               demo_probabilities(DEMO_ONNX, SAMPLES), rtol=1e-5, atol=1e-6)


def test_kserve_health_and_metadata_from_raw_bytes(server):
    # ServerLiveResponse: live = 1; ServerReadyResponse: ready = 1; ModelReadyRequest: name = 1, version = 2;
    # ModelReadyResponse: ready = 1; ModelMetadataRequest: name = 1, version = 2; ModelMetadataResponse:
    # name = 1, versions = 2, platform = 3, inputs = 4, outputs = 5 (TensorMetadata: name = 1, datatype = 2,
    # shape = 3)
    base = "/inference.GRPCInferenceService/"
    assert decode(raw_call(server.grpc_address, base + "ServerLive", b"")) == {1: [1]}
    assert decode(raw_call(server.grpc_address, base + "ServerReady", b"")) == {1: [1]}
    assert decode(raw_call(server.grpc_address, base + "ModelReady", field_bytes(1, "demo"))) == {1: [1]}
    md = decode(raw_call(server.grpc_address, base + "ModelMetadata", field_bytes(1, "demo")))
    assert md[1] == [b"demo"] and md[2] == [b"1"] and md[3] == [b"OpenVINO"]
    (inp,) = md[4]
    inp = decode(inp)
    assert inp[1] == [b"features"] and inp[2] == [b"FP32"]
    assert unpack_varints(inp[3][0]) == [(1 << 64) - 1, 4]


def test_unknown_model_status_code_from_raw_bytes(server):
    request = field_bytes(1, "nope") + field_bytes(5, field_bytes(1, "features") + field_bytes(2, "FP32"))
    with pytest.raises(grpc.RpcError) as e:
        raw_call(server.grpc_address, "/inference.GRPCInferenceService/ModelInfer", request)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_unserved_tfs_methods_are_unimplemented(server):
    # Classify / Regress / MultiInference exist upstream; OVMS answers UNIMPLEMENTED, and so must we
    # (the justification of the difference pinned in upstream_contract_test.cpp).
    for method in ["Classify", "Regress", "MultiInference"]:
        with pytest.raises(grpc.RpcError) as e:
            raw_call(server.grpc_address, "/tensorflow.serving.PredictionService/" + method,
                     field_bytes(1, tfs_model_spec("demo")))
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED, method


# ---- native string tensors ----
# TensorProto: string_val = 8 (repeated bytes), DataType DT_STRING = 7
# InferTensorContents: bytes_contents = 8 (repeated bytes); raw BYTES: <uint32 LE length><bytes> per element
DT_STRING = 7
STRINGS = [b"a", b"", b"x\x00yz", b"\xff"]


@pytest.fixture(scope="module")
def strings_server(tmp_path_factory):
    import model_factory
    work = tmp_path_factory.mktemp("raw_strings")
    repo = model_factory.string_identity(str(work / "strings"))
    srv = OvmsServer(["--model_name", "strings", "--model_path", repo], str(work))
    srv.wait_available("strings")
    yield srv
    assert srv.stop() == 0, srv.read_log()


def test_tfs_string_val_from_raw_bytes(strings_server):
    shape = field_bytes(2, field_varint(1, len(STRINGS)))
    tensor = field_varint(1, DT_STRING) + field_bytes(2, shape) + b"".join(field_bytes(8, s) for s in STRINGS)
    request = field_bytes(1, tfs_model_spec("strings")) + field_bytes(2, field_bytes(1, "text") + field_bytes(2, tensor))
    response = decode(raw_call(strings_server.grpc_address, "/tensorflow.serving.PredictionService/Predict", request))
    assert set(response) == {1}
    entry = decode(response[1][0])
    assert entry[1] == [b"text_out"]
    out = decode(entry[2][0])
    assert out[1] == [DT_STRING] and out[8] == STRINGS and 4 not in out
    assert [decode(d)[1][0] for d in decode(out[2][0])[2]] == [len(STRINGS)]


def test_kserve_bytes_from_raw_bytes(strings_server):
    contents = b"".join(field_bytes(8, s) for s in STRINGS)
    tensor = field_bytes(1, "text") + field_bytes(2, "BYTES") + packed_varints(3, [len(STRINGS)])
    layout = b"".join(struct.pack("<I", len(s)) + s for s in STRINGS)
    for request in [field_bytes(1, "strings") + field_bytes(5, tensor + field_bytes(5, contents)),
                    field_bytes(1, "strings") + field_bytes(5, tensor) + field_bytes(7, layout)]:
        response = decode(raw_call(strings_server.grpc_address, "/inference.GRPCInferenceService/ModelInfer", request))
        out = decode(response[5][0])
        assert out[1] == [b"text_out"] and out[2] == [b"BYTES"] and unpack_varints(out[3][0]) == [len(STRINGS)]
        assert response[6] == [layout]
