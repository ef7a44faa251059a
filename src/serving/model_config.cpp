#include "serving/model_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ovms::serving {

std::vector<int64_t> VersionPolicy::select(const std::vector<int64_t>& on_disk) const {
  std::vector<int64_t> sorted = on_disk;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  switch (kind) {
    case Kind::ALL:
      return sorted;
    case Kind::LATEST: {
      size_t n = static_cast<size_t>(std::max<int64_t>(num_versions, 0));
      if (sorted.size() > n) sorted.erase(sorted.begin(), sorted.end() - n);
      return sorted;
    }
    case Kind::SPECIFIC: {
      std::vector<int64_t> out;
      for (int64_t v : sorted)
        if (std::find(versions.begin(), versions.end(), v) != versions.end()) out.push_back(v);
      return out;
    }
  }
  return {};
}

std::string describeVersions(const std::vector<int64_t>& versions) {
  std::string out = "[";
  for (size_t i = 0; i < versions.size(); ++i) out += (i ? ", " : "") + std::to_string(versions[i]);
  return out + "]";
}

std::string describePolicy(const VersionPolicy& policy) {
  switch (policy.kind) {
    case VersionPolicy::Kind::ALL:
      return "all";
    case VersionPolicy::Kind::LATEST:
      return "latest " + std::to_string(policy.num_versions);
    case VersionPolicy::Kind::SPECIFIC:
      return "specific " + describeVersions(policy.versions);
  }
  return "?";
}

std::vector<std::string> ModelConfig::changesTo(const ModelConfig& o) const {
  std::vector<std::string> out;
  auto opt = [](const std::optional<std::string>& v) { return v ? "\"" + *v + "\"" : std::string("(none)"); };
  auto map = [](const std::map<std::string, std::string>& m) {
    std::string s = "{";
    for (const auto& [k, v] : m) s += (s.size() > 1 ? ", " : "") + k + ": " + v;
    return s + "}";
  };
  if (base_path != o.base_path) out.push_back("base_path: \"" + base_path + "\" -> \"" + o.base_path + "\"");
  if (batch_size != o.batch_size) out.push_back("batch_size: " + opt(batch_size) + " -> " + opt(o.batch_size));
  if (shape != o.shape) out.push_back("shape: " + opt(shape) + " -> " + opt(o.shape));
  if (layout != o.layout) out.push_back("layout: " + opt(layout) + " -> " + opt(o.layout));
  if (nireq != o.nireq) out.push_back("nireq: " + std::to_string(nireq) + " -> " + std::to_string(o.nireq));
  if (max_queued_requests != o.max_queued_requests)
    out.push_back("max_queued_requests: " + std::to_string(max_queued_requests) + " -> " +
                  std::to_string(o.max_queued_requests));
  if (target_device != o.target_device) out.push_back("target_device: " + target_device + " -> " + o.target_device);
  if (plugin_config != o.plugin_config) out.push_back("plugin_config: " + map(plugin_config) + " -> " + map(o.plugin_config));
  if (warmup_iterations != o.warmup_iterations)
    out.push_back("warmup.iterations: " + std::to_string(warmup_iterations) + " -> " + std::to_string(o.warmup_iterations));
  if (dynamic_batching != o.dynamic_batching)
    out.push_back("dynamic_batching: " + describeDynamicBatching(dynamic_batching) + " -> " +
                  describeDynamicBatching(o.dynamic_batching));
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  if (stateful != o.stateful) out.push_back("stateful: " + flag(stateful) + " -> " + flag(o.stateful));
  if (max_sequence_number != o.max_sequence_number)
    out.push_back("max_sequence_number: " + std::to_string(max_sequence_number) + " -> " +
                  std::to_string(o.max_sequence_number));
  if (idle_sequence_cleanup != o.idle_sequence_cleanup)
    out.push_back("idle_sequence_cleanup: " + flag(idle_sequence_cleanup) + " -> " + flag(o.idle_sequence_cleanup));
  if (low_latency_transformation != o.low_latency_transformation)
    out.push_back("low_latency_transformation: " + flag(low_latency_transformation) + " -> " +
                  flag(o.low_latency_transformation));
  if (!(policy == o.policy))
    out.push_back("model_version_policy: " + describePolicy(policy) + " -> " + describePolicy(o.policy));
  return out;
}

std::string describeDynamicBatching(const std::optional<DynamicBatchingConfig>& config) {
  if (!config) return "(none)";
  std::string out = "{max_batch_size: " + std::to_string(config->max_batch_size) +
                    ", max_queue_delay_microseconds: " + std::to_string(config->max_queue_delay_microseconds) +
                    ", preferred_batch_sizes: " + describeVersions({config->preferred_batch_sizes.begin(),
                                                                    config->preferred_batch_sizes.end()});
  return out + "}";
}

Status parseVersionPolicy(const std::string& text, VersionPolicy* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.size() != 1) return StatusCode::MODEL_VERSION_POLICY_WRONG_FORMAT;
  auto it = j.begin();
  VersionPolicy p;
  if (it.key() == "all") {
    if (!it->is_object()) return StatusCode::MODEL_VERSION_POLICY_WRONG_FORMAT;
    p.kind = VersionPolicy::Kind::ALL;
  } else if (it.key() == "latest") {
    if (!it->is_object()) return StatusCode::MODEL_VERSION_POLICY_WRONG_FORMAT;
    p.kind = VersionPolicy::Kind::LATEST;
    if (it->contains("num_versions")) {
      const auto& n = (*it)["num_versions"];
      if (!n.is_number_integer() || n.get<int64_t>() < 1) return StatusCode::MODEL_VERSION_POLICY_WRONG_FORMAT;
      p.num_versions = n.get<int64_t>();
    }
    for (auto& [k, v] : it->items())
      if (k != "num_versions") return StatusCode::MODEL_VERSION_POLICY_UNSUPPORTED_KEY;
  } else if (it.key() == "specific") {
    if (!it->is_object() || !it->contains("versions") || !(*it)["versions"].is_array())
      return StatusCode::MODEL_VERSION_POLICY_WRONG_FORMAT;
    p.kind = VersionPolicy::Kind::SPECIFIC;
    for (const auto& v : (*it)["versions"]) {
      if (!v.is_number_integer()) return StatusCode::MODEL_VERSION_POLICY_WRONG_FORMAT;
      if (v.get<int64_t>() > 0) p.versions.push_back(v.get<int64_t>());
    }
    for (auto& [k, v] : it->items())
      if (k != "versions") return StatusCode::MODEL_VERSION_POLICY_UNSUPPORTED_KEY;
  } else {
    return StatusCode::MODEL_VERSION_POLICY_UNSUPPORTED_KEY;
  }
  *out = std::move(p);
  return StatusCode::OK;
}

Status parsePluginConfig(const std::string& text, std::map<std::string, std::string>* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return StatusCode::PLUGIN_CONFIG_WRONG_FORMAT;
  std::map<std::string, std::string> m;
  for (auto& [k, v] : j.items()) {
    if (v.is_string())
      m[k] = v.get<std::string>();
    else if (v.is_number_integer())
      m[k] = std::to_string(v.get<int64_t>());
    else if (v.is_number())
      m[k] = std::to_string(v.get<double>());
    else if (v.is_boolean())
      m[k] = v.get<bool>() ? "true" : "false";
    else if (k == "DEVICE_PROPERTIES" && v.is_object())
      m[k] = v.dump();
    else
      return StatusCode::PLUGIN_CONFIG_WRONG_FORMAT;
  }
  *out = std::move(m);
  return StatusCode::OK;
}

}  // namespace ovms::serving
