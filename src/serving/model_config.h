#pragma once
// What the server was told about one model (CLI single-model flags or one config.json entry),
// already parsed and validated.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ovms::serving {

struct VersionPolicy {
  enum class Kind { LATEST, SPECIFIC, ALL } kind = Kind::LATEST;
  int64_t num_versions = 1;
  std::vector<int64_t> versions;
  // Which of the versions found on disk the policy asks for (ascending).
  std::vector<int64_t> select(const std::vector<int64_t>& on_disk) const;
  bool operator==(const VersionPolicy&) const = default;
};

// Merging concurrent requests along dim 0 into one engine run (serving/dynamic_batcher.h; Triton's
// names, not an OVMS option). Present in ModelConfig only when config.json asks for it.
struct DynamicBatchingConfig {
  uint32_t max_batch_size = 8;              // rows (dim 0 summed) of one merged run
  uint64_t max_queue_delay_microseconds = 0;  // how long the oldest queued request may wait for more
  std::vector<uint32_t> preferred_batch_sizes;  // a batch of one of these sizes runs at once
  bool operator==(const DynamicBatchingConfig&) const = default;
};
std::string describeDynamicBatching(const std::optional<DynamicBatchingConfig>& config);

struct ModelConfig {
  std::string name;
  std::string base_path;
  VersionPolicy policy;
  std::optional<std::string> batch_size;   // raw OVMS syntax
  std::optional<std::string> shape;
  std::optional<std::string> layout;
  uint32_t nireq = 0;                      // 0 = auto
  // Requests that may wait for an infer slot while all nireq are busy; past it they are refused at
  // once (429 / RESOURCE_EXHAUSTED). -1 = no bound (the default, as OVMS queues every request).
  int64_t max_queued_requests = -1;
  std::string target_device = "CPU";
  std::map<std::string, std::string> plugin_config;
  std::string cache_dir;                   // compiled-model cache (--cache_dir, or /opt/cache); "" = off
  uint32_t warmup_iterations = 0;          // inferences on generated inputs before a version is AVAILABLE (not in OVMS)
  std::optional<DynamicBatchingConfig> dynamic_batching;  // off unless configured (not in OVMS)
  // Stateful models (OVMS 2021.3 - 2026.2.1; docs/stateful.md): one state per sequence_id.
  bool stateful = false;
  uint32_t max_sequence_number = 500;      // sequences held at once per version
  bool idle_sequence_cleanup = true;       // subject to the sequence cleaner (--sequence_cleaner_poll_wait_minutes)
  bool low_latency_transformation = false; // accepted; state is already explicit in our graphs (docs/stateful.md)
  // Fields whose change forces a reload of every version (§4.4).
  bool sameLoadSettings(const ModelConfig& o) const {
    return name == o.name && base_path == o.base_path && batch_size == o.batch_size && shape == o.shape &&
           layout == o.layout && nireq == o.nireq && max_queued_requests == o.max_queued_requests &&
           target_device == o.target_device && plugin_config == o.plugin_config &&
           warmup_iterations == o.warmup_iterations && dynamic_batching == o.dynamic_batching && stateful == o.stateful &&
           max_sequence_number == o.max_sequence_number && idle_sequence_cleanup == o.idle_sequence_cleanup &&
           low_latency_transformation == o.low_latency_transformation;
  }
  // "field: old -> new" for every field that differs from `o` (the newer config), for reload logs.
  std::vector<std::string> changesTo(const ModelConfig& o) const;
};

// Human-readable forms for logs.
std::string describePolicy(const VersionPolicy& policy);
std::string describeVersions(const std::vector<int64_t>& versions);

// Parses a model_version_policy JSON text ({"latest":{"num_versions":2}} ...).
Status parseVersionPolicy(const std::string& json, VersionPolicy* out);
// Parses a plugin_config JSON object text; values become strings.
Status parsePluginConfig(const std::string& json, std::map<std::string, std::string>* out);

}  // namespace ovms::serving
