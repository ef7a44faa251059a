"""Binary (JPEG/PNG) image inputs end to end (§7.4) through TF-Serving gRPC (string_val), TF-Serving
REST ({"b64": ...}), KServe gRPC (BYTES in bytes_contents or length-prefixed raw_input_contents) and
KServe REST (JSON BYTES strings and the binary data extension)."""
import base64
import json
import os
import struct

import grpc
import numpy as np
import pytest

import image_models
from conftest import OvmsServer, http, stubs_dir

JPEG, PNG, GRAY_PNG = "color.jpg", "color.png", "gray.png"
H, W = 48, 64  # size of the colour fixtures
JPEG_TOLERANCE = 2  # libjpeg-turbo vs PIL's libjpeg; measured 0 on these fixtures

# name -> (dims, precision, layout or None)
MODELS = {
    "u8": ((1, H, W, 3), "u8", None),
    "fp32": ((1, H, W, 3), "fp32", None),
    "u8_small_nhwc": ((1, 30, 40, 3), "u8", "NHWC"),        # downscale (factor 1.6)
    "fp32_big_nhwc": ((1, 100, 90, 3), "fp32", "NHWC"),     # upscale, different factors per axis
    "u8_batch2_nhwc": ((2, 30, 40, 3), "u8", "NHWC"),
    "u8_small": ((1, 30, 40, 3), "u8", None),               # default layout N...: resized as NHWC
    "dyn": (("n", "h", "w", 3), "u8", None),
    "dyn_nhwc": (("n", "h", "w", 3), "u8", "NHWC"),
    "range_nhwc": (("n", "h", "w", 3), "u8", "NHWC"),      # shape (1,20:40,70:90,3) from the config
}
SHAPES = {"range_nhwc": "(1,20:40,70:90,3)"}

APIS = ["tfs_grpc", "tfs_rest_row", "tfs_rest_column", "kserve_grpc", "kserve_grpc_raw", "kserve_rest_binary"]
TFS_APIS = {"tfs_grpc", "tfs_rest_row", "tfs_rest_column"}
GRPC_APIS = {"tfs_grpc", "kserve_grpc", "kserve_grpc_raw"}


@pytest.fixture(scope="session")
def kpb():
    stubs_dir()
    from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    return grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    configs = []
    for name, (dims, precision, layout) in MODELS.items():
        repo = image_models.identity(str(root / name), dims, precision)
        c = {"name": name, "base_path": repo}
        if layout:
            c["layout"] = layout
        if name in SHAPES:
            c["shape"] = SHAPES[name]
        configs.append({"config": c})
    cfg = root / "config.json"
    cfg.write_text(json.dumps({"model_config_list": configs}))
    server = OvmsServer(["--config_path", str(cfg)], str(root))
    try:
        for name in MODELS:
            server.wait_available(name)
    except Exception:
        server.stop()
        raise
    yield server
    assert server.stop() == 0, server.read_log()


@pytest.fixture(scope="module")
def channel(srv):
    ch = grpc.insecure_channel(srv.grpc_address)
    yield ch
    ch.close()


class Error(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def packed(items):
    return b"".join(struct.pack("<I", len(s)) + s for s in items)


def infer(api, srv, channel, pb, kpb, model, images, dtype):
    """Sends `images` (a list of encoded byte strings) to input "in"; returns output "out" as numpy or
    raises Error(grpc status code | HTTP status, message)."""
    if api == "tfs_grpc":
        req = pb.predict.PredictRequest()
        req.model_spec.name = model
        t = req.inputs["in"]
        t.dtype = pb.types.DT_STRING
        t.tensor_shape.dim.add().size = len(images)
        t.string_val.extend(images)
        try:
            resp = pb.prediction_grpc.PredictionServiceStub(channel).Predict(req, timeout=30)
        except grpc.RpcError as e:
            raise Error(e.code(), e.details())
        out = resp.outputs["out"]
        return np.frombuffer(out.tensor_content, dtype=dtype).reshape([d.size for d in out.tensor_shape.dim])
    if api in ("tfs_rest_row", "tfs_rest_column"):
        items = [{"b64": base64.b64encode(i).decode()} for i in images]
        body = {"instances": items} if api == "tfs_rest_row" else {"inputs": {"in": items}}
        status, _, resp = http("POST", f"{srv.rest}/v1/models/{model}:predict", json.dumps(body))
        js = json.loads(resp)
        if status != 200:
            raise Error(status, js["error"])
        return np.array(js["predictions" if api == "tfs_rest_row" else "outputs"], dtype=dtype)
    if api in ("kserve_grpc", "kserve_grpc_raw"):
        req = kpb[0].ModelInferRequest(model_name=model)
        inp = req.inputs.add(name="in", datatype="BYTES", shape=[len(images)])
        if api == "kserve_grpc":
            inp.contents.bytes_contents.extend(images)
        else:
            req.raw_input_contents.append(packed(images))
        try:
            resp = kpb[1].GRPCInferenceServiceStub(channel).ModelInfer(req, timeout=30)
        except grpc.RpcError as e:
            raise Error(e.code(), e.details())
        assert [o.name for o in resp.outputs] == ["out"]
        return np.frombuffer(resp.raw_output_contents[0], dtype=dtype).reshape(list(resp.outputs[0].shape))
    if api in ("kserve_rest_binary", "kserve_rest_json"):
        entry = {"name": "in", "shape": [len(images)], "datatype": "BYTES"}
        binary = b""
        if api == "kserve_rest_json":
            entry["data"] = [i.decode() for i in images]  # only text can travel as JSON strings
        else:
            binary = packed(images)
            entry["parameters"] = {"binary_data_size": len(binary)}
        js = json.dumps({"inputs": [entry], "parameters": {"binary_data_output": True}}).encode()
        status, headers, resp = http("POST", f"{srv.rest}/v2/models/{model}/infer", js + binary,
                                     {"Inference-Header-Content-Length": str(len(js))})
        if status != 200:
            raise Error(status, json.loads(resp)["error"])
        n = int({k.lower(): v for k, v in headers.items()}["inference-header-content-length"])
        header = json.loads(resp[:n])
        (out,) = header["outputs"]
        assert out["name"] == "out" and out["parameters"] == {"binary_data_size": len(resp) - n}
        return np.frombuffer(resp[n:], dtype=dtype).reshape(out["shape"])
    raise AssertionError(api)


@pytest.fixture
def run(srv, channel, pb, kpb):
    return lambda api, model, images, dtype=np.uint8: infer(api, srv, channel, pb, kpb, model, images, dtype)


def expect_error(run, api, model, images, status, message, still_serves=True):
    """status: the OVMS status text and (gRPC code, HTTP code); `message` is the REST/gRPC text.
    Then a good image on the same server and API (JSON cannot carry one: binary KServe REST instead)
    must decode exactly."""
    grpc_code, http_code, grpc_message = status
    with pytest.raises(Error) as e:
        run(api, model, images)
    if api in GRPC_APIS:
        assert (e.value.code, e.value.message) == (grpc_code, grpc_message or message)
    else:
        assert (e.value.code, e.value.message) == (http_code, message)
    if still_serves:
        good_api = "kserve_rest_binary" if api == "kserve_rest_json" else api
        out = run(good_api, "u8", [image_models.fixture_bytes(PNG)])
        assert np.array_equal(out, image_models.fixture_pixels(PNG)[None])


INVALID = (grpc.StatusCode.INVALID_ARGUMENT, 400, None)


# ---------------------------------------------------------------------------------------------
# decoded pixels


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("fixture", [PNG, JPEG])
def test_identity_u8_and_fp32_equal_decoded_pixels(run, api, fixture):
    data = image_models.fixture_bytes(fixture)
    expected = image_models.fixture_pixels(fixture)[None]
    tolerance = 0 if fixture == PNG else JPEG_TOLERANCE
    out = run(api, "u8", [data])
    assert out.dtype == np.uint8 and out.shape == (1, H, W, 3)
    assert np.abs(out.astype(int) - expected).max() <= tolerance
    out = run(api, "fp32", [data], np.float32)
    assert out.shape == (1, H, W, 3)
    assert np.abs(out - expected).max() <= tolerance
    assert np.array_equal(out, np.round(out))  # converted from 8-bit values, not resized


@pytest.mark.parametrize("api", APIS)
def test_jpeg_and_png_in_one_batch(run, api):
    images = [image_models.fixture_bytes(PNG), image_models.fixture_bytes(JPEG)]
    out = run(api, "dyn", images)
    assert out.shape == (2, H, W, 3)
    assert np.array_equal(out[0], image_models.fixture_pixels(PNG))
    assert np.abs(out[1].astype(int) - image_models.fixture_pixels(JPEG)).max() <= JPEG_TOLERANCE


def test_kserve_rest_json_bytes_are_images(run):
    """JSON BYTES strings reach the same decoder (only text fits into JSON, so: the error paths)."""
    expect_error(run, "kserve_rest_json", "u8", [b"definitely not an image"], (None, 500, None),
                 "Image parsing failed")
    expect_error(run, "kserve_rest_json", "u8", [b""], INVALID, "Bytes contents is empty")


# ---------------------------------------------------------------------------------------------
# resizing (only with an NHWC layout and no dynamic dims, as in OVMS's isResizeSupported)


@pytest.mark.parametrize("api", APIS)
def test_resize_down_u8(run, api):
    out = run(api, "u8_small_nhwc", [image_models.fixture_bytes(PNG)])
    assert out.shape == (1, 30, 40, 3)
    ref = image_models.bilinear(image_models.fixture_pixels(PNG), 30, 40)
    assert np.abs(out[0].astype(np.float64) - ref).max() <= 1.0


@pytest.mark.parametrize("api", APIS)
def test_resize_up_fp32(run, api):
    out = run(api, "fp32_big_nhwc", [image_models.fixture_bytes(PNG)], np.float32)
    assert out.shape == (1, 100, 90, 3)
    ref = image_models.bilinear(image_models.fixture_pixels(PNG), 100, 90)
    assert np.abs(out[0] - ref).max() <= 1e-3


@pytest.mark.parametrize("api", APIS)
def test_resize_batch_of_two_different_sizes(run, api):
    """With resizing supported, images of different sizes are each resized to the model's H/W."""
    big = image_models.fixture_pixels(PNG)
    small = big[5:29, 10:42]  # 24x32
    out = run(api, "u8_batch2_nhwc", [image_models.fixture_bytes(PNG), image_models.encode_png(small)])
    assert out.shape == (2, 30, 40, 3)
    assert np.abs(out[0].astype(np.float64) - image_models.bilinear(big, 30, 40)).max() <= 1.0
    assert np.abs(out[1].astype(np.float64) - image_models.bilinear(small, 30, 40)).max() <= 1.0


@pytest.mark.parametrize("api", APIS)
def test_resize_to_nearest_border_of_a_range(run, api):
    """H 48 is above 20:40 → 40; W 64 is below 70:90 → 70."""
    out = run(api, "range_nhwc", [image_models.fixture_bytes(PNG)])
    assert out.shape == (1, 40, 70, 3)
    ref = image_models.bilinear(image_models.fixture_pixels(PNG), 40, 70)
    assert np.abs(out[0].astype(np.float64) - ref).max() <= 1.0
    small = image_models.fixture_pixels(PNG)[:30, :]  # 30x64: H inside the range is kept
    out = run(api, "range_nhwc", [image_models.encode_png(small)])
    assert out.shape == (1, 30, 70, 3)
    assert np.abs(out[0].astype(np.float64) - image_models.bilinear(small, 30, 70)).max() <= 1.0


@pytest.mark.parametrize("api", APIS)
def test_default_layout_resizes(run, api):
    """Default layout N... is compatible with NHWC: static H/W resize the image (§7.4)."""
    out = run(api, "u8_small", [image_models.fixture_bytes(PNG)])
    assert out.shape == (1, 30, 40, 3)
    ref = image_models.bilinear(image_models.fixture_pixels(PNG), 30, 40)
    assert np.abs(out[0].astype(np.float64) - ref).max() <= 1.0


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("model", ["dyn", "dyn_nhwc"])
def test_dynamic_hw_takes_image_size(run, api, model):
    png = image_models.fixture_bytes(PNG)
    out = run(api, model, [png])
    assert out.shape == (1, H, W, 3)
    assert np.array_equal(out[0], image_models.fixture_pixels(PNG))
    small = image_models.fixture_pixels(PNG)[5:29, 10:42]
    out = run(api, model, [image_models.encode_png(small)])
    assert out.shape == (1, 24, 32, 3) and np.array_equal(out[0], small)
    out = run(api, model, [png, png])
    assert out.shape == (2, H, W, 3)
    assert np.array_equal(out[1], image_models.fixture_pixels(PNG))


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("model", ["dyn", "dyn_nhwc"])
def test_dynamic_hw_resolution_mismatch(run, api, model):
    small = image_models.encode_png(image_models.fixture_pixels(PNG)[5:29, 10:42])
    expect_error(run, api, model, [image_models.fixture_bytes(PNG), small], INVALID,
                 "Binary input images for this endpoint are required to have the same resolution")


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("api", APIS)
def test_grayscale_to_three_channels(run, api):
    expect_error(run, api, "u8", [image_models.fixture_bytes(GRAY_PNG)], INVALID,
                 "Invalid number of channels in binary input")


@pytest.mark.parametrize("api", APIS)
def test_garbage_bytes(run, api):
    # IMAGE_PARSING_FAILED has no gRPC mapping in OVMS: UNKNOWN "Unknown error" (§6); REST 500.
    status = (grpc.StatusCode.UNKNOWN, 500, "Unknown error")
    expect_error(run, api, "u8", [b"\x00\x01garbage\xff"], status, "Image parsing failed")
    # a truncated PNG fails the same way
    expect_error(run, api, "u8", [image_models.fixture_bytes(PNG)[:100]], status, "Image parsing failed")


@pytest.mark.parametrize("api", APIS)
def test_empty_image(run, api):
    message = "String val is empty" if api in TFS_APIS else "Bytes contents is empty"
    expect_error(run, api, "u8", [b""], INVALID, message)
    expect_error(run, api, "dyn", [image_models.fixture_bytes(PNG), b""], INVALID, message)


@pytest.mark.parametrize("api", APIS)
def test_batch_size_mismatch(run, api):
    png = image_models.fixture_bytes(PNG)
    expect_error(run, api, "u8", [png, png], INVALID,
                 "Invalid input batch size - Expected: 1; Actual: 2; input name: in")


def test_nchw_layout_is_unsupported(start_server, tmp_path, pb, kpb):
    repo = image_models.identity(str(tmp_path / "nchw"), (1, 3, H, W), "u8")
    server = start_server(["--model_name", "nchw", "--model_path", repo, "--layout", "NCHW"], wait_for="nchw")
    ch = grpc.insecure_channel(server.grpc_address)
    try:
        message = "Received binary image input but resource not configured to accept NHWC layout"
        for api in APIS:
            expect_error(lambda a, m, i, d=np.uint8: infer(a, server, ch, pb, kpb, m, i, d), api, "nchw",
                         [image_models.fixture_bytes(PNG)], INVALID, message, still_serves=False)
        # the same model still answers a numeric NCHW request
        x = np.arange(3 * H * W, dtype=np.uint8).reshape(1, 3, H, W)
        status, _, body = http("POST", f"{server.rest}/v1/models/nchw:predict", json.dumps({"inputs": x.tolist()}))
        assert status == 200, body
        assert np.array_equal(np.array(json.loads(body)["outputs"], np.uint8), x)
    finally:
        ch.close()
