#pragma once
// pipeline_config_list and custom_node_library_config_list of config.json (spec §9), as parsed
// after the schema check. Graph validation happens later, against the loaded models
// (pipeline_definition.h), because it depends on their signatures.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/status.h"

namespace ovms::serving::pipeline {

// The implicit nodes a pipeline config refers to by these names.
inline constexpr const char* kEntryNodeName = "request";
inline constexpr const char* kExitNodeName = "response";

// `{"<input name>": {"node_name": ..., "data_item": ...}}`.
struct Connection {
  std::string input;        // node input name (or pipeline output alias)
  std::string source_node;  // "request" for pipeline inputs
  std::string data_item;    // alias of the source node's output (or pipeline input name)
  bool operator==(const Connection&) const = default;
};

struct NodeConfig {
  enum class Kind { DL_MODEL, CUSTOM };
  std::string name;
  Kind kind = Kind::DL_MODEL;
  std::string model_name;              // DL model
  std::optional<int64_t> version;      // DL model; none = default version
  std::string library_name;            // custom
  std::map<std::string, std::string> params;  // custom
  std::vector<Connection> inputs;
  std::vector<std::pair<std::string, std::string>> outputs;  // (alias, data_item = real output name)
  std::optional<int32_t> demultiply_count;  // -1 = dynamic (0 in the file is read as -1)
  std::optional<std::string> gather_from_node;
  bool operator==(const NodeConfig&) const = default;
};

struct PipelineConfig {
  std::string name;
  std::vector<std::string> inputs;
  std::vector<NodeConfig> nodes;
  std::vector<Connection> outputs;  // input = pipeline output alias
  std::optional<int32_t> demultiply_count;  // demultiplexing at the request node
  bool operator==(const PipelineConfig&) const = default;
};

struct CustomNodeLibraryConfig {
  std::string name;
  std::string base_path;  // path of the .so (relative paths resolved against the config dir)
  bool operator==(const CustomNodeLibraryConfig&) const = default;
};

// Reads both lists from a schema-valid config.json document. Duplicated pipeline or library names
// keep the first definition (with OVMS's warning). Never fails: the schema has been checked.
void parsePipelineSection(const rapidjson::Value& doc, const std::string& config_dir,
                          std::vector<PipelineConfig>* pipelines, std::vector<CustomNodeLibraryConfig>* libraries);

}  // namespace ovms::serving::pipeline
