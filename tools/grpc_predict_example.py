#!/usr/bin/python3
"""Sends one TF-Serving Predict to the demo model: grpc_predict_example.py HOST:PORT"""
import sys

import grpc
import numpy as np
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

address = sys.argv[1] if len(sys.argv) > 1 else "localhost:9178"
x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.8, 2.2]], dtype=np.float32)
request = predict_pb2.PredictRequest()
request.model_spec.name = "demo"
tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=x.tobytes())
for d in x.shape:
    tensor.tensor_shape.dim.add().size = d
request.inputs["features"].CopyFrom(tensor)
with grpc.insecure_channel(address) as channel:
    response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
out = response.outputs["probabilities"]
probs = np.frombuffer(out.tensor_content, dtype=np.float32).reshape([d.size for d in out.tensor_shape.dim])
print("probabilities:\n", probs, "\nclasses:", probs.argmax(axis=1))
