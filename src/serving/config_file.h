#pragma once
// config.json (--config_path): reading (with OVMS's retries), JSON-schema validation (the v2026.2.1
// schema, rapidjson's validator) and conversion to ModelConfig entries (spec §2).
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/model_config.h"
#include "serving/pipeline/pipeline_config.h"

namespace ovms::serving {

// `monitoring.metrics` of config.json, read once per process (edits on reload are ignored).
struct MetricsSettings {
  bool configured = false;                 // the file has a `monitoring` section
  bool enable = false;
  std::vector<std::string> metrics_list;   // empty = the default families
};

// One model entry whose config was rejected (skipped, the rest still loads).
struct InvalidModelEntry {
  std::string name;
  Status status;
};

struct ConfigFileContent {
  std::vector<ModelConfig> models;              // valid entries in file order, duplicates dropped
  std::vector<InvalidModelEntry> invalid_models; // MODEL_CONFIG_INVALID and the like
  MetricsSettings metrics;
  size_t pipelines = 0, mediapipe_graphs = 0, custom_node_libraries = 0, custom_loaders = 0;
  Status first_error = StatusCode::OK;           // first per-model error
  std::vector<pipeline::PipelineConfig> pipeline_configs;            // pipeline_config_list (§9)
  std::vector<pipeline::CustomNodeLibraryConfig> node_libraries;     // custom_node_library_config_list
};

// The JSON schema config.json is validated against (text).
const char* configFileSchema();

// "<dir>/config.json" when `path` is a directory, else `path`.
std::string resolveConfigPath(const std::string& path);

// Reads the whole file; retries 3 times, 10 ms apart. CONFIG_FILE_INVALID when it cannot be read.
Status readConfigFile(const std::string& path, std::string* content);

// Parses (JSON_INVALID), checks the schema (JSON_INVALID) and converts every model entry.
// Relative base paths are resolved against `config_dir`. Per-model problems do not fail the call:
// they land in `out->invalid_models` / `out->first_error`.
Status parseConfigFile(const std::string& content, const std::string& config_dir, ConfigFileContent* out);

// Reads + parses with the retry policy of OVMS (a half-written file is retried too).
Status loadConfigFile(const std::string& path, std::string* content, ConfigFileContent* out);

// A cheap content fingerprint (FNV-1a 64) used to detect config.json changes.
uint64_t contentHash(const std::string& content);

// Metric family names OVMS knows (§8).
bool isKnownMetricFamily(const std::string& name);

}  // namespace ovms::serving
