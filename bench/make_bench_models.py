#!/usr/bin/python3
"""Writes the benchmark models (random weights, fixed seed) to bench/models/ (git-ignored).

  resnet50/1/model.onnx     ResNet-50 v1.5 (full: 3-4-6-3 bottleneck blocks, stride on the 3x3 conv),
                            BatchNorm folded into the convolutions, as exporters emit it for inference.
                            input f32 [N,3,224,224] -> logits f32 [N,1000]. 25.5 M parameters, 8.2 GFLOP/image.
  mobilenetv2/1/model.onnx  MobileNetV2 1.0 (t,c,n,s table of the paper, ReLU6 = Clip(0,6), folded BN).
                            input f32 [N,3,224,224] -> logits f32 [N,1000]. 3.5 M parameters, 0.6 GFLOP/image.
  add_one/1/model.onnx      y = x + 1, x f32 [N,3,224,224]: a model whose inference cost is ~0, for the
                            server-overhead benchmark (tools/bench_server.sh).

Each model sits in <name>/1/ so that `ovms --model_path bench/models/<name>` can serve it.
Needs Debian's python3-onnx and python3-numpy: run with /usr/bin/python3 (pyenv's python3 lacks them).
Usage: /usr/bin/python3 bench/make_bench_models.py [out_dir]   (default: bench/models next to this file)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, p):
        self.n += 1
        return f"{p}_{self.n}"

    def const(self, arr, p):
        n = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), n))
        return n

    def conv(self, x, cin, cout, k, stride=1, group=1, act="relu", gain=1.0):
        # He-normal weights keep activations in a sane range through the depth (no inf/denormals).
        fan_in = (cin // group) * k * k
        w = self.rng.normal(0.0, gain * np.sqrt(2.0 / fan_in), size=(cout, cin // group, k, k))
        b = self.rng.normal(0.0, 0.01, size=(cout,))
        y = self.name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const(w, "w"), self.const(b, "b")], [y], kernel_shape=[k, k],
            strides=[stride, stride], pads=[k // 2] * 4, group=group))
        return self.act(y, act)

    def act(self, x, act):
        if act is None:
            return x
        y = self.name(act)
        if act == "relu":
            self.nodes.append(helper.make_node("Relu", [x], [y]))
        else:  # relu6
            self.nodes.append(helper.make_node("Clip", [x, self.const(0.0, "lo"), self.const(6.0, "hi")], [y]))
        return y

    def add(self, a, b, act=None):
        y = self.name("add")
        self.nodes.append(helper.make_node("Add", [a, b], [y]))
        return self.act(y, act)

    def head(self, x, cin, classes=1000):
        p = self.name("gap")
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], [p]))
        f = self.name("flat")
        self.nodes.append(helper.make_node("Flatten", [p], [f], axis=1))
        w = self.rng.normal(0.0, np.sqrt(1.0 / cin), size=(classes, cin))
        self.nodes.append(helper.make_node("Gemm", [f, self.const(w, "fcw"), self.const(np.zeros(classes), "fcb")],
                                           ["logits"], transB=1))

    def save(self, graph_name, input_name, in_shape, out_shape, path, output="logits"):
        graph = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, out_shape)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ovms-cpp bench")
        model.ir_version = 8
        onnx.checker.check_model(model)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        onnx.save(model, path)
        params = sum(int(np.prod(t.dims)) for t in self.inits)
        print(f"wrote {path}: {len(self.nodes)} nodes, {params / 1e6:.2f} M parameters")


def resnet50(path):
    b = Builder(50)
    x = b.conv("input", 3, 64, 7, stride=2)
    p = b.name("pool")
    b.nodes.append(helper.make_node("MaxPool", [x], [p], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = p, 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            s = stride if i == 0 else 1
            cout = width * 4
            y = b.conv(x, cin, width, 1)
            y = b.conv(y, width, width, 3, stride=s)
            y = b.conv(y, width, cout, 1, act=None, gain=0.5)
            short = b.conv(x, cin, cout, 1, stride=s, act=None) if (s != 1 or cin != cout) else x
            x, cin = b.add(y, short, act="relu"), cout
    b.head(x, cin)
    b.save("resnet50", "input", ["N", 3, 224, 224], ["N", 1000], path)


def mobilenetv2(path):
    b = Builder(2)
    x = b.conv("input", 3, 32, 3, stride=2, act="relu6")
    cin = 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = b.conv(x, cin, hidden, 1, act="relu6") if t != 1 else x
            y = b.conv(y, hidden, hidden, 3, stride=stride, group=hidden, act="relu6")
            y = b.conv(y, hidden, c, 1, act=None, gain=0.5)
            x = b.add(y, x) if (stride == 1 and cin == c) else y
            cin = c
    x = b.conv(x, cin, 1280, 1, act="relu6")
    b.head(x, 1280)
    b.save("mobilenetv2", "input", ["N", 3, 224, 224], ["N", 1000], path)


def add_one(path):
    b = Builder(1)
    b.nodes.append(helper.make_node("Add", ["x", b.const(np.array([1.0]), "one")], ["y"]))
    b.save("add_one", "x", ["N", 3, 224, 224], ["N", 3, 224, 224], path, output="y")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
    resnet50(os.path.join(out, "resnet50", "1", "model.onnx"))
    mobilenetv2(os.path.join(out, "mobilenetv2", "1", "model.onnx"))
    add_one(os.path.join(out, "add_one", "1", "model.onnx"))


if __name__ == "__main__":
    main()
