#pragma once
// The one request model of the server. Every front end (TF-Serving gRPC and REST, KServe gRPC
// unary and stream, KServe REST) decodes its wire message into an InferenceRequest and encodes an
// InferenceResponse back; everything in between runs once, in serving::InferencePath
// (serving/inference_path.h).
//
// Tensors are views: an input's `tensor` points into the wire message (tensor_content,
// raw_input_contents, the REST body's binary part) wherever those bytes can be used as they are,
// otherwise into the input's own `storage` (typed containers, JSON numbers, packed strings). The
// wire message must therefore outlive the request.
//
// STRING / BYTES data is always held in one layout, the KServe binary BYTES layout: for every
// element a 4-byte little-endian length followed by that many bytes, elements back to back in
// row-major order (serving/packed_strings.h is the one codec of that layout).
//
// Thread-safety: plain values; a request and its response belong to the thread handling them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace ovms::serving {

// Where a request came from: metrics labels (§8) and the per-API options of the path.
enum class Api { TensorFlowServing, KServe };
enum class Interface { GRPC, REST };
enum class Method { Predict, GetModelMetadata, GetModelStatus, ModelInfer, ModelMetadata, ModelReady };

struct RequestOrigin {
  Api api = Api::KServe;
  Interface interface = Interface::GRPC;
  Method method = Method::ModelInfer;
};
const char* apiName(Api a);              // "TensorFlowServing", "KServe"
const char* interfaceName(Interface i);  // "gRPC", "REST"
const char* methodName(Method m);        // "Predict", "ModelInfer", ...

// How an input's bytes arrived.
enum class InputEncoding {
  RAW,             // the tensor's bytes exactly as the engine takes them (tensor_content, raw_input_contents)
  TYPED,           // values from a typed container (float_val, contents, JSON numbers): counted in values
  PACKED_STRINGS,  // STRING / BYTES elements in the packed layout described above
};

// One request input, as the wire layer decoded it. `tensor` views bytes owned by the request
// message or by `storage`.
struct InferenceInput {
  std::string name;
  engine::TensorView tensor;
  engine::OwnedTensor storage;
  // Set when the values came from a typed container (float_val, contents, JSON) rather than raw
  // bytes: mismatches are then counted in values, not bytes.
  bool typed_values = false;
  int64_t value_count = 0;
  // The datatype exactly as the client wrote it ("INT32", "BYTES"); empty when the wire has no
  // datatype of its own (TF-Serving: OVMS then prints its precision name, e.g. "I32"). Used in the
  // INVALID_PRECISION details, which OVMS prints verbatim.
  std::string client_datatype;

  InputEncoding encoding() const {
    if (tensor.precision == engine::Precision::STRING) return InputEncoding::PACKED_STRINGS;
    return typed_values ? InputEncoding::TYPED : InputEncoding::RAW;
  }
};

struct InferenceRequest {
  // Set by the front end before the path runs.
  std::string model_name;
  int64_t model_version = 0;  // 0 = the default version (highest AVAILABLE)
  std::string version_label;  // accepted on the wire, ignored by OVMS; only logged
  RequestOrigin origin;
  // Filled by the wire decoder (before or after the model is resolved, see InferencePath::run).
  std::string id;                              // echoed in KServe responses
  std::vector<InferenceInput> inputs;          // request order
  std::vector<std::string> requested_outputs;  // empty = all outputs (see InferenceOptions)

  const InferenceInput* find(const std::string& name) const {
    for (const auto& i : inputs)
      if (i.name == name) return &i;
    return nullptr;
  }
};

struct InferenceOutput {
  std::string name;
  engine::TensorView tensor;  // owns its bytes through tensor.owner (engine outputs)
  // The `sequence_id` a stateful model appends: OVMS writes it to TF-Serving's uint64_val field.
  bool sequence_id = false;
};

struct InferenceResponse {
  std::string model_name;
  int64_t model_version = 0;  // the resolved version
  std::string id;             // the request's id
  std::vector<InferenceOutput> outputs;
  // Keeps whatever produced the outputs (the servable, a pipeline) alive until the response is
  // encoded, so a version retired meanwhile is freed only after its last response is sent.
  std::shared_ptr<const void> producer;
};

}  // namespace ovms::serving
