#include "serving/pipeline/pipeline_config.h"

#include <filesystem>
#include <set>

#include "common/logging.h"

namespace ovms::serving::pipeline {
namespace {

std::vector<Connection> parseConnections(const rapidjson::Value& list) {
  std::vector<Connection> out;
  for (const auto& item : list.GetArray())
    for (const auto& m : item.GetObject())
      out.push_back({m.name.GetString(), m.value["node_name"].GetString(), m.value["data_item"].GetString()});
  return out;
}

std::optional<int32_t> parseDemultiplyCount(const rapidjson::Value& v) {
  if (!v.HasMember("demultiply_count")) return std::nullopt;
  int32_t count = v["demultiply_count"].GetInt();
  if (count == 0) {
    // OVMS's own demo configs still use 0 for "dynamic".
    MODEL_LOG(warn, "demultiply_count 0 will be deprecated. For dynamic count use -1.");
    count = -1;
  }
  return count;
}

}  // namespace

void parsePipelineSection(const rapidjson::Value& doc, const std::string& config_dir,
                          std::vector<PipelineConfig>* pipelines, std::vector<CustomNodeLibraryConfig>* libraries) {
  if (doc.HasMember("custom_node_library_config_list")) {
    std::set<std::string> seen;
    for (const auto& lib : doc["custom_node_library_config_list"].GetArray()) {
      CustomNodeLibraryConfig c{lib["name"].GetString(), lib["base_path"].GetString()};
      if (!seen.insert(c.name).second) {
        MODEL_LOG(warn, "Duplicated custom node library names: {} defined in config file. Only first library will be loaded.", c.name);
        continue;
      }
      if (!c.base_path.empty() && c.base_path[0] != '/') c.base_path = (std::filesystem::path(config_dir) / c.base_path).lexically_normal().string();
      libraries->push_back(std::move(c));
    }
  }
  if (!doc.HasMember("pipeline_config_list")) return;
  std::set<std::string> seen;
  for (const auto& p : doc["pipeline_config_list"].GetArray()) {
    PipelineConfig pc;
    pc.name = p["name"].GetString();
    if (!seen.insert(pc.name).second) {
      MODEL_LOG(warn, "Duplicated pipeline names: {} defined in config file. Only first definition will be loaded.", pc.name);
      continue;
    }
    MODEL_LOG(info, "Reading pipeline: {} configuration", pc.name);
    for (const auto& in : p["inputs"].GetArray()) pc.inputs.emplace_back(in.GetString());
    pc.demultiply_count = parseDemultiplyCount(p);
    for (const auto& n : p["nodes"].GetArray()) {
      NodeConfig nc;
      nc.name = n["name"].GetString();
      nc.kind = std::string(n["type"].GetString()) == "custom" ? NodeConfig::Kind::CUSTOM : NodeConfig::Kind::DL_MODEL;
      if (n.HasMember("model_name")) nc.model_name = n["model_name"].GetString();
      if (n.HasMember("version")) nc.version = n["version"].GetInt64();
      if (n.HasMember("library_name")) nc.library_name = n["library_name"].GetString();
      if (n.HasMember("params"))
        for (const auto& kv : n["params"].GetObject()) nc.params[kv.name.GetString()] = kv.value.GetString();
      nc.inputs = parseConnections(n["inputs"]);
      for (const auto& o : n["outputs"].GetArray()) nc.outputs.emplace_back(o["alias"].GetString(), o["data_item"].GetString());
      nc.demultiply_count = parseDemultiplyCount(n);
      if (n.HasMember("gather_from_node")) nc.gather_from_node = n["gather_from_node"].GetString();
      pc.nodes.push_back(std::move(nc));
    }
    pc.outputs = parseConnections(p["outputs"]);
    pipelines->push_back(std::move(pc));
  }
}

}  // namespace ovms::serving::pipeline
