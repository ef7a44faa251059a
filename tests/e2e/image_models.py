"""ONNX models and pixel references for the binary (JPEG/PNG) image input end-to-end tests."""
import io
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

IMAGE_DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "image", "data"))

ELEM = {"u8": TensorProto.UINT8, "fp32": TensorProto.FLOAT, "fp16": TensorProto.FLOAT16, "i32": TensorProto.INT32}
NUMPY = {"u8": np.uint8, "fp32": np.float32, "fp16": np.float16, "i32": np.int32}


def identity(repo, dims, precision="u8", in_name="in", out_name="out", version=1):
    """out = Identity(in); `dims` items are ints or symbolic names (dynamic)."""
    et = ELEM[precision]
    g = helper.make_graph([helper.make_node("Identity", [in_name], [out_name])], "image_identity",
                          [helper.make_tensor_value_info(in_name, et, list(dims))],
                          [helper.make_tensor_value_info(out_name, et, list(dims))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    return repo


def fixture_bytes(name):
    with open(os.path.join(IMAGE_DATA, name), "rb") as f:
        return f.read()


def fixture_pixels(name):
    """The decoded pixels of a fixture (HWC, OpenCV channel order) from its .pix dump."""
    with open(os.path.join(IMAGE_DATA, name + ".pix"), "rb") as f:
        raw = f.read()
    header, data = raw.split(b"\n", 1)
    rows, cols, channels, bits = (int(v) for v in header.split())
    dtype = np.uint8 if bits == 8 else np.dtype("<u2")
    return np.frombuffer(data, dtype=dtype).reshape(rows, cols, channels)


def encode_png(pixels_bgr):
    """Lossless PNG of BGR(A)/gray pixels (PIL wants RGB order)."""
    from PIL import Image
    if pixels_bgr.shape[2] == 1:
        im = Image.fromarray(pixels_bgr[:, :, 0], "L")
    else:
        im = Image.fromarray(np.ascontiguousarray(pixels_bgr[:, :, ::-1]), "RGB")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def bilinear(src, rows, cols):
    """cv::resize(INTER_LINEAR) in float: half-pixel centres, sample positions clamped to the edges."""
    src = src.astype(np.float64)
    h, w = src.shape[:2]

    def axis(n_out, n_in):
        pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        i0 = np.floor(pos).astype(np.int64)
        f = pos - i0
        f[i0 < 0] = 0
        i0[i0 < 0] = 0
        f[i0 >= n_in - 1] = 0
        i0[i0 >= n_in - 1] = n_in - 1
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, f

    y0, y1, fy = axis(rows, h)
    x0, x1, fx = axis(cols, w)
    fy = fy[:, None, None]
    fx = fx[None, :, None]
    top = src[y0][:, x0] * (1 - fx) + src[y0][:, x1] * fx
    bottom = src[y1][:, x0] * (1 - fx) + src[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy
