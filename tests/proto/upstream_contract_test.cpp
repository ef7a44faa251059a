// Pins the wire contract of every gRPC service this server serves against the published upstream
// definitions, written out by hand below:
//   TF Serving 2.x  tensorflow_serving/apis/{prediction_service,model_service,predict,model,
//                   get_model_metadata,get_model_status,model_management,status}.proto,
//                   tensorflow_serving/config/{model_server_config,logging_config,log_collector_config,
//                   file_system_storage_path_source}.proto
//   TensorFlow      tensorflow/core/framework/{tensor,tensor_shape,types,resource_handle}.proto,
//                   tensorflow/core/protobuf/meta_graph.proto, error codes (package tensorflow.error)
//   KServe v2       docs/predict-api/v2/grpc_predict_v2.proto (package inference)
// Versions read: tensorflow/serving master of July 2026, plus predict.proto at 150bad406c (which adds
// RequestOptions.handshake = 13); kserve/kserve master of August 2026. The TensorFlow core tables follow
// current TensorFlow (DataType through DT_UINT2 = 32 cross-checked against an exact third-party copy).
//
// The test walks our generated descriptors from each service's methods (plus SignatureDefMap, which
// GetModelMetadata sends packed in a google.protobuf.Any) through every field, and requires the set
// of messages and enums reached, and every field's name, number, type, label and oneof, and every
// enum value, and every rpc's request/response types and streaming, to equal the upstream table
// after the explicit, justified differences in kDifferences. Anything else that changes fails.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "kserve/grpc_predict_v2.grpc.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::ServiceDescriptor;

using Table = std::map<std::string, std::vector<std::string>>;

// ---- upstream, by hand ---------------------------------------------------------------------------
// Field lines: "<name> = <number> : [repeated |optional ]<type>[ @<oneof>]", in field-number order.
// Enum lines: "<NAME> = <value>", in value order. Rpc lines: "<Name>([stream ]<Req>) returns ([stream ]<Resp>)".

const Table kUpstreamMessages = {
    // ---- tensorflow_serving/apis/predict.proto
    {"tensorflow.serving.PredictRequest",
     {"model_spec = 1 : tensorflow.serving.ModelSpec", "inputs = 2 : map<string, tensorflow.TensorProto>",
      "output_filter = 3 : repeated string",
      "predict_streamed_options = 5 : tensorflow.serving.PredictStreamedOptions", "client_id = 6 : optional bytes",
      "request_options = 7 : optional tensorflow.serving.PredictRequest.RequestOptions"}},
    {"tensorflow.serving.PredictRequest.RequestOptions",
     {"client_id = 1 : optional bytes",
      "deterministic_mode = 2 : optional tensorflow.serving.PredictRequest.RequestOptions.DeterministicMode",
      "return_additional_arrays_from_prefill = 3 : optional bool", "return_stoptokens = 4 : repeated int64",
      "max_cache_length = 6 : optional int64", "return_all_stoptokens = 9 : optional bool",
      "handshake = 13 : optional tensorflow.serving.PredictRequest.RequestOptions.Handshake"}},
    {"tensorflow.serving.PredictRequest.RequestOptions.Handshake", {"estimated_payload_bytes = 1 : int64"}},
    {"tensorflow.serving.PredictStreamedOptions",
     {"request_state = 1 : tensorflow.serving.PredictStreamedOptions.RequestState",
      "split_dimensions = 2 : map<string, int32>", "return_single_response = 3 : bool"}},
    {"tensorflow.serving.PredictResponse",
     {"outputs = 1 : map<string, tensorflow.TensorProto>", "model_spec = 2 : tensorflow.serving.ModelSpec"}},
    // ---- tensorflow_serving/apis/model.proto
    {"tensorflow.serving.ModelSpec",
     {"name = 1 : string", "version = 2 : google.protobuf.Int64Value @version_choice",
      "signature_name = 3 : string", "version_label = 4 : string @version_choice"}},
    // ---- tensorflow_serving/apis/get_model_metadata.proto
    {"tensorflow.serving.GetModelMetadataRequest",
     {"model_spec = 1 : tensorflow.serving.ModelSpec", "metadata_field = 2 : repeated string"}},
    {"tensorflow.serving.GetModelMetadataResponse",
     {"model_spec = 1 : tensorflow.serving.ModelSpec", "metadata = 2 : map<string, google.protobuf.Any>"}},
    {"tensorflow.serving.SignatureDefMap", {"signature_def = 1 : map<string, tensorflow.SignatureDef>"}},
    // ---- tensorflow_serving/apis/get_model_status.proto, status.proto
    {"tensorflow.serving.GetModelStatusRequest", {"model_spec = 1 : tensorflow.serving.ModelSpec"}},
    {"tensorflow.serving.GetModelStatusResponse",
     {"model_version_status = 1 : repeated tensorflow.serving.ModelVersionStatus"}},
    {"tensorflow.serving.ModelVersionStatus",
     {"version = 1 : int64", "state = 2 : tensorflow.serving.ModelVersionStatus.State",
      "status = 3 : tensorflow.serving.StatusProto"}},
    {"tensorflow.serving.StatusProto", {"error_code = 1 : tensorflow.error.Code", "error_message = 2 : string"}},
    // ---- tensorflow_serving/apis/model_management.proto
    {"tensorflow.serving.ReloadConfigRequest",
     {"config = 1 : tensorflow.serving.ModelServerConfig", "metric_names = 2 : repeated string"}},
    {"tensorflow.serving.ReloadConfigResponse",
     {"status = 1 : tensorflow.serving.StatusProto", "metric = 2 : repeated tensorflow.serving.Metric"}},
    {"tensorflow.serving.Metric", {"name = 1 : string", "int64_value_increase = 2 : int64 @value_increase"}},
    // ---- tensorflow_serving/config/model_server_config.proto
    {"tensorflow.serving.ModelServerConfig",
     {"model_config_list = 1 : tensorflow.serving.ModelConfigList @config",
      "custom_model_config = 2 : google.protobuf.Any @config"}},
    {"tensorflow.serving.ModelConfigList", {"config = 1 : repeated tensorflow.serving.ModelConfig"}},
    {"tensorflow.serving.ModelConfig",
     {"name = 1 : string", "base_path = 2 : string", "model_type = 3 : tensorflow.serving.ModelType",
      "model_platform = 4 : string", "logging_config = 6 : tensorflow.serving.LoggingConfig",
      "model_version_policy = 7 : tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy",
      "version_labels = 8 : map<string, int64>"}},
    // ---- tensorflow_serving/config/file_system_storage_path_source.proto (only the nested policy is reached)
    {"tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy",
     {"latest = 100 : tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest "
      "@policy_choice",
      "all = 101 : tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All @policy_choice",
      "specific = 102 : tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific "
      "@policy_choice"}},
    {"tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest",
     {"num_versions = 1 : uint32"}},
    {"tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All", {}},
    {"tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific",
     {"versions = 1 : repeated int64"}},
    // ---- tensorflow_serving/config/logging_config.proto, log_collector_config.proto
    {"tensorflow.serving.LoggingConfig",
     {"log_collector_config = 1 : tensorflow.serving.LogCollectorConfig",
      "sampling_config = 2 : tensorflow.serving.SamplingConfig",
      "custom_logging_config = 3 : google.protobuf.Any"}},
    {"tensorflow.serving.LogCollectorConfig", {"type = 1 : string", "filename_prefix = 2 : string"}},
    {"tensorflow.serving.SamplingConfig",
     {"sampling_rate = 1 : double", "attributes = 2 : int32",
      "per_task_sampling_configs = 3 : repeated tensorflow.serving.PerTaskSamplingConfig"}},
    {"tensorflow.serving.PerTaskSamplingConfig",
     {"dc = 1 : string", "task_index = 2 : optional int32", "sampling_rate = 3 : double"}},
    // ---- tensorflow/core/framework/tensor.proto
    {"tensorflow.TensorProto",
     {"dtype = 1 : tensorflow.DataType", "tensor_shape = 2 : tensorflow.TensorShapeProto",
      "version_number = 3 : int32", "tensor_content = 4 : bytes", "float_val = 5 : repeated float",
      "double_val = 6 : repeated double", "int_val = 7 : repeated int32", "string_val = 8 : repeated bytes",
      "scomplex_val = 9 : repeated float", "int64_val = 10 : repeated int64", "bool_val = 11 : repeated bool",
      "dcomplex_val = 12 : repeated double", "half_val = 13 : repeated int32",
      "resource_handle_val = 14 : repeated tensorflow.ResourceHandleProto",
      "variant_val = 15 : repeated tensorflow.VariantTensorDataProto", "uint32_val = 16 : repeated uint32",
      "uint64_val = 17 : repeated uint64", "float8_val = 18 : bytes"}},
    {"tensorflow.VariantTensorDataProto",
     {"type_name = 1 : string", "metadata = 2 : bytes", "tensors = 3 : repeated tensorflow.TensorProto"}},
    // ---- tensorflow/core/framework/tensor_shape.proto
    {"tensorflow.TensorShapeProto",
     {"dim = 2 : repeated tensorflow.TensorShapeProto.Dim", "unknown_rank = 3 : bool"}},
    {"tensorflow.TensorShapeProto.Dim", {"size = 1 : int64", "name = 2 : string"}},
    // ---- tensorflow/core/framework/resource_handle.proto
    {"tensorflow.ResourceHandleProto",
     {"device = 1 : string", "container = 2 : string", "name = 3 : string", "hash_code = 4 : uint64",
      "maybe_type_name = 5 : string",
      "dtypes_and_shapes = 6 : repeated tensorflow.ResourceHandleProto.DtypeAndShape"}},
    {"tensorflow.ResourceHandleProto.DtypeAndShape",
     {"dtype = 1 : tensorflow.DataType", "shape = 2 : tensorflow.TensorShapeProto"}},
    // ---- tensorflow/core/protobuf/meta_graph.proto
    {"tensorflow.SignatureDef",
     {"inputs = 1 : map<string, tensorflow.TensorInfo>", "outputs = 2 : map<string, tensorflow.TensorInfo>",
      "method_name = 3 : string", "defaults = 4 : map<string, tensorflow.TensorProto>"}},
    {"tensorflow.TensorInfo",
     {"name = 1 : string @encoding", "dtype = 2 : tensorflow.DataType",
      "tensor_shape = 3 : tensorflow.TensorShapeProto", "coo_sparse = 4 : tensorflow.TensorInfo.CooSparse @encoding",
      "composite_tensor = 5 : tensorflow.TensorInfo.CompositeTensor @encoding"}},
    {"tensorflow.TensorInfo.CooSparse",
     {"values_tensor_name = 1 : string", "indices_tensor_name = 2 : string", "dense_shape_tensor_name = 3 : string"}},
    // ---- KServe v2 grpc_predict_v2.proto
    {"inference.ServerLiveRequest", {}},
    {"inference.ServerLiveResponse", {"live = 1 : bool"}},
    {"inference.ServerReadyRequest", {}},
    {"inference.ServerReadyResponse", {"ready = 1 : bool"}},
    {"inference.ModelReadyRequest", {"name = 1 : string", "version = 2 : string"}},
    {"inference.ModelReadyResponse", {"ready = 1 : bool"}},
    {"inference.ServerMetadataRequest", {}},
    {"inference.ServerMetadataResponse",
     {"name = 1 : string", "version = 2 : string", "extensions = 3 : repeated string"}},
    {"inference.ModelMetadataRequest", {"name = 1 : string", "version = 2 : string"}},
    {"inference.ModelMetadataResponse",
     {"name = 1 : string", "versions = 2 : repeated string", "platform = 3 : string",
      "inputs = 4 : repeated inference.ModelMetadataResponse.TensorMetadata",
      "outputs = 5 : repeated inference.ModelMetadataResponse.TensorMetadata"}},
    {"inference.ModelMetadataResponse.TensorMetadata",
     {"name = 1 : string", "datatype = 2 : string", "shape = 3 : repeated int64"}},
    {"inference.ModelInferRequest",
     {"model_name = 1 : string", "model_version = 2 : string", "id = 3 : string",
      "parameters = 4 : map<string, inference.InferParameter>",
      "inputs = 5 : repeated inference.ModelInferRequest.InferInputTensor",
      "outputs = 6 : repeated inference.ModelInferRequest.InferRequestedOutputTensor",
      "raw_input_contents = 7 : repeated bytes"}},
    {"inference.ModelInferRequest.InferInputTensor",
     {"name = 1 : string", "datatype = 2 : string", "shape = 3 : repeated int64",
      "parameters = 4 : map<string, inference.InferParameter>", "contents = 5 : inference.InferTensorContents"}},
    {"inference.ModelInferRequest.InferRequestedOutputTensor",
     {"name = 1 : string", "parameters = 2 : map<string, inference.InferParameter>"}},
    {"inference.ModelInferResponse",
     {"model_name = 1 : string", "model_version = 2 : string", "id = 3 : string",
      "parameters = 4 : map<string, inference.InferParameter>",
      "outputs = 5 : repeated inference.ModelInferResponse.InferOutputTensor",
      "raw_output_contents = 6 : repeated bytes"}},
    {"inference.ModelInferResponse.InferOutputTensor",
     {"name = 1 : string", "datatype = 2 : string", "shape = 3 : repeated int64",
      "parameters = 4 : map<string, inference.InferParameter>", "contents = 5 : inference.InferTensorContents"}},
    {"inference.InferParameter",
     {"bool_param = 1 : bool @parameter_choice", "int64_param = 2 : int64 @parameter_choice",
      "string_param = 3 : string @parameter_choice"}},
    {"inference.InferTensorContents",
     {"bool_contents = 1 : repeated bool", "int_contents = 2 : repeated int32",
      "int64_contents = 3 : repeated int64", "uint_contents = 4 : repeated uint32",
      "uint64_contents = 5 : repeated uint64", "fp32_contents = 6 : repeated float",
      "fp64_contents = 7 : repeated double", "bytes_contents = 8 : repeated bytes"}},
};

const Table kUpstreamEnums = {
    {"tensorflow.DataType",
     {"DT_INVALID = 0", "DT_FLOAT = 1", "DT_DOUBLE = 2", "DT_INT32 = 3", "DT_UINT8 = 4", "DT_INT16 = 5",
      "DT_INT8 = 6", "DT_STRING = 7", "DT_COMPLEX64 = 8", "DT_INT64 = 9", "DT_BOOL = 10", "DT_QINT8 = 11",
      "DT_QUINT8 = 12", "DT_QINT32 = 13", "DT_BFLOAT16 = 14", "DT_QINT16 = 15", "DT_QUINT16 = 16",
      "DT_UINT16 = 17", "DT_COMPLEX128 = 18", "DT_HALF = 19", "DT_RESOURCE = 20", "DT_VARIANT = 21",
      "DT_UINT32 = 22", "DT_UINT64 = 23", "DT_FLOAT8_E5M2 = 24", "DT_FLOAT8_E4M3FN = 25",
      "DT_FLOAT8_E4M3FNUZ = 26", "DT_FLOAT8_E4M3B11FNUZ = 27", "DT_FLOAT8_E5M2FNUZ = 28", "DT_INT4 = 29",
      "DT_UINT4 = 30", "DT_INT2 = 31", "DT_UINT2 = 32", "DT_FLOAT_REF = 101", "DT_DOUBLE_REF = 102",
      "DT_INT32_REF = 103", "DT_UINT8_REF = 104", "DT_INT16_REF = 105", "DT_INT8_REF = 106",
      "DT_STRING_REF = 107", "DT_COMPLEX64_REF = 108", "DT_INT64_REF = 109", "DT_BOOL_REF = 110",
      "DT_QINT8_REF = 111", "DT_QUINT8_REF = 112", "DT_QINT32_REF = 113", "DT_BFLOAT16_REF = 114",
      "DT_QINT16_REF = 115", "DT_QUINT16_REF = 116", "DT_UINT16_REF = 117", "DT_COMPLEX128_REF = 118",
      "DT_HALF_REF = 119", "DT_RESOURCE_REF = 120", "DT_VARIANT_REF = 121", "DT_UINT32_REF = 122",
      "DT_UINT64_REF = 123", "DT_FLOAT8_E5M2_REF = 124", "DT_FLOAT8_E4M3FN_REF = 125",
      "DT_FLOAT8_E4M3FNUZ_REF = 126", "DT_FLOAT8_E4M3B11FNUZ_REF = 127", "DT_FLOAT8_E5M2FNUZ_REF = 128",
      "DT_INT4_REF = 129", "DT_UINT4_REF = 130", "DT_INT2_REF = 131", "DT_UINT2_REF = 132"}},
    {"tensorflow.error.Code",
     {"OK = 0", "CANCELLED = 1", "UNKNOWN = 2", "INVALID_ARGUMENT = 3", "DEADLINE_EXCEEDED = 4", "NOT_FOUND = 5",
      "ALREADY_EXISTS = 6", "PERMISSION_DENIED = 7", "RESOURCE_EXHAUSTED = 8", "FAILED_PRECONDITION = 9",
      "ABORTED = 10", "OUT_OF_RANGE = 11", "UNIMPLEMENTED = 12", "INTERNAL = 13", "UNAVAILABLE = 14",
      "DATA_LOSS = 15", "UNAUTHENTICATED = 16",
      "DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_ = 20"}},
    {"tensorflow.serving.ModelVersionStatus.State",
     {"UNKNOWN = 0", "START = 10", "LOADING = 20", "AVAILABLE = 30", "UNLOADING = 40", "END = 50"}},
    {"tensorflow.serving.ModelType", {"MODEL_TYPE_UNSPECIFIED = 0", "TENSORFLOW = 1", "OTHER = 2"}},
    {"tensorflow.serving.PredictStreamedOptions.RequestState",
     {"NONE = 0", "SPLIT = 1", "END_SPLIT = 2", "CANCEL = 3"}},
    {"tensorflow.serving.PredictRequest.RequestOptions.DeterministicMode",
     {"DETERMINISTIC_MODE_UNSPECIFIED = 0", "FIXED_DECODER_SLOT = 1"}},
};

const Table kUpstreamServices = {
    {"tensorflow.serving.PredictionService",
     {"Classify(tensorflow.serving.ClassificationRequest) returns (tensorflow.serving.ClassificationResponse)",
      "GetModelMetadata(tensorflow.serving.GetModelMetadataRequest) returns "
      "(tensorflow.serving.GetModelMetadataResponse)",
      "MultiInference(tensorflow.serving.MultiInferenceRequest) returns (tensorflow.serving.MultiInferenceResponse)",
      "Predict(tensorflow.serving.PredictRequest) returns (tensorflow.serving.PredictResponse)",
      "Regress(tensorflow.serving.RegressionRequest) returns (tensorflow.serving.RegressionResponse)"}},
    {"tensorflow.serving.ModelService",
     {"GetModelStatus(tensorflow.serving.GetModelStatusRequest) returns (tensorflow.serving.GetModelStatusResponse)",
      "HandleReloadConfigRequest(tensorflow.serving.ReloadConfigRequest) returns "
      "(tensorflow.serving.ReloadConfigResponse)"}},
    {"inference.GRPCInferenceService",
     {"ModelInfer(inference.ModelInferRequest) returns (inference.ModelInferResponse)",
      "ModelMetadata(inference.ModelMetadataRequest) returns (inference.ModelMetadataResponse)",
      "ModelReady(inference.ModelReadyRequest) returns (inference.ModelReadyResponse)",
      "ServerLive(inference.ServerLiveRequest) returns (inference.ServerLiveResponse)",
      "ServerMetadata(inference.ServerMetadataRequest) returns (inference.ServerMetadataResponse)",
      "ServerReady(inference.ServerReadyRequest) returns (inference.ServerReadyResponse)"}},
};

// ---- the known differences, each with its reason ----------------------------------------------------
enum class Side { UPSTREAM_ONLY, OURS_ONLY };
enum class Kind { SERVICE, MESSAGE, ENUM };
struct Difference {
  Kind kind;
  const char* where;  // service, message or enum full name
  const char* line;   // a line as in the tables above
  Side side;
  const char* why;
};

const Difference kDifferences[] = {
    {Kind::SERVICE, "tensorflow.serving.PredictionService",
     "Classify(tensorflow.serving.ClassificationRequest) returns (tensorflow.serving.ClassificationResponse)",
     Side::UPSTREAM_ONLY,
     "OVMS serves no Classify (its generated base class answers UNIMPLEMENTED); an unknown method is "
     "UNIMPLEMENTED here too, so a stock client sees the same code"},
    {Kind::SERVICE, "tensorflow.serving.PredictionService",
     "Regress(tensorflow.serving.RegressionRequest) returns (tensorflow.serving.RegressionResponse)",
     Side::UPSTREAM_ONLY, "as Classify: OVMS answers UNIMPLEMENTED, and so do we"},
    {Kind::SERVICE, "tensorflow.serving.PredictionService",
     "MultiInference(tensorflow.serving.MultiInferenceRequest) returns (tensorflow.serving.MultiInferenceResponse)",
     Side::UPSTREAM_ONLY, "as Classify: OVMS answers UNIMPLEMENTED, and so do we"},
    {Kind::MESSAGE, "tensorflow.TensorInfo", "composite_tensor = 5 : tensorflow.TensorInfo.CompositeTensor @encoding",
     Side::UPSTREAM_ONLY,
     "only the server writes TensorInfo (in GetModelMetadata), and OVMS never sets composite_tensor; its "
     "TypeSpecProto/StructuredValue tree would be dead weight. Number 5 is reserved in our meta_graph.proto"},
    {Kind::SERVICE, "inference.GRPCInferenceService",
     "ModelStreamInfer(stream inference.ModelInferRequest) returns (stream inference.ModelStreamInferResponse)",
     Side::OURS_ONLY,
     "OVMS's vendored grpc_predict_v2.proto adds this bidirectional stream (Triton's streaming extension); "
     "the published KServe v2 definition has no streaming rpc"},
    {Kind::MESSAGE, "inference.ModelStreamInferResponse", "error_message = 1 : string", Side::OURS_ONLY,
     "the streaming response of OVMS's (and Triton's) ModelStreamInfer, numbered as there"},
    {Kind::MESSAGE, "inference.ModelStreamInferResponse", "infer_response = 2 : inference.ModelInferResponse", Side::OURS_ONLY,
     "the streaming response's payload, numbered as in OVMS's and Triton's definitions"},
};

// ---- our side, read from the generated descriptors ------------------------------------------------

// prediction_service.pb.cc / model_service.pb.cc define no messages, so from a static library the
// linker drops them unless referenced; their service descriptors would then be missing from the pool.
const void* ForceLinkServiceDescriptorTables() {
  static const void* const volatile tables[] = {
      &descriptor_table_tensorflow_5fserving_2fapis_2fprediction_5fservice_2eproto,
      &descriptor_table_tensorflow_5fserving_2fapis_2fmodel_5fservice_2eproto,
  };
  return tables[0] != nullptr ? tables[1] : nullptr;
}

std::string TypeOf(const FieldDescriptor* f) {
  if (f->type() == FieldDescriptor::TYPE_MESSAGE) return f->message_type()->full_name();
  if (f->type() == FieldDescriptor::TYPE_ENUM) return f->enum_type()->full_name();
  return FieldDescriptor::TypeName(f->type());
}

std::string FieldLine(const FieldDescriptor* f) {
  std::string line = f->name() + " = " + std::to_string(f->number()) + " : ";
  if (f->is_map()) {
    line += "map<" + TypeOf(f->message_type()->map_key()) + ", " + TypeOf(f->message_type()->map_value()) + ">";
  } else {
    if (f->is_repeated()) line += "repeated ";
    if (f->has_optional_keyword()) line += "optional ";
    line += TypeOf(f);
  }
  if (f->real_containing_oneof() != nullptr) line += " @" + f->real_containing_oneof()->name();
  return line;
}

struct Reached {
  Table messages, enums;
};

void VisitEnum(const EnumDescriptor* e, Reached* r) {
  if (r->enums.count(e->full_name())) return;
  std::vector<std::pair<int, std::string>> values;
  for (int i = 0; i < e->value_count(); ++i)
    values.emplace_back(e->value(i)->number(), e->value(i)->name() + " = " + std::to_string(e->value(i)->number()));
  std::stable_sort(values.begin(), values.end(), [](auto& a, auto& b) { return a.first < b.first; });
  auto& lines = r->enums[e->full_name()];
  for (auto& v : values) lines.push_back(v.second);
}

void VisitMessage(const Descriptor* d, Reached* r) {
  if (d->file()->package() == "google.protobuf") return;  // well-known types are libprotobuf's own
  if (r->messages.count(d->full_name())) return;
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < d->field_count(); ++i) fields.push_back(d->field(i));
  std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->number() < b->number(); });
  auto& lines = r->messages[d->full_name()];  // std::map: stays valid while recursing
  for (const auto* f : fields) lines.push_back(FieldLine(f));
  for (const auto* f : fields) {
    const FieldDescriptor* target = f->is_map() ? f->message_type()->map_value() : f;
    if (target->type() == FieldDescriptor::TYPE_MESSAGE) VisitMessage(target->message_type(), r);
    if (target->type() == FieldDescriptor::TYPE_ENUM) VisitEnum(target->enum_type(), r);
  }
}

std::string RpcLine(const google::protobuf::MethodDescriptor* m) {
  return m->name() + "(" + (m->client_streaming() ? "stream " : "") + m->input_type()->full_name() +
         ") returns (" + (m->server_streaming() ? "stream " : "") + m->output_type()->full_name() + ")";
}

const char* const kServices[] = {"tensorflow.serving.PredictionService", "tensorflow.serving.ModelService",
                                 "inference.GRPCInferenceService"};

struct Ours {
  Reached reached;
  Table services;
};

Ours ReadOurs() {
  Ours o;
  EXPECT_NE(ForceLinkServiceDescriptorTables(), nullptr);
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : kServices) {
    const ServiceDescriptor* s = pool->FindServiceByName(name);
    if (s == nullptr) {
      ADD_FAILURE() << "service " << name << " is not in the generated pool";
      continue;
    }
    auto& rpcs = o.services[name];
    for (int i = 0; i < s->method_count(); ++i) {
      rpcs.push_back(RpcLine(s->method(i)));
      VisitMessage(s->method(i)->input_type(), &o.reached);
      VisitMessage(s->method(i)->output_type(), &o.reached);
    }
    std::sort(rpcs.begin(), rpcs.end());
  }
  // GetModelMetadata's metadata["signature_def"] is an Any holding a SignatureDefMap.
  VisitMessage(tensorflow::serving::SignatureDefMap::descriptor(), &o.reached);
  return o;
}

// The upstream table with the known differences applied; each difference must apply.
Table Expected(const Table& upstream, Kind kind) {
  Table t = upstream;
  for (const auto& d : kDifferences) {
    if (d.kind != kind) continue;
    auto& lines = t[d.where];
    auto it = std::find(lines.begin(), lines.end(), d.line);
    if (d.side == Side::UPSTREAM_ONLY) {
      EXPECT_NE(it, lines.end()) << "difference names an upstream line the table lacks: " << d.where << ": " << d.line;
      if (it != lines.end()) lines.erase(it);
    } else {
      EXPECT_EQ(it, lines.end()) << "difference names a line upstream already has: " << d.where << ": " << d.line;
      lines.push_back(d.line);
    }
  }
  return t;
}

int FieldNumber(const std::string& line) {
  auto eq = line.find(" = ");
  return eq == std::string::npos ? 0 : std::atoi(line.c_str() + eq + 3);
}

// Compares two tables entry by entry, naming every line that differs.
void ExpectSameTable(const char* what, const Table& expected, const Table& actual, bool sort_lines_by_number) {
  std::set<std::string> names;
  for (auto& [k, v] : expected) names.insert(k);
  for (auto& [k, v] : actual) names.insert(k);
  for (const auto& name : names) {
    auto e = expected.find(name);
    auto a = actual.find(name);
    if (e == expected.end()) {
      ADD_FAILURE() << what << " " << name << " is ours but not upstream's (nor a listed difference)";
      continue;
    }
    if (a == actual.end()) {
      ADD_FAILURE() << what << " " << name << " is upstream's but not reached from our services";
      continue;
    }
    std::vector<std::string> want = e->second, got = a->second;
    if (sort_lines_by_number) {
      std::stable_sort(want.begin(), want.end(), [](auto& x, auto& y) { return FieldNumber(x) < FieldNumber(y); });
    } else {
      std::sort(want.begin(), want.end());
    }
    for (const auto& l : want)
      if (std::find(got.begin(), got.end(), l) == got.end())
        ADD_FAILURE() << what << " " << name << ": upstream has \"" << l << "\"; ours does not";
    for (const auto& l : got)
      if (std::find(want.begin(), want.end(), l) == want.end())
        ADD_FAILURE() << what << " " << name << ": ours has \"" << l << "\"; upstream does not";
    EXPECT_EQ(want, got) << what << " " << name << " (order: field numbers)";
  }
}

TEST(UpstreamContract, EveryRpcOfEveryServedService) {
  Ours o = ReadOurs();
  ExpectSameTable("service", Expected(kUpstreamServices, Kind::SERVICE), o.services, false);
}

TEST(UpstreamContract, EveryMessageReachedAndEveryField) {
  Ours o = ReadOurs();
  ExpectSameTable("message", Expected(kUpstreamMessages, Kind::MESSAGE), o.reached.messages, true);
}

TEST(UpstreamContract, EveryEnumReachedAndEveryValue) {
  Ours o = ReadOurs();
  ExpectSameTable("enum", Expected(kUpstreamEnums, Kind::ENUM), o.reached.enums, true);
}

TEST(UpstreamContract, PackagesAndProtoFilesAreUpstreams) {
  // The package is part of every full name (and so of every gRPC path); the proto file path decides
  // the import path and the Any type URL prefix is type.googleapis.com/<full name> either way.
  const std::map<std::string, std::string> packages = {
      {"tensorflow.serving.PredictRequest", "tensorflow.serving"},
      {"tensorflow.TensorProto", "tensorflow"},
      {"inference.ModelInferRequest", "inference"},
  };
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& [message, package] : packages) {
    const Descriptor* d = pool->FindMessageTypeByName(message);
    ASSERT_NE(d, nullptr) << message;
    EXPECT_EQ(d->file()->package(), package) << message;
  }
  EXPECT_EQ(pool->FindEnumTypeByName("tensorflow.error.Code")->file()->package(), "tensorflow.error");
  Ours o = ReadOurs();
  for (const auto& [name, lines] : o.reached.messages) {
    const Descriptor* d = pool->FindMessageTypeByName(name);
    ASSERT_NE(d, nullptr) << name;
    const std::string& pkg = d->file()->package();
    EXPECT_TRUE(pkg == "tensorflow.serving" || pkg == "tensorflow" || pkg == "inference") << name << " in " << pkg;
  }
}

TEST(UpstreamContract, EveryDifferenceIsJustified) {
  for (const auto& d : kDifferences) {
    EXPECT_GT(std::string(d.why).size(), 20u) << d.where << ": " << d.line;
  }
}

}  // namespace
