#include "serving/model_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/logging.h"

namespace ovms::serving {
namespace fs = std::filesystem;

ModelFiles findModelFiles(const std::string& dir) {
  ModelFiles f;
  std::string xml, bin, onnx;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    auto ext = e.path().extension().string();
    if (ext == ".xml" && xml.empty()) xml = e.path().string();
    if (ext == ".bin" && bin.empty()) bin = e.path().string();
    if (ext == ".onnx" && onnx.empty()) onnx = e.path().string();
  }
  if (!xml.empty() && !bin.empty()) {
    f.kind = ModelFiles::Kind::IR;
    f.model = xml;
    f.weights = bin;
  } else if (!onnx.empty()) {
    f.kind = ModelFiles::Kind::ONNX;
    f.model = onnx;
  }
  return f;
}

// mapping_config.json renames inputs and outputs (§2.3).
Status readMapping(const std::string& dir, std::map<std::string, std::string>* inputs,
                   std::map<std::string, std::string>* outputs) {
  fs::path p = fs::path(dir) / "mapping_config.json";
  std::error_code ec;
  if (!fs::exists(p, ec)) return StatusCode::OK;
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    MODEL_LOG(warn, "Couldn't load mapping config file {}: not valid json", p.string());
    return StatusCode::JSON_INVALID;
  }
  for (auto& [k, v] : j.items()) {
    if ((k != "inputs" && k != "outputs") || !v.is_object()) {
      MODEL_LOG(warn, "Mapping config file {} has an invalid structure", p.string());
      return StatusCode::JSON_INVALID;
    }
    for (auto& [from, to] : v.items()) {
      if (!to.is_string()) return StatusCode::JSON_INVALID;
      (k == "inputs" ? *inputs : *outputs)[from] = to.get<std::string>();
    }
  }
  return StatusCode::OK;
}

Status readFileBytes(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return StatusCode::FILE_INVALID;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return StatusCode::OK;
}

}  // namespace ovms::serving
