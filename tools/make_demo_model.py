#!/usr/bin/python3
"""Regenerates models/demo_classifier/1/model.onnx, the bundled demo model.

A small multilayer perceptron that classifies 4-feature points into three classes. It is trained
here, deterministically (fixed seed), on three Gaussian clusters centred like the three species of
the classic Iris measurements (sepal length/width, petal length/width in cm), so a query such as
[5.1, 3.5, 1.4, 0.2] is class 0, [6.0, 2.8, 4.5, 1.4] class 1 and [6.7, 3.0, 5.8, 2.2] class 2.

Graph: features f32 [N,4] -> MatMul+Add -> Relu -> MatMul+Add -> Softmax -> probabilities f32 [N,3].
Needs Debian's python3-onnx and python3-numpy (only to regenerate; the server does not need them).
"""
import os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

rng = np.random.default_rng(20261125)
centres = np.array([[5.0, 3.4, 1.5, 0.25], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
spread = np.array([[0.35, 0.38, 0.17, 0.1], [0.5, 0.31, 0.47, 0.2], [0.63, 0.32, 0.55, 0.27]])
x = np.concatenate([rng.normal(c, s, size=(200, 4)) for c, s in zip(centres, spread)]).astype(np.float32)
y = np.repeat(np.arange(3), 200)

mean, std = x.mean(0), x.std(0)
hidden = 16
w1 = rng.normal(0, 0.5, size=(4, hidden)); b1 = np.zeros(hidden)
w2 = rng.normal(0, 0.5, size=(hidden, 3)); b2 = np.zeros(3)
onehot = np.eye(3)[y]
xn = (x - mean) / std
for step in range(3000):  # plain full-batch gradient descent on cross-entropy
    h = np.maximum(xn @ w1 + b1, 0)
    logits = h @ w2 + b2
    p = np.exp(logits - logits.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    g = (p - onehot) / len(x)
    gw2 = h.T @ g; gb2 = g.sum(0)
    gh = g @ w2.T * (h > 0)
    gw1 = xn.T @ gh; gb1 = gh.sum(0)
    for param, grad in ((w1, gw1), (b1, gb1), (w2, gw2), (b2, gb2)):
        param -= 0.5 * grad
accuracy = (p.argmax(1) == y).mean()

# Fold the input normalisation into the first layer: ((x - m) / s) @ w1 + b1 = x @ (w1 / s) + (b1 - (m / s) @ w1).
w1f = (w1 / std[:, None]).astype(np.float32)
b1f = (b1 - (mean / std) @ w1).astype(np.float32)
inits = [numpy_helper.from_array(w1f, "w1"), numpy_helper.from_array(b1f, "b1"),
         numpy_helper.from_array(w2.astype(np.float32), "w2"), numpy_helper.from_array(b2.astype(np.float32), "b2")]
nodes = [
    helper.make_node("MatMul", ["features", "w1"], ["mm1"]),
    helper.make_node("Add", ["mm1", "b1"], ["pre1"]),
    helper.make_node("Relu", ["pre1"], ["h1"]),
    helper.make_node("MatMul", ["h1", "w2"], ["mm2"]),
    helper.make_node("Add", ["mm2", "b2"], ["logits"]),
    helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
]
graph = helper.make_graph(
    nodes, "demo_classifier",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ovms-cpp demo")
model.ir_version = 8
onnx.checker.check_model(model)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "demo_classifier", "1", "model.onnx")
onnx.save(model, out)
print(f"wrote {os.path.normpath(out)} (training accuracy {accuracy:.3f})")
