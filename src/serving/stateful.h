#pragma once
// Stateful models (docs/stateful.md): how the state lives in the graph, and the special inputs.
//
// State convention. A stateful model's graph carries its state explicitly: every graph input
// named `<name>_state` that has a graph output named `<name>_state_out` is one state variable.
// Each request feeds the sequence's current value to the input and keeps the output as the new
// value. The initial value (at sequence start) is the input's initializer when the graph gives it
// one (an ONNX input with a default value; the IR translation of ReadValue writes its constant
// initial value that way), otherwise zeros. Such inputs and outputs are hidden from clients.
// IR ReadValue/Assign of variable `v` are translated into the pair `v_state` / `v_state_out`.
//
// Special inputs (OVMS): `sequence_id` (U64, shape [1]) and `sequence_control_input` (U32, shape
// [1]: 0 none, 1 start, 2 end); not model inputs; `sequence_id` comes back as an output.
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tensor.h"
#include "serving/inference_request.h"

namespace ovms::serving {

inline constexpr const char* kSequenceIdInput = "sequence_id";
inline constexpr const char* kSequenceControlInput = "sequence_control_input";
inline bool isSpecialInput(const std::string& name) {
  return name == kSequenceIdInput || name == kSequenceControlInput;
}

struct StateVariable {
  std::string input;    // graph input name (engine name)
  std::string output;   // graph output name (engine name)
  engine::OwnedTensor initial;  // the value at sequence start
};

// Finds the state pairs of a serialized ONNX model and turns initializers of state inputs into
// the variables' initial values (removing them, so the inputs must be fed). Rewrites `onnx_bytes`
// only when it removed initializers. A state input needs a static shape and a fixed-size type.
Status extractStateVariables(std::string* onnx_bytes, std::vector<StateVariable>* out);

// The special inputs of a request, checked in OVMS order (tfs_request_utils.cpp extractSpecialKeys):
// shape -> type -> control value -> id present. TF-Serving gRPC must carry the values in
// uint64_val / uint32_val, as in OVMS; the other APIs also take raw bytes (KServe raw contents).
struct SequenceSpec {
  uint64_t id = 0;
  uint32_t control = 0;
};
Status readSequenceSpec(const InferenceRequest& request, SequenceSpec* out);

}  // namespace ovms::serving
