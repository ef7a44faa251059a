#pragma once
// OpenVINO IR (model.xml + model.bin) -> ONNX ModelProto translation, so IR models run on ONNX Runtime.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ovms::engine::ir {

struct IrOptions {
  // Requested input shapes by input name (after OVMS naming), applied to Parameters before translation; -1 = dynamic.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

struct IrTranslation {
  std::string onnx_model;                  // serialized onnx ModelProto, ready for Ort::Session(env, data, size, opts)
  std::vector<std::string> input_names;    // in Parameter order, the names OVMS exposes
  std::vector<std::string> output_names;   // in Result order, the names OVMS exposes
  std::map<std::string, std::string> model_info;  // rt_info/model_info entries, values as strings (may be empty)
};

// what() names the layer (name, type, id) and the reason.
class IrError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads <xml> and memory-maps <bin>; throws IrError for malformed XML, unsupported ops/versions, a .bin too
// short / offset outside the file, bad shapes, etc. Never crashes on bad input.
IrTranslation translateIrToOnnx(const std::string& xml_path, const std::string& bin_path, const IrOptions& options = {});
// Same from memory (for tests / fuzzing).
IrTranslation translateIrToOnnx(std::string_view xml_text, std::string_view bin_bytes, const IrOptions& options = {});

}  // namespace ovms::engine::ir
