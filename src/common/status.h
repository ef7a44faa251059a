#pragma once
// OVMS status codes: every error a client or operator sees carries one of these, with the
// exact OVMS text, its gRPC code and its HTTP code.
#include <string>
#include <utility>

namespace ovms {

enum class StatusCode {
  OK,
  OK_RELOADED,
  OK_NOT_RELOADED,
  // storage / config
  PATH_INVALID,
  FILE_INVALID,
  CONFIG_FILE_INVALID,
  JSON_INVALID,
  SHAPE_WRONG_FORMAT,
  LAYOUT_WRONG_FORMAT,
  PLUGIN_CONFIG_WRONG_FORMAT,
  PLUGIN_CONFIG_UNSUPPORTED_KEY,
  MODEL_VERSION_POLICY_WRONG_FORMAT,
  MODEL_VERSION_POLICY_UNSUPPORTED_KEY,
  MODEL_CONFIG_INVALID,
  INVALID_NIREQ,
  RESHAPE_ERROR,
  CANNOT_COMPILE_MODEL_INTO_TARGET_DEVICE,
  MODEL_NOT_LOADED,
  NO_MODEL_VERSION_AVAILABLE,
  // lookup
  MODEL_MISSING,
  MODEL_NAME_MISSING,
  MODEL_VERSION_MISSING,
  MODEL_VERSION_NOT_LOADED_ANYMORE,
  MODEL_VERSION_NOT_LOADED_YET,
  MODEL_SPEC_MISSING,
  MODEL_VERSION_INVALID_FORMAT,
  INVALID_SIGNATURE_DEF,
  PIPELINE_DEFINITION_NAME_MISSING,
  // request validation
  INVALID_NO_OF_INPUTS,
  INVALID_MISSING_INPUT,
  INVALID_UNEXPECTED_INPUT,
  INVALID_NO_OF_SHAPE_DIMENSIONS,
  INVALID_BATCH_SIZE,
  INVALID_SHAPE,
  INVALID_PRECISION,
  INVALID_VALUE_COUNT,
  INVALID_CONTENT_SIZE,
  INVALID_MESSAGE_STRUCTURE,
  INVALID_INPUT_FORMAT,
  INVALID_STRING_INPUT,
  UNSUPPORTED_LAYOUT,
  INVALID_NO_OF_CHANNELS,
  BINARY_IMAGES_RESOLUTION_MISMATCH,
  IMAGE_PARSING_FAILED,
  STRING_VAL_EMPTY,
  BYTES_CONTENTS_EMPTY,
  NOT_IMPLEMENTED,
  // REST
  REST_INVALID_URL,
  REST_UNSUPPORTED_METHOD,
  REST_NOT_FOUND,
  REST_BODY_NOT_AN_OBJECT,
  REST_PREDICT_UNKNOWN_ORDER,
  REST_INSTANCES_NOT_AN_ARRAY,
  REST_NAMED_INSTANCE_NOT_AN_OBJECT,
  REST_NO_INSTANCES_FOUND,
  REST_INSTANCES_NOT_NAMED_OR_NONAMED,
  REST_COULD_NOT_PARSE_INSTANCE,
  REST_INSTANCES_BATCH_SIZE_DIFFER,
  REST_INPUTS_NOT_AN_OBJECT,
  REST_NO_INPUTS_FOUND,
  REST_COULD_NOT_PARSE_INPUT,
  REST_COULD_NOT_PARSE_OUTPUT,
  REST_COULD_NOT_PARSE_PARAMETERS,
  REST_UNSUPPORTED_PRECISION,
  REST_SERIALIZE_NO_DATA,
  REST_BINARY_DATA_SIZE_PARAMETER_INVALID,
  REST_BINARY_BUFFER_EXCEEDED,
  REST_CONTENTS_FIELD_NOT_EMPTY,
  REST_INFERENCE_HEADER_CONTENT_LENGTH_INVALID,
  REST_INFERENCE_HEADER_CONTENT_LENGTH_EXCEEDED,
  REST_PROTO_TO_STRING_ERROR,
  REST_ALLOCATION_ERROR,
  OV_UNSUPPORTED_SERIALIZATION_PRECISION,
  // runtime
  OV_INTERNAL_INFERENCE_ERROR,
  INTERNAL_ERROR,
  SERVER_NOT_READY,
  UNKNOWN_ERROR,
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code) : code_(code) {}  // NOLINT: implicit by design, like OVMS
  Status(StatusCode code, std::string details) : code_(code), details_(std::move(details)) {}

  bool ok() const { return code_ == StatusCode::OK || code_ == StatusCode::OK_RELOADED || code_ == StatusCode::OK_NOT_RELOADED; }
  StatusCode code() const { return code_; }
  const std::string& details() const { return details_; }
  // "<text>" or "<text> - <details>", as OVMS prints it.
  std::string message() const;
  // The gRPC status code number (grpc::StatusCode value) for this status.
  int grpcCode() const;
  // The text a gRPC client sees: codes OVMS does not map become "Unknown error".
  std::string grpcMessage() const;
  int httpCode() const;

  bool operator==(StatusCode c) const { return code_ == c; }

 private:
  StatusCode code_ = StatusCode::OK;
  std::string details_;
};

const char* statusText(StatusCode code);
const char* statusName(StatusCode code);

}  // namespace ovms
