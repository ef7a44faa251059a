#pragma once
// Single-model mode: the `ovms` command line's model flags turned into a ModelConfig.
#include "common/status.h"
#include "serving/cli.h"
#include "serving/model_config.h"

namespace ovms::serving {

// Unparsable shape / batch_size / layout / model_version_policy / plugin_config fail with their
// status (the server then exits, §1.2). cache_dir is --cache_dir, else /opt/cache when that
// directory exists, else off (§1.1).
Status modelConfigFromCli(const ServerSettings& settings, ModelConfig* out);

// The model cache directory every model uses (--cache_dir, or /opt/cache when it exists, or "").
std::string modelCacheDir(const ServerSettings& settings);

}  // namespace ovms::serving
