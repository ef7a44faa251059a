// Checks, through the generated descriptors, that our own .proto files keep
// the upstream (TF Serving / TensorFlow / KServe v2) field numbers, types and
// gRPC method paths that stock clients depend on.
#include <string>

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "kserve/grpc_predict_v2.grpc.pb.h"
#include "kserve/grpc_predict_v2.pb.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow/core/framework/types.pb.h"
#include "tensorflow/core/protobuf/error_codes.pb.h"
#include "tensorflow/core/protobuf/meta_graph.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/get_model_status.pb.h"
#include "tensorflow_serving/apis/model.pb.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"
#include "tensorflow_serving/apis/predict.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tensorflow_serving/config/model_server_config.pb.h"
#include "tensorflow_serving/util/status.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

const FieldDescriptor* Field(const Descriptor* d, const std::string& name) {
  const FieldDescriptor* f = d->FindFieldByName(name);
  EXPECT_NE(f, nullptr) << d->full_name() << "." << name << " missing";
  return f;
}

// Asserts number, type and label of one field.
void ExpectField(const Descriptor* d, const std::string& name, int number, FieldDescriptor::Type type,
                 bool repeated = false) {
  const FieldDescriptor* f = Field(d, name);
  if (f == nullptr) return;
  EXPECT_EQ(f->number(), number) << d->full_name() << "." << name;
  EXPECT_EQ(f->type(), type) << d->full_name() << "." << name << " type " << f->type_name();
  EXPECT_EQ(f->is_repeated(), repeated) << d->full_name() << "." << name;
}

// prediction_service.pb.cc / model_service.pb.cc define no messages, so from a
// static library the linker drops them unless something references them, and
// their service descriptors would be missing from the generated pool (the
// gRPC stubs themselves do not need them; reflection-style lookups do).
// Storing the descriptor tables' addresses in a volatile pulls those objects in.
const void* ForceLinkServiceDescriptors() {
  static const void* const volatile sink[] = {
      &descriptor_table_tensorflow_5fserving_2fapis_2fprediction_5fservice_2eproto,
      &descriptor_table_tensorflow_5fserving_2fapis_2fmodel_5fservice_2eproto,
  };
  return sink[0] != nullptr ? sink[1] : nullptr;
}

// Full gRPC path ("/package.Service/Method") of a method of a service descriptor.
std::string MethodPath(const google::protobuf::ServiceDescriptor* s, const std::string& method) {
  const auto* m = s->FindMethodByName(method);
  if (m == nullptr) return "<missing " + method + ">";
  return "/" + s->full_name() + "/" + m->name();
}

TEST(ProtoWire, TensorProtoFields) {
  using T = FieldDescriptor;
  const Descriptor* d = tensorflow::TensorProto::descriptor();
  EXPECT_EQ(d->full_name(), "tensorflow.TensorProto");
  ExpectField(d, "dtype", 1, T::TYPE_ENUM);
  ExpectField(d, "tensor_shape", 2, T::TYPE_MESSAGE);
  ExpectField(d, "version_number", 3, T::TYPE_INT32);
  ExpectField(d, "tensor_content", 4, T::TYPE_BYTES);
  ExpectField(d, "float_val", 5, T::TYPE_FLOAT, true);
  ExpectField(d, "double_val", 6, T::TYPE_DOUBLE, true);
  ExpectField(d, "int_val", 7, T::TYPE_INT32, true);
  ExpectField(d, "string_val", 8, T::TYPE_BYTES, true);
  ExpectField(d, "scomplex_val", 9, T::TYPE_FLOAT, true);
  ExpectField(d, "int64_val", 10, T::TYPE_INT64, true);
  ExpectField(d, "bool_val", 11, T::TYPE_BOOL, true);
  ExpectField(d, "dcomplex_val", 12, T::TYPE_DOUBLE, true);
  ExpectField(d, "half_val", 13, T::TYPE_INT32, true);
  ExpectField(d, "resource_handle_val", 14, T::TYPE_MESSAGE, true);
  ExpectField(d, "variant_val", 15, T::TYPE_MESSAGE, true);
  ExpectField(d, "uint32_val", 16, T::TYPE_UINT32, true);
  ExpectField(d, "uint64_val", 17, T::TYPE_UINT64, true);
  ExpectField(d, "float8_val", 18, T::TYPE_BYTES);
  EXPECT_TRUE(Field(d, "float_val")->is_packed());
  EXPECT_TRUE(Field(d, "half_val")->is_packed());

  const Descriptor* shape = tensorflow::TensorShapeProto::descriptor();
  ExpectField(shape, "dim", 2, T::TYPE_MESSAGE, true);
  ExpectField(shape, "unknown_rank", 3, T::TYPE_BOOL);
  ExpectField(tensorflow::TensorShapeProto::Dim::descriptor(), "size", 1, T::TYPE_INT64);
  ExpectField(tensorflow::TensorShapeProto::Dim::descriptor(), "name", 2, T::TYPE_STRING);
}

TEST(ProtoWire, DataTypeValues) {
  EXPECT_EQ(tensorflow::DT_FLOAT, 1);
  EXPECT_EQ(tensorflow::DT_STRING, 7);
  EXPECT_EQ(tensorflow::DT_BOOL, 10);
  EXPECT_EQ(tensorflow::DT_BFLOAT16, 14);
  EXPECT_EQ(tensorflow::DT_UINT16, 17);
  EXPECT_EQ(tensorflow::DT_HALF, 19);
  EXPECT_EQ(tensorflow::DT_UINT32, 22);
  EXPECT_EQ(tensorflow::DT_UINT64, 23);
  EXPECT_EQ(tensorflow::DT_FLOAT8_E5M2, 24);
  EXPECT_EQ(tensorflow::DT_UINT4, 30);
  EXPECT_EQ(tensorflow::DT_FLOAT_REF, 101);
  EXPECT_EQ(tensorflow::error::UNIMPLEMENTED, 12);
  EXPECT_EQ(tensorflow::error::UNAUTHENTICATED, 16);
}

TEST(ProtoWire, TfServingMessages) {
  using T = FieldDescriptor;
  const Descriptor* spec = tensorflow::serving::ModelSpec::descriptor();
  ExpectField(spec, "name", 1, T::TYPE_STRING);
  ExpectField(spec, "version", 2, T::TYPE_MESSAGE);
  ExpectField(spec, "signature_name", 3, T::TYPE_STRING);
  ExpectField(spec, "version_label", 4, T::TYPE_STRING);
  EXPECT_EQ(Field(spec, "version")->message_type()->full_name(), "google.protobuf.Int64Value");
  ASSERT_NE(Field(spec, "version")->containing_oneof(), nullptr);
  EXPECT_EQ(Field(spec, "version")->containing_oneof()->name(), "version_choice");
  EXPECT_EQ(Field(spec, "version_label")->containing_oneof(), Field(spec, "version")->containing_oneof());

  const Descriptor* preq = tensorflow::serving::PredictRequest::descriptor();
  ExpectField(preq, "model_spec", 1, T::TYPE_MESSAGE);
  ExpectField(preq, "inputs", 2, T::TYPE_MESSAGE, true);
  EXPECT_TRUE(Field(preq, "inputs")->is_map());
  ExpectField(preq, "output_filter", 3, T::TYPE_STRING, true);

  const Descriptor* presp = tensorflow::serving::PredictResponse::descriptor();
  ExpectField(presp, "outputs", 1, T::TYPE_MESSAGE, true);
  ExpectField(presp, "model_spec", 2, T::TYPE_MESSAGE);

  const Descriptor* mreq = tensorflow::serving::GetModelMetadataRequest::descriptor();
  ExpectField(mreq, "model_spec", 1, T::TYPE_MESSAGE);
  ExpectField(mreq, "metadata_field", 2, T::TYPE_STRING, true);
  const Descriptor* mresp = tensorflow::serving::GetModelMetadataResponse::descriptor();
  ExpectField(mresp, "model_spec", 1, T::TYPE_MESSAGE);
  ExpectField(mresp, "metadata", 2, T::TYPE_MESSAGE, true);
  EXPECT_EQ(Field(mresp, "metadata")->message_type()->map_value()->message_type()->full_name(),
            "google.protobuf.Any");
  ExpectField(tensorflow::serving::SignatureDefMap::descriptor(), "signature_def", 1, T::TYPE_MESSAGE, true);

  const Descriptor* sig = tensorflow::SignatureDef::descriptor();
  ExpectField(sig, "inputs", 1, T::TYPE_MESSAGE, true);
  ExpectField(sig, "outputs", 2, T::TYPE_MESSAGE, true);
  ExpectField(sig, "method_name", 3, T::TYPE_STRING);
  ExpectField(sig, "defaults", 4, T::TYPE_MESSAGE, true);
  const Descriptor* ti = tensorflow::TensorInfo::descriptor();
  ExpectField(ti, "name", 1, T::TYPE_STRING);
  ExpectField(ti, "dtype", 2, T::TYPE_ENUM);
  ExpectField(ti, "tensor_shape", 3, T::TYPE_MESSAGE);
  ExpectField(ti, "coo_sparse", 4, T::TYPE_MESSAGE);

  const Descriptor* sresp = tensorflow::serving::GetModelStatusResponse::descriptor();
  ExpectField(sresp, "model_version_status", 1, T::TYPE_MESSAGE, true);
  const Descriptor* mvs = tensorflow::serving::ModelVersionStatus::descriptor();
  ExpectField(mvs, "version", 1, T::TYPE_INT64);
  ExpectField(mvs, "state", 2, T::TYPE_ENUM);
  ExpectField(mvs, "status", 3, T::TYPE_MESSAGE);
  EXPECT_EQ(tensorflow::serving::ModelVersionStatus::UNKNOWN, 0);
  EXPECT_EQ(tensorflow::serving::ModelVersionStatus::START, 10);
  EXPECT_EQ(tensorflow::serving::ModelVersionStatus::LOADING, 20);
  EXPECT_EQ(tensorflow::serving::ModelVersionStatus::AVAILABLE, 30);
  EXPECT_EQ(tensorflow::serving::ModelVersionStatus::UNLOADING, 40);
  EXPECT_EQ(tensorflow::serving::ModelVersionStatus::END, 50);
  const Descriptor* st = tensorflow::serving::StatusProto::descriptor();
  ExpectField(st, "error_code", 1, T::TYPE_ENUM);
  ExpectField(st, "error_message", 2, T::TYPE_STRING);

  const Descriptor* mc = tensorflow::serving::ModelConfig::descriptor();
  ExpectField(mc, "name", 1, T::TYPE_STRING);
  ExpectField(mc, "base_path", 2, T::TYPE_STRING);
  ExpectField(mc, "model_platform", 4, T::TYPE_STRING);
  ExpectField(mc, "logging_config", 6, T::TYPE_MESSAGE);
  ExpectField(mc, "model_version_policy", 7, T::TYPE_MESSAGE);
  ExpectField(mc, "version_labels", 8, T::TYPE_MESSAGE, true);
  ExpectField(tensorflow::serving::ModelServerConfig::descriptor(), "model_config_list", 1, T::TYPE_MESSAGE);
  ExpectField(tensorflow::serving::ModelConfigList::descriptor(), "config", 1, T::TYPE_MESSAGE, true);
  const Descriptor* pol = tensorflow::serving::FileSystemStoragePathSourceConfig::ServableVersionPolicy::descriptor();
  ExpectField(pol, "latest", 100, T::TYPE_MESSAGE);
  ExpectField(pol, "all", 101, T::TYPE_MESSAGE);
  ExpectField(pol, "specific", 102, T::TYPE_MESSAGE);
}

TEST(ProtoWire, KServeMessages) {
  using T = FieldDescriptor;
  const Descriptor* req = inference::ModelInferRequest::descriptor();
  EXPECT_EQ(req->full_name(), "inference.ModelInferRequest");
  ExpectField(req, "model_name", 1, T::TYPE_STRING);
  ExpectField(req, "model_version", 2, T::TYPE_STRING);
  ExpectField(req, "id", 3, T::TYPE_STRING);
  ExpectField(req, "parameters", 4, T::TYPE_MESSAGE, true);
  ExpectField(req, "inputs", 5, T::TYPE_MESSAGE, true);
  ExpectField(req, "outputs", 6, T::TYPE_MESSAGE, true);
  ExpectField(req, "raw_input_contents", 7, T::TYPE_BYTES, true);
  const Descriptor* in = inference::ModelInferRequest::InferInputTensor::descriptor();
  ExpectField(in, "name", 1, T::TYPE_STRING);
  ExpectField(in, "datatype", 2, T::TYPE_STRING);
  ExpectField(in, "shape", 3, T::TYPE_INT64, true);
  ExpectField(in, "parameters", 4, T::TYPE_MESSAGE, true);
  ExpectField(in, "contents", 5, T::TYPE_MESSAGE);
  const Descriptor* ro = inference::ModelInferRequest::InferRequestedOutputTensor::descriptor();
  ExpectField(ro, "name", 1, T::TYPE_STRING);
  ExpectField(ro, "parameters", 2, T::TYPE_MESSAGE, true);

  const Descriptor* resp = inference::ModelInferResponse::descriptor();
  ExpectField(resp, "model_name", 1, T::TYPE_STRING);
  ExpectField(resp, "model_version", 2, T::TYPE_STRING);
  ExpectField(resp, "id", 3, T::TYPE_STRING);
  ExpectField(resp, "parameters", 4, T::TYPE_MESSAGE, true);
  ExpectField(resp, "outputs", 5, T::TYPE_MESSAGE, true);
  ExpectField(resp, "raw_output_contents", 6, T::TYPE_BYTES, true);

  const Descriptor* sresp = inference::ModelStreamInferResponse::descriptor();
  ExpectField(sresp, "error_message", 1, T::TYPE_STRING);
  ExpectField(sresp, "infer_response", 2, T::TYPE_MESSAGE);

  const Descriptor* p = inference::InferParameter::descriptor();
  ExpectField(p, "bool_param", 1, T::TYPE_BOOL);
  ExpectField(p, "int64_param", 2, T::TYPE_INT64);
  ExpectField(p, "string_param", 3, T::TYPE_STRING);
  ASSERT_NE(Field(p, "bool_param")->containing_oneof(), nullptr);
  EXPECT_EQ(Field(p, "bool_param")->containing_oneof()->name(), "parameter_choice");

  const Descriptor* c = inference::InferTensorContents::descriptor();
  ExpectField(c, "bool_contents", 1, T::TYPE_BOOL, true);
  ExpectField(c, "int_contents", 2, T::TYPE_INT32, true);
  ExpectField(c, "int64_contents", 3, T::TYPE_INT64, true);
  ExpectField(c, "uint_contents", 4, T::TYPE_UINT32, true);
  ExpectField(c, "uint64_contents", 5, T::TYPE_UINT64, true);
  ExpectField(c, "fp32_contents", 6, T::TYPE_FLOAT, true);
  ExpectField(c, "fp64_contents", 7, T::TYPE_DOUBLE, true);
  ExpectField(c, "bytes_contents", 8, T::TYPE_BYTES, true);

  const Descriptor* md = inference::ModelMetadataResponse::descriptor();
  ExpectField(md, "name", 1, T::TYPE_STRING);
  ExpectField(md, "versions", 2, T::TYPE_STRING, true);
  ExpectField(md, "platform", 3, T::TYPE_STRING);
  ExpectField(md, "inputs", 4, T::TYPE_MESSAGE, true);
  ExpectField(md, "outputs", 5, T::TYPE_MESSAGE, true);
  ExpectField(inference::ServerMetadataResponse::descriptor(), "extensions", 3, T::TYPE_STRING, true);
  ExpectField(inference::ModelReadyRequest::descriptor(), "version", 2, T::TYPE_STRING);
}

TEST(ProtoWire, ServiceMethodPaths) {
  ASSERT_NE(ForceLinkServiceDescriptors(), nullptr);
  const auto* ps = tensorflow::serving::PredictionService::service_full_name();
  EXPECT_STREQ(ps, "tensorflow.serving.PredictionService");
  const auto* psd = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(ps);
  ASSERT_NE(psd, nullptr);
  EXPECT_EQ(MethodPath(psd, "Predict"), "/tensorflow.serving.PredictionService/Predict");
  EXPECT_EQ(MethodPath(psd, "GetModelMetadata"), "/tensorflow.serving.PredictionService/GetModelMetadata");
  EXPECT_EQ(psd->method_count(), 2);  // Classify/Regress/MultiInference intentionally absent

  const auto* ms = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      tensorflow::serving::ModelService::service_full_name());
  ASSERT_NE(ms, nullptr);
  EXPECT_EQ(MethodPath(ms, "GetModelStatus"), "/tensorflow.serving.ModelService/GetModelStatus");
  EXPECT_EQ(MethodPath(ms, "HandleReloadConfigRequest"),
            "/tensorflow.serving.ModelService/HandleReloadConfigRequest");

  const auto* ks = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      inference::GRPCInferenceService::service_full_name());
  ASSERT_NE(ks, nullptr);
  EXPECT_EQ(ks->full_name(), "inference.GRPCInferenceService");
  for (const char* m : {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer",
                        "ModelStreamInfer"}) {
    EXPECT_EQ(MethodPath(ks, m), std::string("/inference.GRPCInferenceService/") + m);
  }
  const auto* stream = ks->FindMethodByName("ModelStreamInfer");
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->client_streaming());
  EXPECT_TRUE(stream->server_streaming());
  EXPECT_EQ(stream->output_type()->full_name(), "inference.ModelStreamInferResponse");
  EXPECT_FALSE(ks->FindMethodByName("ModelInfer")->client_streaming());
}

TEST(ProtoWire, RoundTrip) {
  tensorflow::serving::PredictRequest req;
  req.mutable_model_spec()->set_name("m");
  req.mutable_model_spec()->mutable_version()->set_value(2);
  auto& t = (*req.mutable_inputs())["x"];
  t.set_dtype(tensorflow::DT_FLOAT);
  t.mutable_tensor_shape()->add_dim()->set_size(2);
  t.add_float_val(1.5f);
  t.add_float_val(-2.0f);
  std::string wire;
  ASSERT_TRUE(req.SerializeToString(&wire));
  tensorflow::serving::PredictRequest back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.model_spec().version().value(), 2);
  ASSERT_EQ(back.inputs().at("x").float_val_size(), 2);
  EXPECT_FLOAT_EQ(back.inputs().at("x").float_val(1), -2.0f);

  // ModelSpec{name="m"}: tag 0x0a len 1 'm'; version Int64Value{value=2}: tag 0x12 len 2 [0x08 0x02]
  tensorflow::serving::ModelSpec spec;
  spec.set_name("m");
  spec.mutable_version()->set_value(2);
  EXPECT_EQ(spec.SerializeAsString(), std::string("\x0a\x01m\x12\x02\x08\x02", 7));

  inference::ModelInferRequest kreq;
  kreq.set_model_name("k");
  kreq.add_raw_input_contents(std::string("\x01\x02", 2));
  // model_name: 0x0a 0x01 'k'; raw_input_contents (field 7, LEN): 0x3a 0x02 01 02
  EXPECT_EQ(kreq.SerializeAsString(), std::string("\x0a\x01k\x3a\x02\x01\x02", 7));
}

}  // namespace
