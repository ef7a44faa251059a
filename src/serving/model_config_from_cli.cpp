#include "serving/model_config_from_cli.h"

#include <filesystem>

#include "serving/shape_config.h"

namespace ovms::serving {

std::string modelCacheDir(const ServerSettings& settings) {
  if (!settings.cache_dir.empty()) return settings.cache_dir;
  std::error_code ec;
  return std::filesystem::is_directory("/opt/cache", ec) ? std::string("/opt/cache") : std::string();
}

Status modelConfigFromCli(const ServerSettings& settings, ModelConfig* out) {
  const ModelCliSettings& cli = settings.model;
  ModelConfig c;
  c.name = cli.model_name;
  c.base_path = cli.model_path;
  c.batch_size = cli.batch_size;
  c.shape = cli.shape;
  c.layout = cli.layout;
  c.cache_dir = modelCacheDir(settings);
  {
    // Unparsable shape / batch_size / layout stop the server in single-model mode (§1.2).
    ShapeConfig shape;
    BatchConfig batch;
    LayoutConfig layout;
    Status st = c.shape ? parseShapeConfig(*c.shape, &shape) : Status(StatusCode::OK);
    if (st.ok() && c.batch_size) st = parseBatchSize(*c.batch_size, &batch);
    if (st.ok() && c.layout) st = parseLayoutConfig(*c.layout, &layout);
    if (!st.ok()) return st;
  }
  if (cli.nireq) c.nireq = *cli.nireq;
  if (cli.warmup_iterations) c.warmup_iterations = *cli.warmup_iterations;
  if (cli.max_queued_requests) c.max_queued_requests = *cli.max_queued_requests;
  if (cli.target_device) c.target_device = *cli.target_device;
  c.stateful = cli.stateful;
  if (cli.max_sequence_number) c.max_sequence_number = *cli.max_sequence_number;
  if (cli.idle_sequence_cleanup) c.idle_sequence_cleanup = *cli.idle_sequence_cleanup;
  if (cli.low_latency_transformation) c.low_latency_transformation = *cli.low_latency_transformation;
  if (cli.model_version_policy) {
    Status st = parseVersionPolicy(*cli.model_version_policy, &c.policy);
    if (!st.ok()) return st;
  }
  if (cli.plugin_config) {
    Status st = parsePluginConfig(*cli.plugin_config, &c.plugin_config);
    if (!st.ok()) return st;
  }
  *out = std::move(c);
  return StatusCode::OK;
}

}  // namespace ovms::serving
