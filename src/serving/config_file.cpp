#include "serving/config_file.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/logging.h"
#include "serving/shape_config.h"
#include "storage/filesystem.h"

namespace ovms::serving {
namespace {

constexpr int kReadAttempts = 3;
constexpr std::chrono::milliseconds kReadRetryDelay{10};

// The v2026.2.1 config.json schema as the spec (§2, §9) describes it. Pipelines, custom node
// libraries, custom loaders and MediaPipe graphs are accepted here but not served yet.
const char* const kSchema = R"({
  "definitions": {
    "layout_shape_def": {
      "oneOf": [
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "string"}
      ]
    },
    "all_version_policy": {"type": "object", "additionalProperties": false, "maxProperties": 0},
    "latest_version_policy": {
      "type": "object", "additionalProperties": false, "maxProperties": 1, "required": ["num_versions"],
      "properties": {"num_versions": {"type": "integer", "minimum": 1}}
    },
    "specific_version_policy": {
      "type": "object", "additionalProperties": false, "maxProperties": 1, "required": ["versions"],
      "properties": {"versions": {"type": "array", "items": {"type": "integer", "minimum": 1}}}
    },
    "model_version_policy": {
      "oneOf": [
        {"type": "object", "maxProperties": 1, "required": ["all"], "additionalProperties": false,
         "properties": {"all": {"$ref": "#/definitions/all_version_policy"}}},
        {"type": "object", "maxProperties": 1, "required": ["latest"], "additionalProperties": false,
         "properties": {"latest": {"$ref": "#/definitions/latest_version_policy"}}},
        {"type": "object", "maxProperties": 1, "required": ["specific"], "additionalProperties": false,
         "properties": {"specific": {"$ref": "#/definitions/specific_version_policy"}}}
      ]
    },
    "model_config": {
      "type": "object", "required": ["config"], "maxProperties": 1, "additionalProperties": false,
      "properties": {
        "config": {
          "type": "object", "required": ["name", "base_path"], "additionalProperties": false,
          "properties": {
            "name": {"type": "string"},
            "base_path": {"type": "string"},
            "batch_size": {"type": ["integer", "string"], "minimum": 0},
            "graph_path": {"type": "string"},
            "subconfig": {"type": "string"},
            "model_version_policy": {"$ref": "#/definitions/model_version_policy"},
            "shape": {"$ref": "#/definitions/layout_shape_def"},
            "layout": {"$ref": "#/definitions/layout_shape_def"},
            "nireq": {"type": "integer", "minimum": 0},
            "max_queued_requests": {"type": "integer", "minimum": -1},
            "target_device": {"type": "string"},
            "allow_cache": {"type": "boolean"},
            "plugin_config": {
              "type": "object",
              "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "boolean"}, {"type": "number"}]}
            },
            "stateful": {"type": "boolean"},
            "idle_sequence_cleanup": {"type": "boolean"},
            "low_latency_transformation": {"type": "boolean"},
            "max_sequence_number": {"type": "integer", "minimum": 0},
            "dynamic_batching": {
              "type": "object", "additionalProperties": false,
              "properties": {
                "max_batch_size": {"type": "integer", "minimum": 1, "maximum": 65536},
                "max_queue_delay_microseconds": {"type": "integer", "minimum": 0, "maximum": 10000000},
                "preferred_batch_sizes": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65536}}
              }
            },
            "warmup": {
              "type": "object", "required": ["iterations"], "additionalProperties": false,
              "properties": {"iterations": {"type": "integer", "minimum": 0, "maximum": 10000}}
            },
            "custom_loader_options": {
              "type": "object", "required": ["loader_name"], "minProperties": 1,
              "properties": {"loader_name": {"type": "string"}},
              "additionalProperties": {"type": "string"}
            }
          }
        }
      }
    },
    "source_node_names": {
      "type": "object", "required": ["node_name", "data_item"], "additionalProperties": false,
      "properties": {"node_name": {"type": "string"}, "data_item": {"type": "string"}}
    },
    "source_node": {
      "type": "object", "minProperties": 1, "maxProperties": 1,
      "additionalProperties": {"$ref": "#/definitions/source_node_names"}
    },
    "output_alias": {
      "type": "object", "required": ["data_item", "alias"], "additionalProperties": false,
      "properties": {"data_item": {"type": "string"}, "alias": {"type": "string"}}
    },
    "node_config": {
      "type": "object", "required": ["name", "type", "inputs", "outputs"], "additionalProperties": false,
      "oneOf": [
        {"properties": {"type": {"enum": ["custom"]}}, "required": ["library_name"], "not": {"required": ["model_name"]}},
        {"properties": {"type": {"enum": ["DL model"]}}, "required": ["model_name"], "not": {"required": ["library_name"]}}
      ],
      "properties": {
        "name": {"type": "string"},
        "model_name": {"type": "string"},
        "library_name": {"type": "string"},
        "type": {"type": "string", "enum": ["DL model", "custom"]},
        "version": {"type": "integer", "minimum": 1},
        "inputs": {"type": "array", "items": {"$ref": "#/definitions/source_node"}},
        "outputs": {"type": "array", "items": {"$ref": "#/definitions/output_alias"}},
        "params": {"type": "object", "additionalProperties": {"type": "string"}},
        "demultiply_count": {"type": "integer", "minimum": -1, "maximum": 10000},
        "gather_from_node": {"type": "string"}
      }
    },
    "pipeline_config": {
      "type": "object", "required": ["name", "nodes", "inputs", "outputs"], "additionalProperties": false,
      "properties": {
        "name": {"type": "string"},
        "nodes": {"type": "array", "items": {"$ref": "#/definitions/node_config"}},
        "inputs": {"type": "array", "items": {"type": "string"}},
        "outputs": {"type": "array", "items": {"$ref": "#/definitions/source_node"}},
        "demultiply_count": {"type": "integer", "minimum": -1, "maximum": 10000}
      }
    },
    "custom_node_library_config": {
      "type": "object", "required": ["name", "base_path"], "additionalProperties": false,
      "properties": {"name": {"type": "string"}, "base_path": {"type": "string"}}
    },
    "custom_loader_config": {
      "type": "object", "required": ["config"], "maxProperties": 1, "additionalProperties": false,
      "properties": {
        "config": {
          "type": "object", "required": ["loader_name", "library_path"], "additionalProperties": false,
          "properties": {
            "loader_name": {"type": "string"},
            "library_path": {"type": "string"},
            "loader_config_file": {"type": "string"}
          }
        }
      }
    },
    "mediapipe_config": {
      "type": "object", "required": ["name"], "additionalProperties": false,
      "properties": {
        "name": {"type": "string"}, "base_path": {"type": "string"},
        "graph_path": {"type": "string"}, "subconfig": {"type": "string"}
      }
    }
  },
  "type": "object",
  "required": ["model_config_list"],
  "additionalProperties": false,
  "properties": {
    "model_config_list": {"type": "array", "items": {"$ref": "#/definitions/model_config"}},
    "pipeline_config_list": {"type": "array", "items": {"$ref": "#/definitions/pipeline_config"}},
    "custom_node_library_config_list": {"type": "array", "items": {"$ref": "#/definitions/custom_node_library_config"}},
    "custom_loader_config_list": {"type": "array", "items": {"$ref": "#/definitions/custom_loader_config"}},
    "mediapipe_config_list": {"type": "array", "items": {"$ref": "#/definitions/mediapipe_config"}},
    "monitoring": {
      "type": "object", "required": ["metrics"], "maxProperties": 1, "additionalProperties": false,
      "properties": {
        "metrics": {
          "type": "object", "required": ["enable"], "additionalProperties": false,
          "properties": {
            "enable": {"type": "boolean"},
            "metrics_list": {"type": "array", "items": {"type": "string"}}
          }
        }
      }
    }
  }
})";

std::string toJsonText(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

const rapidjson::SchemaDocument& schemaDocument() {
  static const rapidjson::SchemaDocument* doc = [] {
    static rapidjson::Document d;
    d.Parse(kSchema);
    if (d.HasParseError()) {
      // A programming error: the built-in schema must parse.
      MODEL_LOG(critical, "JSON schema parse error: {}, at: {}", rapidjson::GetParseError_En(d.GetParseError()),
                d.GetErrorOffset());
      std::abort();
    }
    return new rapidjson::SchemaDocument(d);
  }();
  return *doc;
}

// A JSON pointer as a URI fragment ("#/a/b%20c"), as rapidjson's StringifyUriFragment writes it for
// valid UTF-8, byte by byte. rapidjson's own reads past the end of a key that ends inside a UTF-8
// sequence (heap overflow found by tests/fuzz config_file), and config keys are the user's bytes.
std::string uriFragment(const rapidjson::Pointer& pointer) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "#";
  for (size_t t = 0; t < pointer.GetTokenCount(); ++t) {
    const auto& token = pointer.GetTokens()[t];
    out += '/';
    for (size_t j = 0; j < token.length; ++j) {
      const unsigned char c = static_cast<unsigned char>(token.name[j]);
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '.' ||
                 c == '_') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  }
  return out;
}

Status validateAgainstSchema(const rapidjson::Document& doc) {
  rapidjson::SchemaValidator validator(schemaDocument());
  if (doc.Accept(validator)) return StatusCode::OK;
  std::string schema_ptr = uriFragment(validator.GetInvalidSchemaPointer());
  std::string key = uriFragment(validator.GetInvalidDocumentPointer());
  std::string keyword = validator.GetInvalidSchemaKeyword();
  MODEL_LOG(err, "Given config is invalid according to schema: {}. Keyword: {} Key: {}", schema_ptr, keyword, key);
  return Status(StatusCode::JSON_INVALID, "Keyword: " + keyword + " Key: " + key);
}

bool isLocalPath(const std::string& p) { return storage::schemeOf(p).empty(); }

// Converts one schema-valid `config` object. Errors are per-model (MODEL_CONFIG_INVALID etc.).
Status convertModel(const rapidjson::Value& c, const std::string& config_dir, ModelConfig* out) {
  ModelConfig m;
  m.name = c["name"].GetString();
  if (c.HasMember("base_path")) {
    m.base_path = c["base_path"].GetString();
    if (!m.base_path.empty() && isLocalPath(m.base_path) && m.base_path.front() != '/' && !config_dir.empty())
      m.base_path = (std::filesystem::path(config_dir) / m.base_path).string();
  }
  if (c.HasMember("batch_size")) {
    const auto& b = c["batch_size"];
    m.batch_size = b.IsString() ? std::string(b.GetString()) : std::to_string(b.GetInt64());
  }
  if (c.HasMember("shape")) {
    const auto& s = c["shape"];
    m.shape = s.IsString() ? std::string(s.GetString()) : toJsonText(s);
    ShapeConfig parsed;
    if (!parseShapeConfig(*m.shape, &parsed).ok()) {
      MODEL_LOG(err, "Invalid shape for model {}: {}", m.name, *m.shape);
      return StatusCode::MODEL_CONFIG_INVALID;
    }
  }
  if (c.HasMember("layout")) {
    const auto& l = c["layout"];
    m.layout = l.IsString() ? std::string(l.GetString()) : toJsonText(l);
    LayoutConfig parsed;
    if (!parseLayoutConfig(*m.layout, &parsed).ok()) {
      MODEL_LOG(err, "Invalid layout for model {}: {}", m.name, *m.layout);
      return StatusCode::MODEL_CONFIG_INVALID;
    }
  }
  if (m.shape && m.batch_size) {
    MODEL_LOG(warn, "Both shape and batch size have been defined for model {}. Batch size parameter will be ignored.",
              m.name);
    m.batch_size.reset();
  }
  if (c.HasMember("model_version_policy")) {
    Status st = parseVersionPolicy(toJsonText(c["model_version_policy"]), &m.policy);
    if (!st.ok()) {
      MODEL_LOG(err, "Couldn't parse model version policy for model {}: {}", m.name, st.message());
      return StatusCode::MODEL_CONFIG_INVALID;
    }
  }
  if (c.HasMember("nireq")) {
    int64_t n = c["nireq"].GetInt64();
    m.nireq = n > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(n);
  }
  if (c.HasMember("max_queued_requests")) m.max_queued_requests = c["max_queued_requests"].GetInt64();
  if (c.HasMember("target_device")) m.target_device = c["target_device"].GetString();
  if (c.HasMember("warmup")) m.warmup_iterations = static_cast<uint32_t>(c["warmup"]["iterations"].GetInt64());
  if (c.HasMember("dynamic_batching")) {
    const auto& d = c["dynamic_batching"];
    DynamicBatchingConfig b;
    if (d.HasMember("max_batch_size")) b.max_batch_size = static_cast<uint32_t>(d["max_batch_size"].GetInt64());
    if (d.HasMember("max_queue_delay_microseconds"))
      b.max_queue_delay_microseconds = static_cast<uint64_t>(d["max_queue_delay_microseconds"].GetInt64());
    if (d.HasMember("preferred_batch_sizes"))
      for (const auto& p : d["preferred_batch_sizes"].GetArray()) {
        const auto size = static_cast<uint32_t>(p.GetInt64());
        if (size > b.max_batch_size) {
          MODEL_LOG(err, "Model {}: dynamic_batching preferred batch size {} is larger than max_batch_size {}", m.name,
                    size, b.max_batch_size);
          return StatusCode::MODEL_CONFIG_INVALID;
        }
        b.preferred_batch_sizes.push_back(size);
      }
    m.dynamic_batching = std::move(b);
    // A sequence's requests depend on its state from the previous one: never merged with others.
    if (c.HasMember("stateful") && c["stateful"].GetBool()) {
      MODEL_LOG(err, "Model {}: dynamic_batching cannot be used with a stateful model", m.name);
      return StatusCode::MODEL_CONFIG_INVALID;
    }
  }
  if (c.HasMember("plugin_config")) {
    Status st = parsePluginConfig(toJsonText(c["plugin_config"]), &m.plugin_config);
    if (!st.ok()) {
      MODEL_LOG(err, "Couldn't parse plugin config for model {}: {}", m.name, st.message());
      return st;
    }
  }
  // Stateful options (OVMS modelconfig.cpp): the three options need "stateful": true.
  if (c.HasMember("stateful")) m.stateful = c["stateful"].GetBool();
  for (const char* option : {"low_latency_transformation", "idle_sequence_cleanup", "max_sequence_number"}) {
    if (c.HasMember(option) && !m.stateful) {
      MODEL_LOG(err, "Stateful model parameter {} was set for non stateful model {}.", option, m.name);
      return StatusCode::INVALID_NON_STATEFUL_MODEL_PARAMETER;
    }
  }
  if (c.HasMember("low_latency_transformation")) m.low_latency_transformation = c["low_latency_transformation"].GetBool();
  if (c.HasMember("idle_sequence_cleanup")) m.idle_sequence_cleanup = c["idle_sequence_cleanup"].GetBool();
  if (c.HasMember("max_sequence_number")) {
    if (!c["max_sequence_number"].IsUint()) {
      MODEL_LOG(err, "Sequence maximum number parameter was set above unsigned int value for model {}.", m.name);
      return StatusCode::INVALID_MAX_SEQUENCE_NUMBER;
    }
    m.max_sequence_number = c["max_sequence_number"].GetUint();
  }
  for (const char* ignored : {"custom_loader_options", "allow_cache", "graph_path", "subconfig"}) {
    if (c.HasMember(ignored)) MODEL_LOG(warn, "Model {}: setting \"{}\" is not supported yet and is ignored", m.name, ignored);
  }
  *out = std::move(m);
  return StatusCode::OK;
}

}  // namespace

const char* configFileSchema() { return kSchema; }

std::string resolveConfigPath(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return (std::filesystem::path(path) / "config.json").string();
  return path;
}

Status readConfigFile(const std::string& path, std::string* content) {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    if (attempt) std::this_thread::sleep_for(kReadRetryDelay);
    MODEL_LOG(debug, "Loading configuration from {} for: {} time", path, attempt + 1);
    std::ifstream in(path, std::ios::binary);
    if (!in.good()) {
      MODEL_LOG(err, "Configuration file is invalid {}", path);
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) continue;
    *content = ss.str();
    return StatusCode::OK;
  }
  return StatusCode::CONFIG_FILE_INVALID;
}

uint64_t contentHash(const std::string& content) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : content) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool isKnownMetricFamily(const std::string& name) {
  static const std::set<std::string> known = {
      "ovms_requests_success", "ovms_requests_fail", "ovms_request_time_us", "ovms_streams",
      "ovms_inference_time_us", "ovms_wait_for_infer_req_time_us", "ovms_current_requests",
      "ovms_infer_req_queue_size", "ovms_infer_req_active", "ovms_current_graphs", "ovms_requests_accepted",
      "ovms_requests_rejected", "ovms_responses", "ovms_graph_error", "ovms_graph_processing_time_us",
      "ovms_graph_request_latency_us",
      "ovms_dynamic_batch_size"};
  return known.count(name) > 0;
}

Status parseConfigFile(const std::string& content, const std::string& config_dir, ConfigFileContent* out) {
  rapidjson::Document doc;
  doc.Parse(content.c_str(), content.size());
  if (doc.HasParseError()) {
    MODEL_LOG(err, "Configuration file is not a valid JSON file. Error: {}", rapidjson::GetParseError_En(doc.GetParseError()));
    return StatusCode::JSON_INVALID;
  }
  Status st = validateAgainstSchema(doc);
  if (!st.ok()) return st;

  ConfigFileContent result;
  std::set<std::string> names;
  for (const auto& item : doc["model_config_list"].GetArray()) {
    const auto& c = item["config"];
    std::string name = c["name"].GetString();
    if (names.count(name)) {
      MODEL_LOG(warn, "Duplicated model names: {} defined in config file. Only first definition will be loaded.", name);
      continue;
    }
    names.insert(name);
    ModelConfig m;
    Status ms = convertModel(c, config_dir, &m);
    if (!ms.ok()) {
      MODEL_LOG(err, "Parsing model: {} config failed: {}", name, ms.message());
      result.invalid_models.push_back({name, ms});
      if (result.first_error.ok()) result.first_error = ms;
      continue;
    }
    result.models.push_back(std::move(m));
  }
  auto count = [&](const char* key) -> size_t { return doc.HasMember(key) ? doc[key].Size() : 0; };
  result.pipelines = count("pipeline_config_list");
  result.mediapipe_graphs = count("mediapipe_config_list");
  result.custom_node_libraries = count("custom_node_library_config_list");
  result.custom_loaders = count("custom_loader_config_list");
  pipeline::parsePipelineSection(doc, config_dir, &result.pipeline_configs, &result.node_libraries);
  if (doc.HasMember("monitoring")) {
    const auto& metrics = doc["monitoring"]["metrics"];
    result.metrics.configured = true;
    result.metrics.enable = metrics["enable"].GetBool();
    if (metrics.HasMember("metrics_list"))
      for (const auto& n : metrics["metrics_list"].GetArray()) result.metrics.metrics_list.emplace_back(n.GetString());
  }
  *out = std::move(result);
  return StatusCode::OK;
}

Status loadConfigFile(const std::string& path, std::string* content, ConfigFileContent* out) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  auto abs = std::filesystem::absolute(dir, ec);
  if (!ec) dir = abs.lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  Status st;
  // A file caught half-written fails to read or parse; OVMS retries both 3 times, 10 ms apart.
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    if (attempt) std::this_thread::sleep_for(kReadRetryDelay);
    std::ifstream in(path, std::ios::binary);
    if (!in.good()) {
      MODEL_LOG(err, "Configuration file is invalid {}", path);
      st = StatusCode::CONFIG_FILE_INVALID;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    *content = ss.str();
    rapidjson::Document probe;
    probe.Parse(content->c_str(), content->size());
    if (probe.HasParseError()) {
      MODEL_LOG(err, "Configuration file is not a valid JSON file. Error: {}",
                rapidjson::GetParseError_En(probe.GetParseError()));
      st = StatusCode::JSON_INVALID;
      continue;
    }
    st = StatusCode::OK;
    break;
  }
  if (!st.ok()) return st;
  return parseConfigFile(*content, dir, out);
}

}  // namespace ovms::serving
