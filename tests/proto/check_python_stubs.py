#!/usr/bin/env python3
"""Generate the Python stubs into a temp dir, import them and round-trip
a PredictRequest and a ModelInferRequest.

usage: check_python_stubs.py [path/to/gen_python_stubs.sh]
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCRIPT = os.path.join(HERE, "..", "..", "tools", "gen_python_stubs.sh")


def main() -> int:
    script = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SCRIPT
    with tempfile.TemporaryDirectory(prefix="ovms_pystubs_") as out:
        subprocess.run(["bash", script, out], check=True)
        sys.path.insert(0, out)

        from tensorflow.core.framework import tensor_pb2, types_pb2  # noqa: F401
        from tensorflow_serving.apis import (get_model_metadata_pb2,
                                             get_model_status_pb2,
                                             model_service_pb2_grpc,
                                             predict_pb2,
                                             prediction_service_pb2,
                                             prediction_service_pb2_grpc)
        from tensorflow_serving.config import model_server_config_pb2
        from kserve import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc

        # --- TF Serving PredictRequest ---
        req = predict_pb2.PredictRequest()
        req.model_spec.name = "resnet"
        req.model_spec.version.value = 3
        req.model_spec.signature_name = "serving_default"
        t = req.inputs["input"]
        t.dtype = types_pb2.DT_FLOAT
        t.tensor_shape.dim.add().size = 1
        t.tensor_shape.dim.add().size = 3
        t.float_val.extend([1.0, 2.5, -3.0])
        req.output_filter.append("prob")
        data = req.SerializeToString()
        back = predict_pb2.PredictRequest.FromString(data)
        assert back == req, "PredictRequest round-trip mismatch"
        assert back.model_spec.WhichOneof("version_choice") == "version"
        assert list(back.inputs["input"].float_val) == [1.0, 2.5, -3.0]
        # field numbers as seen by python
        assert predict_pb2.PredictRequest.DESCRIPTOR.fields_by_name["inputs"].number == 2
        assert tensor_pb2.TensorProto.DESCRIPTOR.fields_by_name["tensor_content"].number == 4

        # signature metadata packed in Any
        sig = get_model_metadata_pb2.SignatureDefMap()
        sig.signature_def["serving_default"].inputs["input"].name = "input:0"
        resp = get_model_metadata_pb2.GetModelMetadataResponse()
        resp.metadata["signature_def"].Pack(sig)
        resp2 = get_model_metadata_pb2.GetModelMetadataResponse.FromString(resp.SerializeToString())
        sig2 = get_model_metadata_pb2.SignatureDefMap()
        assert resp2.metadata["signature_def"].Unpack(sig2) and sig2 == sig
        assert resp.metadata["signature_def"].type_url.endswith("tensorflow.serving.SignatureDefMap")

        st = get_model_status_pb2.ModelVersionStatus(version=1, state=get_model_status_pb2.ModelVersionStatus.AVAILABLE)
        assert st.state == 30
        cfg = model_server_config_pb2.ModelServerConfig()
        mc = cfg.model_config_list.config.add(name="m", base_path="/models/m")
        mc.model_version_policy.specific.versions.extend([1, 2])
        assert model_server_config_pb2.ModelServerConfig.FromString(cfg.SerializeToString()) == cfg

        svc = prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"]
        assert sorted(m.name for m in svc.methods) == ["GetModelMetadata", "Predict"]
        assert hasattr(prediction_service_pb2_grpc, "PredictionServiceStub")
        assert hasattr(model_service_pb2_grpc, "ModelServiceStub")

        # --- KServe ModelInferRequest ---
        kreq = grpc_predict_v2_pb2.ModelInferRequest(model_name="dummy", model_version="1", id="abc")
        inp = kreq.inputs.add(name="b", datatype="FP32", shape=[1, 4])
        inp.parameters["p"].int64_param = 7
        kreq.outputs.add(name="a")
        kreq.raw_input_contents.append(b"\x00\x00\x80\x3f" * 4)
        kreq.parameters["sequence_id"].string_param = "s"
        kback = grpc_predict_v2_pb2.ModelInferRequest.FromString(kreq.SerializeToString())
        assert kback == kreq, "ModelInferRequest round-trip mismatch"
        assert kback.raw_input_contents[0] == b"\x00\x00\x80\x3f" * 4
        assert kback.inputs[0].parameters["p"].WhichOneof("parameter_choice") == "int64_param"
        assert grpc_predict_v2_pb2.ModelInferRequest.DESCRIPTOR.fields_by_name["raw_input_contents"].number == 7
        assert grpc_predict_v2_pb2.ModelInferResponse.DESCRIPTOR.fields_by_name["raw_output_contents"].number == 6
        ksvc = grpc_predict_v2_pb2.DESCRIPTOR.services_by_name["GRPCInferenceService"]
        assert ksvc.full_name == "inference.GRPCInferenceService"
        assert hasattr(grpc_predict_v2_pb2_grpc, "GRPCInferenceServiceStub")

    print("python stubs OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
