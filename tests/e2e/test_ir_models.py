"""OpenVINO IR models end to end: every fixture model under ../shared/fixtures/ovms-test-models and
../shared/fixtures/omz-ir is served by the real `ovms` binary and queried through both TF-Serving APIs
(gRPC Predict with tensor_content, and REST :predict). Also: IR wins over ONNX in one version folder, and
broken IRs leave their version LOADING/UNKNOWN with a log line naming the layer while other models serve."""
import json
import os
import shutil
import time

import grpc
import numpy as np
import pytest

from conftest import FIXTURES_MISSING, SHARED, TEST_MODELS, http

OMZ = os.path.join(SHARED, "fixtures", "omz-ir")
IMAGES = os.path.join(SHARED, "fixtures", "images")

pytestmark = pytest.mark.skipif(not os.path.isdir(OMZ) or not os.path.isdir(TEST_MODELS), reason=FIXTURES_MISSING)

ALL_VERSIONS = ["--model_version_policy", '{"all":{}}']


# ---------------------------------------------------------------------------------------------------------
# clients

def _np_dtype(pb, dt):
    name = pb.types.DataType.Name(dt)
    return {"DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_HALF": np.float16, "DT_INT8": np.int8, "DT_UINT8": np.uint8,
            "DT_INT16": np.int16, "DT_UINT16": np.uint16, "DT_INT32": np.int32, "DT_INT64": np.int64, "DT_BOOL": np.bool_}[name]


def _dt_name(arr):
    return {np.float32: "DT_FLOAT", np.float64: "DT_DOUBLE", np.float16: "DT_HALF", np.int8: "DT_INT8", np.uint8: "DT_UINT8",
            np.int16: "DT_INT16", np.uint16: "DT_UINT16", np.int32: "DT_INT32", np.int64: "DT_INT64", np.bool_: "DT_BOOL"}[arr.dtype.type]


class Clients:
    def __init__(self, pb, server):
        self.pb = pb
        self.server = server
        self.channel = grpc.insecure_channel(server.grpc_address, options=[("grpc.max_send_message_length", 1 << 30),
                                                                           ("grpc.max_receive_message_length", 1 << 30)])
        self.predict_stub = pb.prediction_grpc.PredictionServiceStub(self.channel)

    def grpc(self, model, inputs, version=None):
        pb = self.pb
        req = pb.predict.PredictRequest()
        req.model_spec.name = model
        if version is not None:
            req.model_spec.version.value = version
        for k, arr in inputs.items():
            t = req.inputs[k]
            t.dtype = pb.types.DataType.Value(_dt_name(arr))
            for d in arr.shape:
                t.tensor_shape.dim.add().size = d
            t.tensor_content = np.ascontiguousarray(arr).tobytes()
        resp = self.predict_stub.Predict(req, timeout=120)
        out = {}
        for name, t in resp.outputs.items():
            dt = _np_dtype(pb, t.dtype)
            shape = [d.size for d in t.tensor_shape.dim]
            out[name] = np.frombuffer(t.tensor_content, dtype=dt).reshape(shape)
        return out

    def rest(self, model, inputs, version=None):
        url = f"{self.server.rest}/v1/models/{model}" + (f"/versions/{version}" if version is not None else "") + ":predict"
        body = json.dumps({"inputs": {k: v.tolist() for k, v in inputs.items()}})
        status, _, data = http("POST", url, body, timeout=300)
        assert status == 200, data[:1000]
        outs = json.loads(data)["outputs"]
        if not isinstance(outs, dict):  # a single output is returned without its name
            meta = self.metadata(model, version)
            (name,) = meta["outputs"].keys()
            outs = {name: outs}
        return {k: np.array(v) for k, v in outs.items()}

    def rest_f16_refused(self, model, inputs, version=None):
        """FP16 outputs are not serializable in TF-Serving JSON (OVMS answers OV_UNSUPPORTED_SERIALIZATION_PRECISION)."""
        url = f"{self.server.rest}/v1/models/{model}" + (f"/versions/{version}" if version is not None else "") + ":predict"
        body = json.dumps({"inputs": {k: v.tolist() for k, v in inputs.items()}})
        status, _, data = http("POST", url, body, timeout=300)
        assert status != 200 and b"Unsupported serialization precision" in data, (status, data[:300])

    def metadata(self, model, version=None):
        url = f"{self.server.rest}/v1/models/{model}" + (f"/versions/{version}" if version is not None else "") + "/metadata"
        status, _, data = http("GET", url)
        assert status == 200, data
        sig = json.loads(data)["metadata"]["signature_def"]["signatureDef"]["serving_default"]
        return {"inputs": {k: v for k, v in sig["inputs"].items()}, "outputs": {k: v for k, v in sig["outputs"].items()}}

    def both(self, model, inputs, version=None, rtol=1e-5, atol=1e-5):
        """Runs the request through gRPC and REST; checks they agree and returns the gRPC result."""
        g = self.grpc(model, inputs, version)
        r = self.rest(model, inputs, version)
        assert set(g) == set(r)
        for k in g:
            assert g[k].shape == r[k].shape, k
            np.testing.assert_allclose(r[k].astype(np.float64), g[k].astype(np.float64), rtol=rtol, atol=atol, err_msg=k)
        return g

    def close(self):
        self.channel.close()


@pytest.fixture
def serve(start_server, pb):
    opened = []

    def _serve(name, path, extra=(), versions=None):
        srv = start_server(["--model_name", name, "--model_path", path] + list(extra))
        for v in versions or [None]:
            srv.wait_available(name, v, timeout=180)
        c = Clients(pb, srv)
        opened.append(c)
        return c

    yield _serve
    for c in opened:
        c.close()


# ---------------------------------------------------------------------------------------------------------
# images

def load_bgr(name, h, w, crop=None):
    from PIL import Image  # Debian python3-pil
    im = Image.open(os.path.join(IMAGES, name)).convert("RGB")
    if crop:
        x, y, cw, ch = crop
        im = im.crop((x, y, x + cw, y + ch))
    im = im.resize((w, h), Image.BILINEAR)
    a = np.asarray(im, dtype=np.float32)[:, :, ::-1]  # RGB -> BGR (Open Model Zoo convention)
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None])


FACE_CROP = (217, 81, 52, 58)  # x, y, w, h: Messi's face in messi5.jpg with a margin (measured by hand)
# Five landmarks measured by hand on that crop, normalised to it: eyes, nose tip, lip corners (viewer's left first)
FACE_LANDMARKS = [(0.44, 0.47), (0.65, 0.45), (0.58, 0.62), (0.46, 0.74), (0.62, 0.72)]


# Boxes measured by hand on messi5.jpg (548x342; drawn on the photo and checked by eye), as (x0, y0, x1, y1)
# normalised to 0..1. A detection is correct when its IoU with them is >= 0.5 (the PASCAL VOC criterion).
MESSI_FACE = (224 / 548, 88 / 342, 262 / 548, 133 / 342)      # forehead to chin, ear to ear
MESSI_PLAYER = (68 / 548, 60 / 342, 457 / 548, 336 / 342)    # left hand to right boot, hair to boot
MIN_IOU = 0.5


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix)


def on_player(box):
    """A person detector's box is on the player when at least 80% of it lies inside the hand-measured box and
    its centre does. (Pedestrian detectors leave out the outstretched arm and leg, so IoU with the full
    extent is not the criterion for them; a box on the crowd or the grass fails this.)"""
    ix = max(0.0, min(box[2], MESSI_PLAYER[2]) - max(box[0], MESSI_PLAYER[0])) * \
        max(0.0, min(box[3], MESSI_PLAYER[3]) - max(box[1], MESSI_PLAYER[1]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    inside = MESSI_PLAYER[0] <= cx <= MESSI_PLAYER[2] and MESSI_PLAYER[1] <= cy <= MESSI_PLAYER[3]
    return inside and ix / ((box[2] - box[0]) * (box[3] - box[1])) >= 0.8


def detections(out):
    """DetectionOutput rows [image_id, label, conf, x0, y0, x1, y1] until image_id == -1."""
    rows = out.reshape(-1, 7)
    valid = []
    for r in rows:
        if r[0] < 0:
            break
        valid.append(r)
    return np.array(valid).reshape(-1, 7)


# ---------------------------------------------------------------------------------------------------------
# OVMS test models: exact answers

def test_dummy(serve):
    c = serve("dummy", os.path.join(TEST_MODELS, "dummy"))
    x = np.arange(10, dtype=np.float32).reshape(1, 10) * 1.5
    out = c.both("dummy", {"b": x})
    assert list(out) == ["a"]
    np.testing.assert_array_equal(out["a"], x + 1)


def test_dummy_fp64_dynamic_batch(serve):
    c = serve("dummy_fp64", os.path.join(TEST_MODELS, "dummy_fp64"))
    for batch in (1, 3):
        x = (np.arange(batch * 10, dtype=np.float64).reshape(batch, 10) / 3.0) + 1e-9
        out = c.grpc("dummy_fp64", {"input:0": x})
        assert list(out) == ["output:0"]
        assert out["output:0"].dtype == np.float64
        np.testing.assert_array_equal(out["output:0"], x + 1)
        rest = c.rest("dummy_fp64", {"input:0": x})["output:0"]
        np.testing.assert_allclose(rest, x + 1, rtol=1e-12)


def test_increment(serve):
    c = serve("increment", os.path.join(TEST_MODELS, "increment_1x3x4x5"))
    x = np.linspace(-3, 3, 60, dtype=np.float32).reshape(1, 3, 4, 5)
    out = c.both("increment", {"input": x})
    (name,) = out
    np.testing.assert_allclose(out[name], x + 1, rtol=0, atol=1e-6)


def test_passthrough_u8(serve):
    c = serve("passthrough", os.path.join(TEST_MODELS, "passthrough"))
    x = np.array([[0, 1, 255], [7, 128, 200]], dtype=np.uint8)
    out = c.both("passthrough", {"input": x}, rtol=0, atol=0)
    assert list(out) == ["copy:0"]
    assert out["copy:0"].dtype == np.uint8
    np.testing.assert_array_equal(out["copy:0"], x)  # the constant in the .bin is 0


def test_scalar(serve):
    c = serve("scalar", os.path.join(TEST_MODELS, "scalar"))
    x = np.array(3.25, dtype=np.float32)
    g = c.grpc("scalar", {"model_scalar_input": x})
    assert g["model_scalar_output"].shape == ()
    assert float(g["model_scalar_output"]) == 3.25
    url = f"{c.server.rest}/v1/models/scalar:predict"
    status, _, data = http("POST", url, json.dumps({"inputs": {"model_scalar_input": 3.25}}))
    assert status == 200, data
    assert json.loads(data)["outputs"] == 3.25


def test_no_name_output_i8(serve):
    c = serve("nno", os.path.join(TEST_MODELS, "no_name_output"))
    a = np.array([[1, -2, 100, 127, -128, 5, 0, 3, -7, 60]], dtype=np.int8)
    b = np.array([[2, 3, 100, 1, -1, -5, 9, 3, 7, 2]], dtype=np.int8)
    out = c.both("nno", {"input_1": a, "input_2": b}, rtol=0, atol=0)
    assert set(out) == {"ADD", "MULTIPLY"}
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out["ADD"], (a.astype(np.int16) + b).astype(np.int8))
        np.testing.assert_array_equal(out["MULTIPLY"], (a.astype(np.int16) * b).astype(np.int8))


# ---------------------------------------------------------------------------------------------------------
# Open Model Zoo models

def test_face_detection_fp32_and_int8(serve):
    c = serve("face", os.path.join(OMZ, "face-detection-retail-0004"), ALL_VERSIONS, versions=[1, 2])
    messi = load_bgr("messi5.jpg", 300, 300)
    best = {}
    for ver in (1, 2):
        out = c.both("face", {"data": messi}, version=ver, rtol=1e-4, atol=1e-4)
        assert list(out) == ["detection_out"]
        assert out["detection_out"].shape == (1, 1, 200, 7)
        d = detections(out["detection_out"])
        assert len(d) > 0
        top = d[d[:, 2].argmax()]
        assert top[2] > 0.9, f"version {ver}: best confidence {top[2]}"
        assert iou(top[3:7], MESSI_FACE) >= MIN_IOU, f"version {ver}: {top} vs the hand-measured face"
        assert (d[:, 2] > 0.5).sum() == 1
        best[ver] = top
        home = c.grpc("face", {"data": load_bgr("home.jpg", 300, 300)}, version=ver)
        dh = detections(home["detection_out"])
        assert len(dh) == 0 or dh[:, 2].max() < 0.5, f"version {ver} sees a face in home.jpg"
    # INT8 agrees with FP32
    a, b = best[1], best[2]
    assert abs(a[2] - b[2]) < 0.05
    assert iou(a[3:7], b[3:7]) > 0.8


def test_open_closed_eye_ir_equals_onnx(serve):
    c = serve("eye", os.path.join(OMZ, "open-closed-eye-0001"), ALL_VERSIONS, versions=[1, 2])
    ir_meta, onnx_meta = c.metadata("eye", 1), c.metadata("eye", 2)
    assert list(ir_meta["inputs"]) == ["input.1"]
    assert list(ir_meta["outputs"]) == ["19"]
    (onnx_in,) = onnx_meta["inputs"]
    for crop in [(240, 40, 40, 40), None, (300, 200, 32, 32)]:
        x = load_bgr("messi5.jpg", 32, 32, crop)
        ir = c.both("eye", {"input.1": x}, version=1)
        # The IR has the Open Model Zoo preprocessing (mean 127, scale 255) built in; the ONNX file does not.
        onnx = c.both("eye", {onnx_in: (x - 127.0) / 255.0}, version=2)
        (a,), (b,) = ir.values(), onnx.values()
        np.testing.assert_allclose(a.reshape(-1), b.reshape(-1), atol=1e-4)
        assert abs(a.sum() - 1) < 1e-4


def test_age_gender_versions_agree(serve):
    c = serve("ag", os.path.join(OMZ, "age-gender-recognition-retail-0013"), ALL_VERSIONS, versions=[1, 2])
    face = load_bgr("messi5.jpg", 62, 62, FACE_CROP)
    v1 = c.grpc("ag", {"data": face.astype(np.float16)}, version=1)
    c.rest_f16_refused("ag", {"data": face.astype(np.float16)}, version=1)  # FP16 outputs
    v2 = c.both("ag", {"data": face}, version=2)
    assert set(v1) == set(v2) == {"age_conv3", "prob"}
    assert v1["prob"].dtype == np.float16
    p1, p2 = v1["prob"].astype(np.float32).reshape(-1), v2["prob"].reshape(-1)
    assert abs(p1.sum() - 1) < 0.01 and abs(p2.sum() - 1) < 1e-4
    age1, age2 = float(v1["age_conv3"].reshape(-1)[0]), float(v2["age_conv3"].reshape(-1)[0])
    assert 0.05 < age1 < 0.9 and abs(age1 - age2) < 0.1
    assert abs(p1[1] - p2[1]) < 0.2
    again = c.grpc("ag", {"data": face}, version=2)
    for k in v2:
        np.testing.assert_array_equal(again[k], v2[k])


def test_head_pose(serve):
    c = serve("hp", os.path.join(OMZ, "head-pose-estimation-adas-0001"))
    out = c.both("hp", {"data": load_bgr("messi5.jpg", 60, 60, FACE_CROP)}, rtol=1e-4, atol=1e-4)
    assert set(out) == {"angle_r_fc", "angle_p_fc", "angle_y_fc"}
    for v in out.values():
        assert v.size == 1 and np.isfinite(v).all() and abs(float(v.reshape(-1)[0])) < 90


def test_landmarks(serve):
    c = serve("lm", os.path.join(OMZ, "landmarks-regression-retail-0009"))
    out = c.both("lm", {"0": load_bgr("messi5.jpg", 48, 48, FACE_CROP)})
    assert list(out) == ["95"]
    v = out["95"].reshape(-1)
    assert v.size == 10 and (v >= 0).all() and (v <= 1).all()
    points = v.reshape(5, 2)
    # eyes and lip corners as pairs (the model's left/right may be the subject's), each near the hand-measured point
    got = sorted(points[:2].tolist()) + [points[2].tolist()] + sorted(points[3:].tolist())
    for (gx, gy), (hx, hy) in zip(got, FACE_LANDMARKS):
        # 0.2: this small model's own error on a turned face (~0.16 seen for the far eye); garbage fails it
        assert abs(gx - hx) < 0.2 and abs(gy - hy) < 0.2, (got, FACE_LANDMARKS)


def test_squeezenet_f16(serve):
    c = serve("sq", os.path.join(OMZ, "squeezenet1.1"))
    x = load_bgr("fruits.jpg", 227, 227).astype(np.float16)
    out = c.grpc("sq", {"data": x})
    c.rest_f16_refused("sq", {"data": x})  # the f16 output cannot go into TF-Serving JSON
    assert list(out) == ["prob"]
    p = out["prob"].astype(np.float32).reshape(-1)
    assert p.size == 1000 and np.isfinite(p).all() and abs(p.sum() - 1) < 0.02
    # ImageNet fruit classes 948 (Granny Smith) .. 957 (pomegranate)
    assert 948 <= int(p.argmax()) <= 957, int(p.argmax())
    np.testing.assert_array_equal(c.grpc("sq", {"data": x})["prob"], out["prob"])


def test_person_vehicle_bike_2004(serve):
    c = serve("pvb", os.path.join(OMZ, "person-vehicle-bike-detection-2004"))
    x = load_bgr("messi5.jpg", 256, 448)
    out = c.both("pvb", {"image": x}, rtol=1e-4, atol=1e-4)
    assert set(out) == {"boxes", "labels"}
    boxes, labels = out["boxes"], out["labels"]
    assert boxes.ndim == 2 and boxes.shape[1] == 5 and labels.shape[0] == boxes.shape[0]
    assert np.isfinite(boxes).all()
    best = int(boxes[:, 4].argmax())
    assert int(labels[best]) == 1  # a person (0 vehicle, 1 person, 2 bike)
    np.testing.assert_array_equal(c.grpc("pvb", {"image": x})["boxes"], boxes)


# Two people measured by hand on basketball1.png (640x480), x0, y0, x1, y1 in pixels: the man holding the
# ball (shoulder/elbow to hands, hair to shoes; the ball left out) and the man on the right, cut by the frame.
BASKETBALL_LEFT_MAN = (37, 82, 160, 475)
BASKETBALL_RIGHT_MAN = (435, 22, 640, 480)


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return ix / (area(a) + area(b) - ix)


def test_person_vehicle_bike_2004_people_where_measured(serve):
    """On an indoor photo of two people the translated detector puts its two strongest person boxes on them
    (hand-measured boxes, IoU >= 0.7), and on a photo without people it finds nobody (conf < 0.3)."""
    c = serve("pvb", os.path.join(OMZ, "person-vehicle-bike-detection-2004"))
    out = c.grpc("pvb", {"image": load_bgr("basketball1.png", 256, 448)})
    boxes, labels = out["boxes"], out["labels"]
    order = np.argsort(-boxes[:, 4])
    to_pixels = np.array([640 / 448, 480 / 256, 640 / 448, 480 / 256], np.float32)
    first, second = (boxes[i, :4] * to_pixels for i in order[:2])
    assert int(labels[order[0]]) == 1 and int(labels[order[1]]) == 1, labels[order[:2]]
    assert iou(first, BASKETBALL_LEFT_MAN) >= 0.7, (first, boxes[order[0]])
    assert iou(second, BASKETBALL_RIGHT_MAN) >= 0.7, (second, boxes[order[1]])
    assert boxes[order[0], 4] >= 0.5, boxes[order[0]]
    empty = c.grpc("pvb", {"image": load_bgr("home.jpg", 256, 448)})["boxes"]
    assert empty.shape[0] == 0 or empty[:, 4].max() < 0.3, empty[:5]


# Investigated 2026-11-27 (brief P): not a translation error as far as can be told. The same translation puts
# its boxes on the two people of basketball1.png (test above, conf 0.6 / 0.3) and finds nobody on home.jpg; the
# IR's NMS is plain (max 100, IoU 0.6, score 0.05, no soft-NMS) and MVN-6 (eps inside sqrt) is translated as
# specified. On messi5.jpg every person box is weak (<= 0.32) and they overlap the crowd behind the player:
# this surveillance-camera model does not separate a close-up player from a dense crowd. Only the FP16 IR of
# this network is in the fixtures, so no other precision could be compared.
@pytest.mark.xfail(strict=True, reason="model limit (see above): on messi5.jpg the strongest box (conf 0.32) spans "
                                       "the left half of the photo, crowd included")
def test_person_vehicle_bike_2004_box_on_player(serve):
    c = serve("pvb", os.path.join(OMZ, "person-vehicle-bike-detection-2004"))
    boxes = c.grpc("pvb", {"image": load_bgr("messi5.jpg", 256, 448)})["boxes"]
    best = int(boxes[:, 4].argmax())
    box = boxes[best, :4] / np.array([448, 256, 448, 256], np.float32)  # input pixels -> 0..1
    assert on_player(box), (boxes[best], box)


def test_person_vehicle_bike_crossroad_0078(serve):
    c = serve("cross", os.path.join(OMZ, "person-vehicle-bike-detection-crossroad-0078"))
    x = load_bgr("messi5.jpg", 1024, 1024)
    out = c.both("cross", {"data": x}, rtol=1e-4, atol=1e-4)
    d = detections(out["detection_out"])
    assert len(d) > 0 and np.isfinite(d).all()
    top = d[d[:, 2].argmax()]
    assert top[1] == 1, top  # a person (1 person, 2 vehicle, 3 bike)
    assert on_player(top[3:7]), top


# ---------------------------------------------------------------------------------------------------------
# repository rules and failures

def test_ir_wins_over_onnx_in_one_version_folder(serve, tmp_path):
    repo = tmp_path / "eye_mixed"
    (repo / "1").mkdir(parents=True)
    for f in os.listdir(os.path.join(OMZ, "open-closed-eye-0001", "1")):
        shutil.copy(os.path.join(OMZ, "open-closed-eye-0001", "1", f), repo / "1")
    shutil.copy(os.path.join(OMZ, "open-closed-eye-0001", "2", "open-closed-eye.onnx"), repo / "1")
    c = serve("mixed", str(repo))
    meta = c.metadata("mixed")
    assert list(meta["inputs"]) == ["input.1"] and list(meta["outputs"]) == ["19"]
    # Only the IR normalizes raw 0..255 input: compare with the pure IR model.
    x = load_bgr("messi5.jpg", 32, 32, (240, 40, 40, 40))
    got = c.both("mixed", {"input.1": x})["19"]
    ref = serve("eye_ir", os.path.join(OMZ, "open-closed-eye-0001"), ["--model_version_policy", '{"specific":{"versions":[1]}}'])
    np.testing.assert_allclose(got, ref.grpc("eye_ir", {"input.1": x})["19"], atol=1e-6)


def _broken_variants(root):
    """Model repositories whose version 1 is a broken IR; returns {name: (path, text expected in the log)}."""
    out = {}
    # unsupported op
    d = root / "unsupported" / "1"
    d.mkdir(parents=True)
    shutil.copy(os.path.join(TEST_MODELS, "dummy", "1", "dummy.bin"), d)
    xml = open(os.path.join(TEST_MODELS, "dummy", "1", "dummy.xml")).read().replace('type="Add"', 'type="FancyNewOp"')
    (d / "dummy.xml").write_text(xml)
    out["unsupported"] = (str(root / "unsupported"), "Unsupported operation FancyNewOp (opset 1) in layer 'a'")
    # truncated weights
    d = root / "truncated" / "1"
    d.mkdir(parents=True)
    src = os.path.join(OMZ, "open-closed-eye-0001", "1")
    shutil.copy(os.path.join(src, "open-closed-eye-0001.xml"), d)
    data = open(os.path.join(src, "open-closed-eye-0001.bin"), "rb").read()
    (d / "open-closed-eye-0001.bin").write_bytes(data[:len(data) // 3])
    out["truncated"] = (str(root / "truncated"), "is outside the weights file")
    # malformed XML
    d = root / "malformed" / "1"
    d.mkdir(parents=True)
    shutil.copy(os.path.join(TEST_MODELS, "dummy", "1", "dummy.bin"), d)
    text = open(os.path.join(TEST_MODELS, "dummy", "1", "dummy.xml")).read()
    (d / "dummy.xml").write_text(text[:len(text) // 2])
    out["malformed"] = (str(root / "malformed"), "malformed IR XML")
    return out


def test_broken_irs_stay_loading_while_others_serve(start_server, pb, tmp_path):
    variants = _broken_variants(tmp_path / "repos")
    config = {"model_config_list": [{"config": {"name": "good", "base_path": os.path.join(TEST_MODELS, "dummy")}}] +
              [{"config": {"name": n, "base_path": p}} for n, (p, _) in variants.items()]}
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config))
    srv = start_server(["--config_path", str(cfg)], wait_for="good")
    c = Clients(pb, srv)
    try:
        x = np.ones((1, 10), dtype=np.float32)
        np.testing.assert_array_equal(c.both("good", {"b": x})["a"], x + 1)
        deadline = time.time() + 30
        for name, (_, expected) in variants.items():
            while True:
                status, _, body = http("GET", f"{srv.rest}/v1/models/{name}")
                st = json.loads(body)["model_version_status"] if status == 200 else []
                if st and st[0]["state"] == "LOADING" and st[0]["status"]["error_code"] == "UNKNOWN":
                    break
                assert time.time() < deadline, f"{name}: {status} {body}"
                time.sleep(0.2)
            assert st[0]["version"] == "1"
            assert expected in srv.read_log(), f"{name}: log does not mention {expected!r}"
            # inference on the broken model fails cleanly
            with pytest.raises(grpc.RpcError):
                c.grpc(name, {"b": x})
        # the truncated one names the layer whose data is missing
        assert any("layer '" in line and "outside the weights file" in line for line in srv.read_log().splitlines())
        # and the good model still serves
        np.testing.assert_array_equal(c.grpc("good", {"b": x})["a"], x + 1)
        assert srv.proc.poll() is None
    finally:
        c.close()
