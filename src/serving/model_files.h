#pragma once
// What a version folder holds: the model files (IR .xml + .bin, or .onnx) and the optional
// mapping_config.json that renames inputs and outputs (§2.3).
#include <map>
#include <string>

#include "common/status.h"

namespace ovms::serving {

struct ModelFiles {
  enum class Kind { NONE, IR, ONNX } kind = Kind::NONE;
  std::string model, weights;
};

// IR when both an .xml and a .bin are present, else ONNX when an .onnx is, else NONE.
ModelFiles findModelFiles(const std::string& dir);

// Reads <dir>/mapping_config.json (absent = no renames). Malformed -> JSON_INVALID.
Status readMapping(const std::string& dir, std::map<std::string, std::string>* inputs,
                   std::map<std::string, std::string>* outputs);

// The whole file; FILE_INVALID when it cannot be read.
Status readFileBytes(const std::string& path, std::string* out);

}  // namespace ovms::serving
