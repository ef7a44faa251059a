#include "common/status.h"

namespace ovms {
namespace {

struct Entry {
  const char* name;
  const char* text;
  int grpc;  // grpc::StatusCode number
  int http;
};

constexpr int kOk = 0, kUnknown = 2, kInvalidArgument = 3, kNotFound = 5, kFailedPrecondition = 9,
              kUnimplemented = 12, kInternal = 13, kUnavailable = 14, kAborted = 10,
              kResourceExhausted = 8, kAlreadyExists = 6;

Entry entry(StatusCode c) {
  switch (c) {
#define E(code, text, grpc, http) \
  case StatusCode::code:          \
    return Entry{#code, text, grpc, http};
    E(OK, "OK", kOk, 200)
    E(OK_RELOADED, "Config reload successful", kOk, 200)
    E(OK_NOT_RELOADED, "Config reload was not needed", kOk, 200)
    E(PATH_INVALID, "The provided base path is invalid or doesn't exists", kInvalidArgument, 400)
    E(FILE_INVALID, "File not found or cannot open", kInternal, 500)
    E(CONFIG_FILE_INVALID, "Configuration file not found or cannot open", kUnknown, 500)
    E(JSON_INVALID, "The file is not valid json", kFailedPrecondition, 412)
    E(SHAPE_WRONG_FORMAT, "The provided shape is in wrong format", kInternal, 500)
    E(LAYOUT_WRONG_FORMAT, "The provided layout is in wrong format", kUnknown, 500)
    E(PLUGIN_CONFIG_WRONG_FORMAT, "Plugin config is in wrong format", kInternal, 500)
    E(PLUGIN_CONFIG_UNSUPPORTED_KEY, "Plugin config contains unsupported keys", kUnknown, 500)
    E(MODEL_VERSION_POLICY_WRONG_FORMAT, "Model version policy is in wrong format", kInternal, 500)
    E(MODEL_VERSION_POLICY_UNSUPPORTED_KEY, "Model version policy contains unsupported key", kInternal, 500)
    E(MODEL_CONFIG_INVALID, "Model config is invalid", kUnknown, 500)
    E(INVALID_NIREQ, "Nireq parameter too high", kUnknown, 500)
    E(RESHAPE_ERROR, "Model could not be reshaped with requested shape", kFailedPrecondition, 412)
    E(CONFIG_SHAPE_IS_NOT_IN_MODEL, "Shape from config not found in model", kUnknown, 500)
    E(CONFIG_LAYOUT_IS_NOT_IN_MODEL, "Layout from config not found in model", kUnknown, 500)
    E(CONFIG_SHAPE_MAPPED_BUT_USED_REAL_NAME, "Shape from config has real name. Use mapped name instead", kUnknown, 500)
    E(CONFIG_LAYOUT_MAPPED_BUT_USED_REAL_NAME, "Layout from config has real name. Use mapped name instead", kUnknown, 500)
    E(ANONYMOUS_FIXED_SHAPE_NOT_ALLOWED, "Anonymous fixed shape is invalid for models with multiple inputs", kUnknown, 500)
    E(ANONYMOUS_FIXED_LAYOUT_NOT_ALLOWED, "Anonymous fixed layout is invalid for models with multiple inputs", kUnknown, 500)
    E(CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE, "Cannot compile model into target device", kFailedPrecondition, 412)
    E(MODEL_NOT_LOADED, "Error while loading a model", kInternal, 500)
    E(NO_MODEL_VERSION_AVAILABLE, "Not a single model version is available", kInternal, 500)
    E(MODEL_MISSING, "Model with requested name and/or version is not found", kNotFound, 404)
    E(MODEL_NAME_MISSING, "Model with requested name is not found", kNotFound, 404)
    E(MODEL_VERSION_MISSING, "Model with requested version is not found", kNotFound, 404)
    E(MODEL_VERSION_NOT_LOADED_ANYMORE, "Model with requested version is retired", kNotFound, 404)
    E(MODEL_VERSION_NOT_LOADED_YET, "Model with requested version is not loaded yet", kUnavailable, 404)
    E(MODEL_SPEC_MISSING, "model_spec missing in request", kInvalidArgument, 400)
    E(MODEL_VERSION_INVALID_FORMAT, "invalid model version format in request", kInvalidArgument, 500)
    E(INVALID_SIGNATURE_DEF, "Invalid signature name", kInvalidArgument, 400)
    E(PIPELINE_DEFINITION_NAME_MISSING, "Pipeline with requested name is not found", kNotFound, 404)
    // DAG pipelines and custom nodes: gRPC/HTTP codes as OVMS maps them (unmapped = UNKNOWN / 500)
    E(PIPELINE_DEFINITION_ALREADY_EXIST, "Pipeline definition with the same name already exists", kUnknown, 500)
    E(PIPELINE_NODE_WRONG_KIND_CONFIGURATION, "Unsupported node type", kUnknown, 500)
    E(PIPELINE_MULTIPLE_ENTRY_NODES, "Pipeline definition has multiple request nodes", kUnknown, 500)
    E(PIPELINE_MULTIPLE_EXIT_NODES, "Pipeline definition has multiple response nodes", kUnknown, 500)
    E(PIPELINE_MISSING_ENTRY_OR_EXIT, "Pipeline definition is missing request or response node", kUnknown, 500)
    E(PIPELINE_NODE_NAME_DUPLICATE, "Pipeline definition has multiple nodes with the same name", kUnknown, 500)
    E(PIPELINE_CYCLE_FOUND, "Pipeline definition contains a cycle", kUnknown, 500)
    E(PIPELINE_CONTAINS_UNCONNECTED_NODES, "Pipeline definition has unconnected nodes", kUnknown, 500)
    E(PIPELINE_NODE_REFERING_TO_MISSING_NODE, "Pipeline definition has reference to missing node", kUnknown, 500)
    E(PIPELINE_NODE_REFERING_TO_MISSING_MODEL, "Pipeline definition has reference to missing model", kUnknown, 500)
    E(PIPELINE_NODE_REFERING_TO_MISSING_DATA_SOURCE, "Pipeline definition has reference to missing data source", kUnknown, 500)
    E(PIPELINE_NODE_REFERING_TO_MISSING_MODEL_OUTPUT, "Pipeline definition has reference to missing model output", kUnknown, 500)
    E(PIPELINE_CONNECTION_TO_MISSING_MODEL_INPUT, "Pipeline definition has connection to non existing model input", kUnknown, 500)
    E(PIPELINE_NOT_ALL_INPUTS_CONNECTED, "Pipeline definition does not have connections for all inputs of underlying models", kUnknown, 500)
    E(PIPELINE_MODEL_INPUT_CONNECTED_TO_MULTIPLE_DATA_SOURCES, "Pipeline definition has multiple connections to the same input of underlying model", kUnknown, 500)
    E(PIPELINE_EXIT_USED_AS_NODE_DEPENDENCY, "Pipeline definition has response node used as dependency node", kUnknown, 500)
    E(PIPELINE_NAME_OCCUPIED, "Pipeline has the same name as model", kUnknown, 500)
    E(PIPELINE_DEFINITION_INVALID_NODE_LIBRARY, "Pipeline refers to incorrect library", kUnknown, 500)
    E(PIPELINE_INCONSISTENT_SHARD_DIMENSIONS, "Gathered tensor shards dimensions are different", kUnknown, 500)
    E(PIPELINE_WRONG_NUMBER_OF_DIMENSIONS_TO_DEMULTIPLY, "Wrong number of dimensions in a tensor to be sharded", kUnknown, 500)
    E(PIPELINE_WRONG_DIMENSION_SIZE_TO_DEMULTIPLY, "Wrong dimension size. Should match demultiply count", kUnknown, 500)
    E(PIPELINE_NODE_GATHER_FROM_NOT_EXISTING_NODE, "Gather node refers to not existing node", kUnknown, 500)
    E(PIPELINE_NODE_GATHER_FROM_NOT_DEMULTIPLEXER, "Gather node refers to node that isn't demultiplexer", kUnknown, 500)
    E(PIPELINE_NODE_GATHER_FROM_ENTRY_NODE, "Gathering from entry node is not allowed", kUnknown, 500)
    E(PIPELINE_DEMULTIPLY_ENTRY_NODE, "Demultiplication at entry node is not allowed", kUnknown, 500)
    E(PIPELINE_DEMULTIPLY_COUNT_DOES_NOT_MATCH_TENSOR_SHARD_COUNT, "Demultiplication count does not match tensor first dimension", kUnknown, 500)
    E(PIPELINE_MANUAL_GATHERING_FROM_MULTIPLE_NODES_NOT_SUPPORTED, "Manual gathering from multiple nodes is not supported", kUnknown, 500)
    E(PIPELINE_NOT_ENOUGH_SHAPE_DIMENSIONS_TO_DEMULTIPLY, "Pipeline has not enough shape dimensions to demultiply", kUnknown, 500)
    E(PIPELINE_TOO_LARGE_DIMENSION_SIZE_TO_DEMULTIPLY, "Too large dynamic demultiplication requested.", kUnknown, 500)
    E(PIPELINE_WRONG_DEMULTIPLEXER_GATHER_NODES_ORDER, "Demultiplexer and gather nodes are not in LIFO order", kUnknown, 500)
    E(PIPELINE_DEMULTIPLEXER_NO_RESULTS, "Pipeline execution aborted due to no content from custom node", kAborted, 204)
    E(PIPELINE_INPUTS_AMBIGUOUS_METADATA, "Multiple nodes connected to the same pipeline input require different tensor metadata", kUnknown, 500)
    E(PIPELINE_DEFINITION_NOT_LOADED_ANYMORE, "Pipeline is retired", kNotFound, 404)
    E(PIPELINE_DEFINITION_NOT_LOADED_YET, "Pipeline is not loaded yet", kUnavailable, 404)
    E(FORBIDDEN_MODEL_DYNAMIC_PARAMETER, "Value of provided parameter is forbidden", kUnknown, 500)
    E(MODEL_NAME_OCCUPIED, "Given model name is already occupied", kUnknown, 500)
    E(NODE_LIBRARY_ALREADY_LOADED, "Custom node library is already loaded", kUnknown, 500)
    E(NODE_LIBRARY_LOAD_FAILED_OPEN, "Custom node library failed to open", kUnknown, 500)
    E(NODE_LIBRARY_LOAD_FAILED_SYM, "Custom node library failed to load symbol", kUnknown, 500)
    E(NODE_LIBRARY_MISSING, "Custom node library not found", kUnknown, 500)
    E(NODE_LIBRARY_MISSING_OUTPUT, "Custom node output is missing", kUnknown, 500)
    E(NODE_LIBRARY_EXECUTION_FAILED, "Custom node failed during execution", kUnknown, 500)
    E(NODE_LIBRARY_OUTPUTS_CORRUPTED, "Custom node library has returned corrupted outputs handle", kUnknown, 500)
    E(NODE_LIBRARY_OUTPUTS_CORRUPTED_COUNT, "Custom node library has produced corrupted number of outputs", kUnknown, 500)
    E(NODE_LIBRARY_INVALID_PRECISION, "Custom node has produced tensor with unspecified precision", kUnknown, 500)
    E(NODE_LIBRARY_INVALID_SHAPE, "Custom node has produced tensor with not matching shape", kUnknown, 500)
    E(NODE_LIBRARY_INVALID_CONTENT_SIZE, "Custom node output has invalid content size", kUnknown, 500)
    E(NODE_LIBRARY_METADATA_FAILED, "Custom node failed on metadata call", kUnknown, 500)
    E(NODE_LIBRARY_OUTPUT_MISSING_NAME, "Custom node output is missing name", kUnknown, 500)
    E(NODE_LIBRARY_INITIALIZE_FAILED, "Failure during custom node library initialization", kUnknown, 500)
    E(INVALID_NO_OF_INPUTS, "Invalid number of inputs", kInvalidArgument, 400)
    E(INVALID_MISSING_INPUT, "Missing input with specific name", kInvalidArgument, 400)
    E(INVALID_MISSING_OUTPUT, "Missing output with specific name", kInvalidArgument, 400)
    E(INVALID_UNEXPECTED_INPUT, "Unexpected input", kInvalidArgument, 400)
    E(INVALID_NO_OF_SHAPE_DIMENSIONS, "Invalid number of shape dimensions", kInvalidArgument, 400)
    E(INVALID_BATCH_SIZE, "Invalid input batch size", kInvalidArgument, 400)
    E(INVALID_SHAPE, "Invalid input shape", kInvalidArgument, 400)
    E(INVALID_PRECISION, "Invalid input precision", kInvalidArgument, 400)
    E(INVALID_VALUE_COUNT, "Invalid number of values in tensor proto container", kInvalidArgument, 400)
    E(INVALID_CONTENT_SIZE, "Invalid content size of tensor proto", kInvalidArgument, 400)
    E(INVALID_MESSAGE_STRUCTURE, "Passing buffers both in ModelInferRequest::InferInputTensor::contents and in ModelInferRequest::raw_input_contents is not allowed", kInvalidArgument, 400)
    E(INVALID_INPUT_FORMAT, "Inputs inside buffer does not match expected format.", kInvalidArgument, 400)
    E(INVALID_STRING_INPUT, "Invalid string input", kInvalidArgument, 400)
    E(UNSUPPORTED_LAYOUT, "Received binary image input but resource not configured to accept NHWC layout", kInvalidArgument, 400)
    E(INVALID_NO_OF_CHANNELS, "Invalid number of channels in binary input", kInvalidArgument, 400)
    E(BINARY_IMAGES_RESOLUTION_MISMATCH, "Binary input images for this endpoint are required to have the same resolution", kInvalidArgument, 400)
    E(IMAGE_PARSING_FAILED, "Image parsing failed", kUnknown, 500)
    E(STRING_VAL_EMPTY, "String val is empty", kInvalidArgument, 400)
    E(BYTES_CONTENTS_EMPTY, "Bytes contents is empty", kInvalidArgument, 400)
    E(NOT_IMPLEMENTED, "Not implemented", kUnimplemented, 500)
    E(REST_INVALID_URL, "Invalid request URL", kUnknown, 400)
    E(REST_UNSUPPORTED_METHOD, "Unsupported method", kUnknown, 406)
    E(REST_NOT_FOUND, "Requested REST resource not found", kUnknown, 404)
    E(REST_BODY_NOT_AN_OBJECT, "Request body should be JSON object", kUnknown, 400)
    E(REST_PREDICT_UNKNOWN_ORDER, "Invalid JSON structure. Could not detect row or column format", kUnknown, 400)
    E(REST_INSTANCES_NOT_AN_ARRAY, "Invalid JSON structure. Nonamed instance is not an array.", kUnknown, 400)
    E(REST_NAMED_INSTANCE_NOT_AN_OBJECT, "Invalid JSON structure. One of named instances is not a JSON object.", kUnknown, 400)
    E(REST_NO_INSTANCES_FOUND, "Invalid JSON structure. Missing instances in row format", kUnknown, 400)
    E(REST_INSTANCES_NOT_NAMED_OR_NONAMED, "Could not detect neither named or nonamed format", kUnknown, 400)
    E(REST_COULD_NOT_PARSE_INSTANCE, "Could not parse instance content. Not valid ndarray detected", kUnknown, 400)
    E(REST_INSTANCES_BATCH_SIZE_DIFFER, "Invalid JSON structure. Request inputs have different batch sizes", kUnknown, 400)
    E(REST_INPUTS_NOT_AN_OBJECT, "Invalid JSON structure. One of inputs is not a JSON object.", kUnknown, 400)
    E(REST_NO_INPUTS_FOUND, "Invalid JSON structure, missing inputs", kUnknown, 400)
    E(REST_COULD_NOT_PARSE_INPUT, "Could not parse input content. Not valid ndarray detected", kUnknown, 400)
    E(REST_COULD_NOT_PARSE_OUTPUT, "Could not parse output content.", kUnknown, 400)
    E(REST_COULD_NOT_PARSE_PARAMETERS, "Could not parse request parameters", kUnknown, 400)
    E(REST_UNSUPPORTED_PRECISION, "Could not parse input content. Unsupported data precision detected", kUnknown, 400)
    E(REST_SERIALIZE_NO_DATA, "Response parsing to JSON error", kUnknown, 500)
    E(REST_BINARY_DATA_SIZE_PARAMETER_INVALID, "binary_data_size parameter is invalid and cannot be parsed", kUnknown, 400)
    E(REST_BINARY_BUFFER_EXCEEDED, "Received buffer size is smaller than binary_data_size parameter indicates", kUnknown, 400)
    E(REST_CONTENTS_FIELD_NOT_EMPTY, "Request has binary_data_size parameter but data field is not empty", kUnknown, 500)
    E(REST_INFERENCE_HEADER_CONTENT_LENGTH_INVALID, "Inference header content length is invalid", kUnknown, 500)
    E(REST_INFERENCE_HEADER_CONTENT_LENGTH_EXCEEDED, "Inference header content length exceeded JSON size", kUnknown, 500)
    E(REST_PROTO_TO_STRING_ERROR, "Response parsing to JSON error", kUnknown, 500)
    E(REST_ALLOCATION_ERROR, "Internal allocation error", kUnknown, 500)
    E(OV_UNSUPPORTED_SERIALIZATION_PRECISION, "Unsupported serialization precision", kInternal, 500)
    E(OV_INTERNAL_INFERENCE_ERROR, "Internal inference error", kInternal, 500)
    E(INTERNAL_ERROR, "Internal server error", kInternal, 500)
    E(SERVER_NOT_READY, "Server is not ready", kUnavailable, 503)
    // Stateful models: texts from OVMS src/status.cpp, codes from its grpc_utils.cpp / http_server.cpp
    // (v2026.2.1, as in v2021.4.2). The config errors are not in OVMS's maps: UNKNOWN / 500.
    E(REQUESTED_DYNAMIC_PARAMETERS_ON_STATEFUL_MODEL, "Dynamic shape and dynamic batch size are not supported for stateful models", kUnknown, 500)
    E(REQUESTED_STATEFUL_PARAMETERS_ON_SUBSCRIBED_MODEL, "Stateful model cannot be subscribed to pipeline", kUnknown, 500)
    E(REQUESTED_MODEL_TYPE_CHANGE, "Model type cannot be changed after it is loaded", kUnknown, 500)
    E(INVALID_NON_STATEFUL_MODEL_PARAMETER, "Stateful model config parameter used for non stateful model", kUnknown, 500)
    E(INVALID_MAX_SEQUENCE_NUMBER, "Sequence max number parameter too high", kUnknown, 500)
    E(SEQUENCE_MISSING, "Sequence with provided ID does not exist", kNotFound, 404)
    E(SEQUENCE_ALREADY_EXISTS, "Sequence with provided ID already exists", kAlreadyExists, 409)
    E(SEQUENCE_ID_NOT_PROVIDED, "Sequence ID has not been provided in request inputs", kInvalidArgument, 400)
    E(INVALID_SEQUENCE_CONTROL_INPUT, "Unexpected value of sequence control input", kInvalidArgument, 400)
    E(SEQUENCE_ID_BAD_TYPE, "Could not find sequence id in expected tensor proto field uint64_val", kInvalidArgument, 400)
    E(SEQUENCE_CONTROL_INPUT_BAD_TYPE, "Could not find sequence control input in expected tensor proto field uint32_val", kInvalidArgument, 400)
    E(SEQUENCE_TERMINATED, "Sequence last request is being processed and it's not available anymore", kFailedPrecondition, 412)
    E(SPECIAL_INPUT_NO_TENSOR_SHAPE, "Special input proto does not contain tensor shape information", kInvalidArgument, 400)
    E(MAX_SEQUENCE_NUMBER_REACHED, "Max sequence number has been reached. Could not create new sequence.", kUnavailable, 503)
    E(INFER_QUEUE_FULL, "Too many requests waiting for an inference slot of the model", kResourceExhausted, 429)
    E(UNKNOWN_ERROR, "Unknown error", kUnknown, 500)
#undef E
  }
  return Entry{"UNKNOWN_ERROR", "Unknown error", kUnknown, 500};
}

}  // namespace

const char* statusText(StatusCode code) { return entry(code).text; }
const char* statusName(StatusCode code) { return entry(code).name; }

std::string Status::message() const {
  std::string m = statusText(code_);
  if (!details_.empty()) {
    m += " - ";
    m += details_;
  }
  return m;
}

int Status::grpcCode() const { return entry(code_).grpc; }

std::string Status::grpcMessage() const {
  // OVMS loses the details of codes it does not map to a gRPC code.
  if (grpcCode() == kUnknown) return "Unknown error";
  return message();
}

int Status::httpCode() const { return entry(code_).http; }

}  // namespace ovms
