"""Small ONNX models built on the fly for end-to-end tests (Debian's python3-onnx)."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name -> (ONNX element type, numpy dtype, TF DataType name, KServe datatype)
PRECISIONS = {
    "fp32": (TensorProto.FLOAT, np.float32, "DT_FLOAT", "FP32"),
    "fp64": (TensorProto.DOUBLE, np.float64, "DT_DOUBLE", "FP64"),
    "fp16": (TensorProto.FLOAT16, np.float16, "DT_HALF", "FP16"),
    "i8": (TensorProto.INT8, np.int8, "DT_INT8", "INT8"),
    "u8": (TensorProto.UINT8, np.uint8, "DT_UINT8", "UINT8"),
    "i16": (TensorProto.INT16, np.int16, "DT_INT16", "INT16"),
    "u16": (TensorProto.UINT16, np.uint16, "DT_UINT16", "UINT16"),
    "i32": (TensorProto.INT32, np.int32, "DT_INT32", "INT32"),
    "i64": (TensorProto.INT64, np.int64, "DT_INT64", "INT64"),
    "u32": (TensorProto.UINT32, np.uint32, "DT_UINT32", "UINT32"),
    "u64": (TensorProto.UINT64, np.uint64, "DT_UINT64", "UINT64"),
    "bool": (TensorProto.BOOL, np.bool_, "DT_BOOL", "BOOL"),
}


def _save(model, repo, version=1):
    d = os.path.join(repo, str(version))
    os.makedirs(d, exist_ok=True)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(d, "model.onnx"))
    return repo


def all_types(repo, version=1, precisions=None):
    """One Identity per precision (all of PRECISIONS, or those named): in_<p> [-1,3] -> out_<p>."""
    nodes, ins, outs = [], [], []
    for name, (et, _, _, _) in PRECISIONS.items():
        if precisions is not None and name not in precisions:
            continue
        nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]))
        ins.append(helper.make_tensor_value_info(f"in_{name}", et, ["n", 3]))
        outs.append(helper.make_tensor_value_info(f"out_{name}", et, ["n", 3]))
    g = helper.make_graph(nodes, "all_types", ins, outs)
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def add_const(repo, value=1.0, version=1, shape=(1, 10), in_name="b", out_name="a"):
    """out = in + value, FP32 with a fixed shape (like OVMS's dummy)."""
    c = numpy_helper.from_array(np.array(value, dtype=np.float32), "c")
    g = helper.make_graph([helper.make_node("Add", [in_name, "c"], [out_name])], "add_const",
                          [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(shape))], [c])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def two_inputs(repo, version=1):
    """sum = x + y and product = x * y on FP32 [-1, 2]."""
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["sum"]), helper.make_node("Mul", ["x", "y"], ["product"])],
        "two_inputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["n", 2]),
         helper.make_tensor_value_info("product", TensorProto.FLOAT, ["n", 2])])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def scalar(repo, version=1):
    """A rank-0 FP32 input: out = in * 2."""
    c = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    g = helper.make_graph([helper.make_node("Mul", ["s", "two"], ["out"])], "scalar",
                          [helper.make_tensor_value_info("s", TensorProto.FLOAT, [])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [])], [c])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)


def string_identity(repo, version=1):
    """A native string model: Identity on tensor(string) [-1], text -> text_out."""
    g = helper.make_graph([helper.make_node("Identity", ["text"], ["text_out"])], "string_identity",
                          [helper.make_tensor_value_info("text", TensorProto.STRING, ["n"])],
                          [helper.make_tensor_value_info("text_out", TensorProto.STRING, ["n"])])
    return _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), repo, version)
